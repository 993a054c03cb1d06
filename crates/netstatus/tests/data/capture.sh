#!/bin/sh
# Captures real netavark `setup` output for the netstatus golden tests.
# Run as root from this directory: ./capture.sh
# Everything happens in two throwaway network namespaces (a fake host and a
# container), which are deleted afterwards; the real host is not touched.
set -eu
NETAVARK=${NETAVARK:-/usr/lib/podman/netavark}
tag=pntns-capture-$$
host=$tag-host
ctr=$tag-ctr
cfg=$(mktemp -d /tmp/pntcap.XXXXXX)
cleanup() {
    for input in input-*.json; do
        ip netns exec "$host" "$NETAVARK" --config "$cfg" teardown "/run/netns/$ctr" <"$input" >/dev/null 2>&1 || true
    done
    ip netns delete "$ctr" 2>/dev/null || true
    ip netns delete "$host" 2>/dev/null || true
    rm -rf "$cfg"
}
trap cleanup EXIT
ip netns add "$host"
ip netns add "$ctr"
ip netns exec "$host" ip link set lo up
"$NETAVARK" --version >netavark-version.txt
for input in input-*.json; do
    out=setup-${input#input-}
    ip netns exec "$host" "$NETAVARK" --config "$cfg" setup "/run/netns/$ctr" <"$input" >"$out"
    ip netns exec "$host" "$NETAVARK" --config "$cfg" teardown "/run/netns/$ctr" <"$input"
    echo "captured $out"
done
