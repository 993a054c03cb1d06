#!/bin/sh
# The long fuzz run: the `validate::fuzz` proptest targets of the podnet lib test binary,
# round after round with fresh random seeds, CASES cases per target per round, until
# SECONDS_TOTAL have passed. Usage: long-run.sh TEST_BINARY LOG [SECONDS_TOTAL] [CASES]
# (the binary from `cargo test -p podnet --lib --no-run`, copied so rebuilds do not touch it).
bin=$1 log=$2 total=${3:-3600} cases=${4:-50000}
start=$(date +%s)
round=0
echo "long fuzz run: $(date -u +%FT%TZ), ${total}s budget, ${cases} cases per target per round, binary $(sha256sum "$bin" | cut -c1-16)" >"$log"
while [ $(( $(date +%s) - start )) -lt "$total" ]; do
    round=$((round + 1))
    t0=$(date +%s)
    out=$(PODNET_FUZZ_CASES=$cases "$bin" validate::fuzz --test-threads 1 2>&1)
    rc=$?
    echo "round $round: exit $rc, $(( $(date +%s) - t0 ))s, $(echo "$out" | grep 'test result')" >>"$log"
    echo "$out" | grep -E 'FAILED|panicked|minimal failing' >>"$log"
done
echo "end: $(date -u +%FT%TZ), $round rounds, $(( $(date +%s) - start ))s wall clock" >>"$log"
