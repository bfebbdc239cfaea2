#!/usr/bin/env bash
# The archive path, side by side in one run, on containers holding SIZE MiB
# (half random, half zero pages):
#   floor    runc checkpoint to a folder (its files fsynced), runc restore
#            from it: no archive at all
#   zstd     runc checkpoint + tar -I 'zstd -T0' (the archive fsynced);
#            tar -x + runc restore
#   ctrmig   checkpoint -e (zstd, fsynced by ctrmig); restore -i into a
#            second store, and restore --lazy -i of the same archive (running
#            before its memory is in; timed to running, then the daemon is let
#            finish before anything else is timed)
#   podman   podman container checkpoint -e / restore -i, if podman is
#            installed (on disk only; -P leaves it out)
#   gzip     runc checkpoint + tar czf, at 256 MiB only (it is slow)
# Everything is on disk (under /var/tmp) as users have it, unless -t puts it
# all on a tmpfs. The order of the sides turns every round. Prints medians,
# ratios (ctrmig against the floor and against zstd; Podman against
# ctrmig), the spread (min-max) of each side, and the archive sizes.
#   bench/archive.sh [-n RUNS] [-t] [-P] [SIZE_MIB...]   (default: -n 3 0 64 256 1024)
# BENCH_VERBOSE=1 prints every run's time too, in the order taken.
# Bare runc runs with CRIU's defaults, as plain runc does. ctrmig has CRIU
# lock the network with nftables (ctrmig-checkpoint(1)); BARE_CRIU_CONF=ctrmig
# gives bare runc that same CRIU config, so that the ratios are ctrmig's own
# cost and nothing else.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=3 tmpfs=false podman=true
while [ $# -gt 0 ]; do
    case $1 in
    -n) runs=$2; shift 2 ;;
    -t) tmpfs=true; shift ;;
    -P) podman=false; shift ;;
    *) break ;;
    esac
done
sizes=("${@:-0 64 256 1024}")
read -r -a sizes <<< "${sizes[*]}"
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
$tmpfs && podman=false
$podman && ! command -v podman >/dev/null && podman=false

if $tmpfs; then
    work=$(mktemp -d /tmp/ctrmig-bench.XXXXXX)
    mount -t tmpfs -o size=12g ctrmig-bench "$work"
else
    work=$(mktemp -d /var/tmp/ctrmig-bench.XXXXXX)
fi
root="$work/store"
root_b="$work/store-b"
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    "$CTRMIG" --root "$root_b" rm -af >/dev/null 2>&1 || true
    runc delete -f bench-runc >/dev/null 2>&1 || true
    ! $podman || podman rm -f bench-podman >/dev/null 2>&1 || true
    bare_netns_remove ctrmig-bench
    if $tmpfs; then umount -l "$work" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }
cb() { "$CTRMIG" --root "$root_b" "$@"; }

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
cb image import "$work/rootfs" bench >/dev/null
if $podman; then
    c image save -o "$work/bench.tar" bench
    podman load -q -i "$work/bench.tar" >/dev/null
    rm -f "$work/bench.tar"
fi
bare_conf=$(bare_criu_conf default "$work/criu.conf")
# ctrmig's containers are on its default network; bare runc joins a namespace
# configured the same way once, outside the timings (lib.sh).
bare_ns=$(bare_netns ctrmig-bench)

size_of() { stat -c %s "$1" | awk '{ printf "%.1fM", $1 / 1048576 }'; }

