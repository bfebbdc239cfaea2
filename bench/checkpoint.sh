#!/usr/bin/env bash
# ctrmig checkpoint/restore against the bare runc checkpoint/restore they wrap,
# side by side in one run, on a container holding SIZE MiB (half random, half
# zero pages). Prints medians and ratios.
#   bench/checkpoint.sh [-n RUNS] [SIZE_MIB...]      (default: -n 5 256)
# The bare side gets the CRIU config ctrmig gives its containers (network
# locking with nftables where CRIU can), so that the ratios are ctrmig's own
# overhead; BARE_CRIU_CONF=default runs bare runc with CRIU's defaults instead.
# ctrmig's container is on its default network, so its restore takes the
# address again (CNI ADD); its checkpoint's monitor releases it (CNI DEL) in
# the background, which the bench lets finish before timing the restore. The
# bare side joins a namespace set up the same way once, outside the timings.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=5
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
sizes=("${@:-256}")
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/ctrmig-bench.XXXXXX)
root="$work/store"
# Both sides write their images to the same medium. By default that is a
# tmpfs: this VM's disk writeback varies by 2-4x from one 256 MiB dump to the
# next, which would drown the difference being measured. BENCH_ON_DISK=1
# measures on the disk instead.
medium="disk ($(df --output=fstype "$work" | tail -n 1))"
if [ -z "${BENCH_ON_DISK:-}" ]; then
    mount -t tmpfs -o size=8g ctrmig-bench "$work"
    medium=tmpfs
fi
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    runc delete -f bench-runc >/dev/null 2>&1 || true
    bare_netns_remove ctrmig-bench
    umount -l "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
bare_conf=$(bare_criu_conf ctrmig "$work/criu.conf")
bare_ns=$(bare_netns ctrmig-bench)

# bare runc: stdio on /dev/null, which CRIU can carry
bench_runc() { # mib
    local b="$work/bundle-$1"
    rm -rf "$b/img" "$b/work"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it runc checkpoint --image-path "$b/img" --work-path "$b/work" bench-runc >> "$work/rc"
    time_it runc restore -d --image-path "$b/img" --work-path "$b/work" --bundle "$b" bench-runc \
        </dev/null >> "$work/rr" 2>/dev/null
    runc delete -f bench-runc >/dev/null 2>&1
}

# ctrmig: the same program, with its monitor and log
bench_ctrmig() { # mib
    c run -d --name "b$1" bench /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready c logs "b$1"
    # --print-stats also says how long the runc call inside took
    TIME_IT_OUT="$work/stats" time_it c checkpoint --print-stats "b$1" >> "$work/cc"
    stat_seconds runtime_checkpoint_duration "$work/stats" >> "$work/cw"
    [ -z "${BENCH_VERBOSE:-}" ] || grep -E '"(frozen_time|memwrite_time)"' "$work/stats" | tr -d ' \n' >&2
    wait_released c "b$1"
    TIME_IT_OUT="$work/stats" time_it c restore --print-stats "b$1" >> "$work/cr"
    stat_seconds runtime_restore_duration "$work/stats" >> "$work/rw"
    c rm -f "b$1" >/dev/null
}

# Two comparisons: against a bare runc container started and checkpointed
# without ctrmig ("bare"), and against the runc call ctrmig itself makes, timed
# by ctrmig in the same run ("own"): the second is ctrmig's overhead alone.
printf '%-5s | %-9s %-9s %-6s %-9s %-6s | %-9s %-9s %-6s %-9s %-6s\n' "MiB" \
    "ckpt:bare" "ctrmig" "ratio" "own runc" "ratio" "rest:bare" "ctrmig" "ratio" "own runc" "ratio"
for mib in "${sizes[@]}"; do
    # container memory, images and archive: see warm_memory in lib.sh
    WARM_MIB=$((2 * mib + 256))
    make_runc_bundle "$work/bundle-$mib" "$work/rootfs" "$mib" "$bare_conf" "$bare_ns"
    : > "$work/rc" ; : > "$work/cc" ; : > "$work/rr" ; : > "$work/cr" ; : > "$work/cw" ; : > "$work/rw"
    for i in $(seq "$runs"); do
        # alternate which goes first, so neither always meets a warmer cache
        if [ $((i % 2)) -eq 1 ]; then settle; bench_runc "$mib"; settle; bench_ctrmig "$mib"
        else settle; bench_ctrmig "$mib"; settle; bench_runc "$mib"; fi
    done
    if [ -n "${BENCH_VERBOSE:-}" ]; then
        paste "$work/rc" "$work/cc" "$work/cw" "$work/rr" "$work/cr" "$work/rw" | sed "s/^/  runs: /" >&2
    fi
    rc=$(median < "$work/rc"); cc=$(median < "$work/cc")
    rr=$(median < "$work/rr"); cr=$(median < "$work/cr")
    cw=$(median < "$work/cw"); rw=$(median < "$work/rw")
    printf '%-5s | %-9s %-9s %-6s %-9s %-6s | %-9s %-9s %-6s %-9s %-6s\n' "$mib" \
        "${rc}s" "${cc}s" "$(ratio "$cc" "$rc")" "${cw}s" "$(ratio "$cc" "$cw")" \
        "${rr}s" "${cr}s" "$(ratio "$cr" "$rr")" "${rw}s" "$(ratio "$cr" "$rw")"
done
echo "(medians of $runs runs each; ratio = ctrmig / runc; ctrmig on its default network, bare runc in a configured netns; bare runc's CRIU config: ${BARE_CRIU_CONF:-ctrmig}; images on $medium; CRIU $(criu --version | awk '/Version/ {print $2}'), $(runc --version | head -n1))"
