#!/usr/bin/env bash
# ctrmig checkpoint -e / restore -i against bare runc checkpoint + tar and
# tar + runc restore, side by side in one run, on containers holding SIZE MiB
# (half random, half zero pages). Prints medians, archive sizes and ratios.
#   bench/archive.sh [-n RUNS] [SIZE_MIB...]     (default: -n 3 0 64 256 1024)
# The runc + tar czf (gzip) baseline runs at 256 MiB only: it is slow.
# Bare runc runs with CRIU's defaults, as plain runc does. ctrmig has CRIU
# lock the network with nftables (ctrmig-checkpoint(1)); BARE_CRIU_CONF=ctrmig
# gives bare runc that same CRIU config, so that the ratios are ctrmig's own
# cost and nothing else.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=3
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
sizes=("${@:-0 64 256 1024}")
read -r -a sizes <<< "${sizes[*]}"
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/ctrmig-bench.XXXXXX)
root="$work/store"
root_b="$work/store-b"
# The archive work happens in memory on both sides, as a staging area should.
mount -t tmpfs -o size=12g ctrmig-bench "$work"
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    "$CTRMIG" --root "$root_b" rm -af >/dev/null 2>&1 || true
    runc delete -f bench-runc >/dev/null 2>&1 || true
    bare_netns_remove ctrmig-bench
    umount -l "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }
cb() { "$CTRMIG" --root "$root_b" "$@"; }

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
cb image import "$work/rootfs" bench >/dev/null
bare_conf=$(bare_criu_conf default "$work/criu.conf")
# ctrmig's containers are on its default network; bare runc joins a namespace
# configured the same way once, outside the timings (lib.sh).
bare_ns=$(bare_netns ctrmig-bench)

size_of() { stat -c %s "$1" | awk '{ printf "%.1fM", $1 / 1048576 }'; }

# bare runc + tar with a compressor: checkpoint then pack; unpack then restore
bench_runc() { # mib tarflag out-prefix
    local b="$work/bundle-$1" out="$work/runc.$3"
    rm -rf "$b/img" "$b/work" "$b/img2" "$out"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it sh -c "runc checkpoint --image-path '$b/img' --work-path '$b/work' bench-runc &&
        tar $2 -cf '$out' -C '$b/img' ." >> "$work/$3.ckpt"
    size_of "$out" > "$work/$3.size"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    rm -rf "$b/img" # as ctrmig rm -f drops the local checkpoint
    mkdir -p "$b/img2"
    time_it sh -c "tar $2 -xf '$out' -C '$b/img2' &&
        runc restore -d --image-path '$b/img2' --work-path '$b/work' --bundle '$b' bench-runc </dev/null >/dev/null 2>&1" \
        >> "$work/$3.rest"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    # Neither side leaves files for the other's turn: on this VM, memory in
    # use slows CRIU's next page writes several-fold (see README, Speed).
    rm -rf "$b/img" "$b/work" "$b/img2" "$out"
}

bench_ctrmig() { # mib
    local out="$work/ctrmig.tar.zst"
    rm -f "$out"
    c run -d --name "b$1" bench /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready c logs "b$1"
    time_it c checkpoint -e "$out" "b$1" >> "$work/ctrmig.ckpt"
    size_of "$out" > "$work/ctrmig.size"
    c rm -f "b$1" >/dev/null
    time_it cb restore -i "$out" >> "$work/ctrmig.rest"
    cb rm -f "b$1" >/dev/null
    rm -f "$out"
}

printf '%-5s | %-9s %-9s %-9s %-9s | %-8s %-8s | %-9s %-9s %-9s %-8s | %s\n' "MiB" "zstd" "ctrmig" "ratio" "gzip" "ctrmig/" "" \
    "restore" "ctrmig" "ratio" "" "runc+zstd / ctrmig"
for mib in "${sizes[@]}"; do
    # container memory, images and archive: see warm_memory in lib.sh
    WARM_MIB=$((3 * mib + 256))
    make_runc_bundle "$work/bundle-$mib" "$work/rootfs" "$mib" "$bare_conf" "$bare_ns"
    rm -f "$work"/*.ckpt "$work"/*.rest
    for i in $(seq "$runs"); do
        if [ $((i % 2)) -eq 1 ]; then
            settle; bench_runc "$mib" --zstd zstd; settle; bench_ctrmig "$mib"
        else
            settle; bench_ctrmig "$mib"; settle; bench_runc "$mib" --zstd zstd
        fi
        if [ "$mib" = 256 ]; then settle; bench_runc "$mib" -z gzip; fi
    done
    zc=$(median < "$work/zstd.ckpt"); cc=$(median < "$work/ctrmig.ckpt")
    zr=$(median < "$work/zstd.rest"); cr=$(median < "$work/ctrmig.rest")
    gc=-; gratio=-
    if [ -f "$work/gzip.ckpt" ]; then
        gc="$(median < "$work/gzip.ckpt")s"
        gratio="$(ratio "${gc%s}" "$cc")x"
    fi
    printf '%-5s | %-9s %-9s %-9s %-9s | %-8s %-8s | %-9s %-9s %-9s %-8s | %s / %s\n' "$mib" \
        "${zc}s" "${cc}s" "$(ratio "$cc" "$zc")" "$gc" "$gratio" "" \
        "${zr}s" "${cr}s" "$(ratio "$cr" "$zr")" "" "$(cat "$work/zstd.size")" "$(cat "$work/ctrmig.size")"
done
echo "(medians of $runs runs; ratio = ctrmig / (runc + tar --zstd); 'ctrmig/' = how many times faster"
echo " ctrmig is than runc + tar czf; bare runc's CRIU config: ${BARE_CRIU_CONF:-default}; all on tmpfs; $(nproc) cores; $(criu --version | awk '/Version/ {print "CRIU " $2}'),"
echo " $(runc --version | head -n1), $(tar --version | head -n1), zstd $(zstd --version | grep -o 'v[0-9.]*'))"