bench_floor() { # mib
    local b="$work/bundle-$1"
    rm -rf "$b/img" "$b/work"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it sh -c "runc checkpoint --image-path '$b/img' --work-path '$b/work' bench-runc &&
        sync '$b/img'/*" >> "$work/floor.ckpt"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    time_it runc restore -d --image-path "$b/img" --work-path "$b/work" --bundle "$b" bench-runc \
        </dev/null >> "$work/floor.rest" 2>/dev/null
    runc delete -f bench-runc >/dev/null 2>&1 || true
    rm -rf "$b/img" "$b/work"
}

# bare runc + tar with a compressor: checkpoint then pack; unpack then restore
bench_runc() { # mib tarflags side
    local b="$work/bundle-$1" out="$work/runc.$3"
    rm -rf "$b/img" "$b/work" "$b/img2" "$out"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it sh -c "runc checkpoint --image-path '$b/img' --work-path '$b/work' bench-runc &&
        tar $2 -cf '$out' -C '$b/img' . && sync '$out'" >> "$work/$3.ckpt"
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

bench_ctrmig() { # mib round
    local out="$work/ctrmig.tar.zst" lazy
    rm -f "$out"
    c run -d --name "b$1" bench /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready c logs "b$1"
    time_it c checkpoint -e "$out" "b$1" >> "$work/ctrmig.ckpt"
    size_of "$out" > "$work/ctrmig.size"
    c rm -f "b$1" >/dev/null
    # both restores of the one archive, in turns
    for lazy in $( (($2 % 2)) && echo "true false" || echo "false true"); do
        settle
        if $lazy; then
            time_it cb restore --lazy -i "$out" >> "$work/lazy.rest"
            settle # the daemon brings the rest in, then its stage goes
        else
            time_it cb restore -i "$out" >> "$work/ctrmig.rest"
        fi
        cb rm -f "b$1" >/dev/null
    done
    rm -f "$out"
}

bench_podman() { # mib
    local out="$work/podman.tar.zst"
    rm -f "$out"
    # the fully qualified name Podman has locally: never a registry lookup
    podman run -d --name bench-podman --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
        docker.io/library/bench:latest /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready podman logs bench-podman
    time_it podman container checkpoint -e "$out" bench-podman >> "$work/podman.ckpt"
    podman rm -f -t 0 bench-podman >/dev/null
    time_it podman container restore -i "$out" >> "$work/podman.rest"
    podman rm -f -t 0 bench-podman >/dev/null
    rm -f "$out"
}

# One round: every side once, starting with side number $2 (mod the count).
round() { # mib first
    local sides=(floor zstd ctrmig) i
    $podman && sides+=(podman)
    for i in $(seq 0 $((${#sides[@]} - 1))); do
        settle
        case ${sides[$(((i + $2) % ${#sides[@]}))]} in
        floor) bench_floor "$1" ;;
        zstd) bench_runc "$1" "-I 'zstd -T0'" zstd ;;
        ctrmig) bench_ctrmig "$1" "$2" ;;
        podman) bench_podman "$1" ;;
        esac
    done
}

med() { [ -s "$work/$1" ] && echo "$(median < "$work/$1")s" || echo -; }
spread() { [ -s "$work/$1" ] && sort -n "$work/$1" | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.2f-%.2f", a, b }' || echo -; }
num() { echo "${1%s}"; }

where=$($tmpfs && echo "on tmpfs" || echo "on disk ($(df --output=fstype "$work" | tail -n 1))")
printf '%-5s | %-8s %-8s %-8s %-8s | %-8s %-8s %-8s %-8s %-8s | %s\n' "MiB" "ckpt:flr" "zstd" "ctrmig" "podman" \
    "rest:flr" "zstd" "ctrmig" "lazy" "podman" \
    "ctrmig/floor; ctrmig/zstd; podman/ctrmig (ckpt, restore); lazy/floor"
spreads=""
for mib in "${sizes[@]}"; do
    # container memory, images and archive: see warm_memory in lib.sh
    WARM_MIB=$((3 * mib + 256))
    make_runc_bundle "$work/bundle-$mib" "$work/rootfs" "$mib" "$bare_conf" "$bare_ns"
    rm -f "$work"/*.ckpt "$work"/*.rest "$work"/*.size
    for i in $(seq "$runs"); do
        round "$mib" "$((i - 1))"
        if [ "$mib" = 256 ]; then settle; bench_runc "$mib" -z gzip; fi
    done
    fc=$(med floor.ckpt); fr=$(med floor.rest); zc=$(med zstd.ckpt); zr=$(med zstd.rest)
    cc=$(med ctrmig.ckpt); cr=$(med ctrmig.rest); pc=$(med podman.ckpt); pr=$(med podman.rest)
    lr=$(med lazy.rest)
    ratios="$(ratio "$(num "$cc")" "$(num "$fc")"), $(ratio "$(num "$cr")" "$(num "$fr")");"
    ratios+=" $(ratio "$(num "$cc")" "$(num "$zc")"), $(ratio "$(num "$cr")" "$(num "$zr")")"
    if $podman; then
        ratios+="; $(ratio "$(num "$pc")" "$(num "$cc")"), $(ratio "$(num "$pr")" "$(num "$cr")")"
    fi
    ratios+="; $(ratio "$(num "$lr")" "$(num "$fr")")"
    printf '%-5s | %-8s %-8s %-8s %-8s | %-8s %-8s %-8s %-8s %-8s | %s\n' "$mib" \
        "$fc" "$zc" "$cc" "$pc" "$fr" "$zr" "$cr" "$lr" "$pr" "$ratios"
    line="$mib MiB: ckpt floor $(spread floor.ckpt), zstd $(spread zstd.ckpt), ctrmig $(spread ctrmig.ckpt)"
    $podman && line+=", podman $(spread podman.ckpt)"
    line+="; restore floor $(spread floor.rest), zstd $(spread zstd.rest), ctrmig $(spread ctrmig.rest)"
    line+=", lazy $(spread lazy.rest)"
    $podman && line+=", podman $(spread podman.rest)"
    line+="; archives: zstd $(cat "$work/zstd.size"), ctrmig $(cat "$work/ctrmig.size")"
    if [ -f "$work/gzip.ckpt" ]; then
        line+="; runc + tar czf: ckpt $(med gzip.ckpt) ($(ratio "$(median < "$work/gzip.ckpt")" "$(num "$cc")")x ctrmig), restore $(med gzip.rest)"
    fi
    spreads+="$line"$'\n'
    if [ -n "${BENCH_VERBOSE:-}" ]; then
        for f in "$work"/*.ckpt "$work"/*.rest; do
            echo "  $mib MiB $(basename "$f"): $(tr '\n' ' ' < "$f")" >&2
        done
    fi
done
echo "(medians of $runs runs, $where; spread, min-max in seconds:"
printf '%s' "$spreads"
echo " bare runc's CRIU config: ${BARE_CRIU_CONF:-default}; $(nproc) cores; $(criu --version | awk '/Version/ {print "CRIU " $2}'),"
echo " $(runc --version | head -n1), $(tar --version | head -n1), zstd $(zstd --version | grep -o 'v[0-9.]*')$($podman && echo ", $(podman --version)"))"
