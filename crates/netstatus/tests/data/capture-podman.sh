#!/bin/sh
# Captures real `podman inspect` NetworkSettings plus the exact netavark
# results podman received, for the netstatus podman golden tests.
# Run as root from this directory after /work/shared/tools/podman-peer.sh
# (podman 4.3 + offline image localhost/busybox): ./capture-podman.sh
#
# podman runs in a throwaway network namespace (the "host"; entered with
# nsenter --net, not `ip netns exec`, which remounts /sys and hides the
# cgroup mounts runc needs), so its
# bridges, addresses and firewall rules never touch the real host. A
# wrapper put first in helper_binaries_dir (via CONTAINERS_CONF) tees what
# netavark prints on `setup` into podman-setup-N.json.
set -eu
here=$(pwd)
tag=pntns-podcap-$$
work=$(mktemp -d /tmp/pntpodcap.XXXXXX)
cleanup() {
    nsenter --net="/run/netns/$tag" env CONTAINERS_CONF="$work/containers.conf" podman rm -f -t 0 pntpodcap-a pntpodcap-b >/dev/null 2>&1 || true
    nsenter --net="/run/netns/$tag" env CONTAINERS_CONF="$work/containers.conf" podman network rm -f pntpodnet >/dev/null 2>&1 || true
    ip netns delete "$tag" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/bin"
cat >"$work/bin/netavark" <<WRAP
#!/bin/sh
for a in "\$@"; do
    if [ "\$a" = setup ]; then
        n=\$(ls "$work"/setup-*.json 2>/dev/null | wc -l)
        /usr/lib/podman/netavark "\$@" | tee "$work/setup-\$n.json"
        exit \$?
    fi
done
exec /usr/lib/podman/netavark "\$@"
WRAP
chmod +x "$work/bin/netavark"
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
helper_binaries_dir = ["$work/bin", "/usr/lib/podman"]
CONF
ip netns add "$tag"
ip netns exec "$tag" ip link set lo up
pod() { nsenter --net="/run/netns/$tag" env CONTAINERS_CONF="$work/containers.conf" podman "$@"; }
pod --version >"$here/podman-version.txt"
pod network create --subnet 10.89.254.0/24 --subnet fd00:254::/64 --ipv6 pntpodnet >/dev/null
# a: the default network alone, ports published and exposed.
pod run -d --name pntpodcap-a --network podman:ip=10.88.254.10,mac=0a:58:0a:58:fe:0a \
    -p 8080-8081:80-81 -p 127.0.0.1:5353:53/udp --expose 443 localhost/busybox sleep 600 >/dev/null
# b: two networks, one dual stack with an alias.
pod run -d --name pntpodcap-b --network podman:ip=10.88.254.11,mac=0a:58:0a:58:fe:0b \
    --network pntpodnet:ip=10.89.254.9,ip=fd00:254::9,mac=0a:58:0a:59:fe:09,alias=web \
    localhost/busybox sleep 600 >/dev/null
for c in a b; do
    pod inspect --format '{{json .NetworkSettings}}' "pntpodcap-$c" >"$here/podman-inspect-$c.json"
done
pod network inspect podman pntpodnet --format '{{.Name}} {{.ID}}' >"$here/podman-networks.txt"
cp "$work/setup-0.json" "$here/podman-setup-a.json"
cp "$work/setup-1.json" "$here/podman-setup-b.json"
echo "captured podman-inspect-a.json podman-inspect-b.json"
