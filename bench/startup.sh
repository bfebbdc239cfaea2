#!/usr/bin/env bash
# Time until a service answers its first request, side by side in one run,
# for a service that takes seconds to start (bench/slowserve.c: SECONDS of
# work building MIB MiB of state, then HTTP on port 8080):
#   cold     ctrmig run -d, then the service builds its state
#   restore  ctrmig restore -i ARCHIVE into another store: the archive is
#            imported, CRIU reads all memory back, then the service runs
#   lazy     ctrmig restore -i ARCHIVE --lazy: imported the same way, but
#            running at once; CRIU's lazy-pages daemon brings the memory in
#            on demand, the rest in the background
# The archive comes from checkpoint -e of the cold-started service after its
# first answer. Stores and archive on disk under /var/tmp. The service is
# asked at its container's address on ctrmig's default network, by curl in a
# bounded loop (every 10 ms) once the command has returned. Medians of RUNS,
# ratios to the cold start, and for the restores the runc restore inside
# (from --print-stats): the rest is mostly the import of the archive.
#   bench/startup.sh [-n RUNS] [MIB [SECONDS]]     (default: -n 3 384 2.5)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=3
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
mib=${1:-384}
secs=${2:-2.5}
port=8080
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
criu check --feature uffd-noncoop >/dev/null 2>&1 ||
    { echo "bench: restore --lazy needs 'criu check --feature uffd-noncoop' to pass" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ctrmig-bench.XXXXXX)
root="$work/store"
root_b="$work/store-b"
archive="$work/service.tar.zst"
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    "$CTRMIG" --root "$root_b" rm -af >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }
cb() { "$CTRMIG" --root "$root_b" "$@"; }

make_bench_rootfs "$work/rootfs"
cc -O2 -static -o "$work/rootfs/bin/slowserve" "$TOP/bench/slowserve.c"
c image import "$work/rootfs" bench >/dev/null
cb image import "$work/rootfs" bench >/dev/null

# Runs a command that starts container NAME of a store, then asks the service
# until it answers. Prints the seconds until the command returned and until
# the first answer; leaves the start in t0, the address in ip and the
# command's output in $work/out.
t0=0 ip=
time_to_answer() { # ctrmig-function name command...
    local f=$1 name=$2 t1 t2 i answered=false
    shift 2
    sync
    warm_memory
    t0=$(now_ns)
    "$@" > "$work/out"
    t1=$(now_ns)
    ip=$("$f" inspect --format '{{.NetworkSettings.IPAddress}}' "$name")
    local stalled=0 ta
    for i in $(seq 3000); do
        ta=$(now_ns)
        if curl -sf --max-time 2 "http://$ip:$port/" 2>/dev/null | grep -q '^slowserve '; then
            answered=true
            break
        fi
        # a refused connection fails at once; one that hangs means the
        # address did not answer at all (no ARP reply yet), which would
        # count seconds of the host's neighbour timeouts against this side
        [ $(($(now_ns) - ta)) -lt 500000000 ] || stalled=$((stalled + 1))
        sleep 0.01
    done
    t2=$(now_ns)
    $answered || { echo "bench: $name at $ip:$port never answered" >&2; return 1; }
    [ "$stalled" = 0 ] || echo "bench: $* : $stalled request(s) to $ip timed out (address not answering): this run's time is not the service's" >&2
    awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.3f %.3f\n", (b - a) / 1e9, (c - a) / 1e9 }'
}

# A container gone: its address may come back with another MAC (a cold
# start), so the host must not keep sending to the old one.
gone() { # ctrmig-function name
    "$1" rm -f "$2" >/dev/null
    ip neigh flush to "$ip" 2>/dev/null || true
}

bench_cold() {
    time_to_answer c s c run -d --name s bench /bin/slowserve "$port" "$mib" "$secs" >> "$work/cold"
    # the archive for the restores, not timed
    rm -f "$archive"
    c checkpoint -e "$archive" s >/dev/null
    gone c s
}

bench_restore() {
    time_to_answer cb s cb restore -i "$archive" --print-stats >> "$work/restore"
    stat_seconds runtime_restore_duration "$work/out" >> "$work/restore-runc"
    gone cb s
}

# Also how long until the daemon is done, every page in (it then exits).
bench_lazy() {
    time_to_answer cb s cb restore -i "$archive" --lazy --print-stats >> "$work/lazy"
    stat_seconds runtime_restore_duration "$work/out" >> "$work/lazy-runc"
    local i
    for i in $(seq 6000); do
        pgrep -f "__lazy-serve.*$root_b" >/dev/null || break
        sleep 0.01
    done
    awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >> "$work/lazy-all"
    gone cb s
}

WARM_MIB=$((3 * mib + 256)) # see warm_memory in lib.sh
: > "$work/cold"; : > "$work/restore"; : > "$work/lazy"; : > "$work/lazy-all"
: > "$work/restore-runc"; : > "$work/lazy-runc"
for i in $(seq "$runs"); do
    settle; bench_cold
    # alternate which restore goes first, so neither always meets a warmer cache
    if [ $((i % 2)) -eq 1 ]; then settle; bench_restore; settle; bench_lazy
    else settle; bench_lazy; settle; bench_restore; fi
done
size=$(stat -c %s "$archive" | awk '{ printf "%.0f MiB", $1 / 1048576 }')
[ -z "${BENCH_VERBOSE:-}" ] || paste "$work/cold" "$work/restore" "$work/restore-runc" "$work/lazy" "$work/lazy-runc" "$work/lazy-all" | sed "s/^/  runs: /" >&2

col() { awk -v k="$2" '{ print $k }' "$work/$1" | median; } # file column
cold=$(col cold 2)
printf '%-26s | %-16s | %-15s | %-12s | %s\n' "" "command returned" "its runc call" "first answer" "ratio to cold"
row() { # label file runc-seconds
    local a
    a=$(col "$2" 2)
    printf '%-26s | %-16s | %-15s | %-12s | %s\n' "$1" "$(col "$2" 1)s" "$3" "${a}s" "$(ratio "$a" "$cold")"
}
row "cold start (run -d)" cold -
row "restore -i ARCHIVE" restore "$(median < "$work/restore-runc")s"
row "restore -i ARCHIVE --lazy" lazy "$(median < "$work/lazy-runc")s"
echo "(medians of $runs runs; slowserve $mib MiB, ${secs}s to start; archive $size (zstd), stores and archive on"
echo " disk ($(df --output=fstype "$work" | tail -n 1)); with --lazy every page was in after $(median < "$work/lazy-all")s; $(nproc) cores;"
echo " $(criu --version | awk '/Version/ {print "CRIU " $2}'), $(runc --version | head -n1))"
