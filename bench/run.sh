#!/usr/bin/env bash
# run -d latency, command to running: ctrmig on its default network (a CNI
# ADD before runc), with --network none (a namespace with loopback only), and
# bare `runc run -d` of the same rootfs, side by side in one run.
#   bench/run.sh [-n RUNS]      (default: -n 11)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=11
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/ctrmig-bench.XXXXXX)
root="$work/store"
mount -t tmpfs -o size=2g ctrmig-bench "$work"
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    runc delete -f bench-run >/dev/null 2>&1 || true
    umount -l "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
make_runc_bundle "$work/bundle" "$work/rootfs" 1
: > "$work/bridge"; : > "$work/none"; : > "$work/runc"
for i in $(seq "$runs"); do
    time_it c run -d --name br bench /bin/memfill 1 >> "$work/bridge"
    time_it c run -d --name no --network none bench /bin/memfill 1 >> "$work/none"
    time_it runc run -d --bundle "$work/bundle" bench-run </dev/null >> "$work/runc" 2>/dev/null
    c rm -f br no >/dev/null
    runc delete -f bench-run >/dev/null 2>&1
done
rb=$(median < "$work/bridge"); rn=$(median < "$work/none"); rr=$(median < "$work/runc")
printf '%-22s %-9s %s\n' "run -d" "median" "ratio to runc run -d"
printf '%-22s %-9s %s\n' "runc run -d" "${rr}s" "1.00"
printf '%-22s %-9s %s\n' "ctrmig --network none" "${rn}s" "$(ratio "$rn" "$rr")"
printf '%-22s %-9s %s\n' "ctrmig (bridge)" "${rb}s" "$(ratio "$rb" "$rr")"
echo "(medians of $runs runs; the bridge row includes the CNI ADD of bridge, host-local, portmap, firewall, tuning)"
