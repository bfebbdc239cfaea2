#!/usr/bin/env bash
# The archive path on disk, as users have it (#15): side by side in one run,
# on a container holding SIZE MiB (half random, half zero pages), everything
# under /var/tmp (this VM's disk):
#   floor     runc checkpoint to a folder, runc restore from it: no archive
#   tar       runc checkpoint + tar -I 'zstd -T0' + sync; tar -x + runc restore
#   ctrmig    checkpoint -e (zstd, synced by ctrmig); restore -i in another store
#   podman    podman container checkpoint -e; podman container restore -i
#             (when podman is installed)
# Medians of RUNS, and ratios to the floor.
#   bench/archive_disk.sh [-n RUNS] [SIZE_MIB...]     (default: -n 3 256 1024)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"

runs=3
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
sizes=("${@:-256 1024}")
read -r -a sizes <<< "${sizes[*]}"
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ctrmig-bench.XXXXXX)
root="$work/store"
root_b="$work/store-b"
have_podman=false
command -v podman >/dev/null && have_podman=true
cleanup() {
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    "$CTRMIG" --root "$root_b" rm -af >/dev/null 2>&1 || true
    runc delete -f bench-runc >/dev/null 2>&1 || true
    ! $have_podman || podman rm -f bench-podman >/dev/null 2>&1 || true
    bare_netns_remove ctrmig-bench
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }
cb() { "$CTRMIG" --root "$root_b" "$@"; }

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
cb image import "$work/rootfs" bench >/dev/null
if $have_podman; then
    c image save -o "$work/bench.tar" bench
    podman load -q -i "$work/bench.tar" >/dev/null
    rm -f "$work/bench.tar"
fi
bare_conf=$(bare_criu_conf default "$work/criu.conf")
bare_ns=$(bare_netns ctrmig-bench)

bench_floor() { # mib
    local b="$work/bundle-$1"
    rm -rf "$b/img" "$b/work"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it sh -c "runc checkpoint --image-path '$b/img' --work-path '$b/work' bench-runc && sync -f '$b/img/inventory.img'" >> "$work/floor.ckpt"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    time_it runc restore -d --image-path "$b/img" --work-path "$b/work" --bundle "$b" bench-runc \
        </dev/null >> "$work/floor.rest" 2>/dev/null
    runc delete -f bench-runc >/dev/null 2>&1 || true
    rm -rf "$b/img" "$b/work"
}

bench_tar() { # mib
    local b="$work/bundle-$1" out="$work/runc.tar.zst"
    rm -rf "$b/img" "$b/work" "$b/img2" "$out"
    runc run -d --bundle "$b" bench-runc </dev/null >/dev/null 2>&1
    sleep "$(fill_wait "$1")"
    time_it sh -c "runc checkpoint --image-path '$b/img' --work-path '$b/work' bench-runc &&
        tar -I 'zstd -T0' -cf '$out' -C '$b/img' . && sync -f '$out'" >> "$work/tar.ckpt"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    rm -rf "$b/img"
    mkdir -p "$b/img2"
    time_it sh -c "tar -I 'zstd -T0' -xf '$out' -C '$b/img2' &&
        runc restore -d --image-path '$b/img2' --work-path '$b/work' --bundle '$b' bench-runc </dev/null >/dev/null 2>&1" \
        >> "$work/tar.rest"
    runc delete -f bench-runc >/dev/null 2>&1 || true
    rm -rf "$b/img" "$b/work" "$b/img2" "$out"
}

bench_ctrmig() { # mib
    local out="$work/ctrmig.tar.zst"
    rm -f "$out"
    c run -d --name "b$1" bench /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready c logs "b$1"
    time_it c checkpoint -e "$out" "b$1" >> "$work/ctrmig.ckpt"
    c rm -f "b$1" >/dev/null
    time_it cb restore -i "$out" >> "$work/ctrmig.rest"
    cb rm -f "b$1" >/dev/null
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

printf '%-5s | %-8s %-8s %-8s %-8s | %-8s %-8s %-8s %-8s | %s\n' "MiB" "ckpt:flr" "tar" "ctrmig" "podman" \
    "rest:flr" "tar" "ctrmig" "podman" "ctrmig ratios to floor (ckpt, restore); podman / ctrmig"
for mib in "${sizes[@]}"; do
    WARM_MIB=$((3 * mib + 256))
    make_runc_bundle "$work/bundle-$mib" "$work/rootfs" "$mib" "$bare_conf" "$bare_ns"
    rm -f "$work"/*.ckpt "$work"/*.rest
    for i in $(seq "$runs"); do
        settle; bench_floor "$mib"
        settle; bench_tar "$mib"
        settle; bench_ctrmig "$mib"
        if $have_podman; then settle; bench_podman "$mib"; fi
    done
    fc=$(median < "$work/floor.ckpt"); fr=$(median < "$work/floor.rest")
    tc=$(median < "$work/tar.ckpt"); tr=$(median < "$work/tar.rest")
    cc=$(median < "$work/ctrmig.ckpt"); cr=$(median < "$work/ctrmig.rest")
    pc=-; pr=-; pratio=-
    if $have_podman; then
        pc=$(median < "$work/podman.ckpt"); pr=$(median < "$work/podman.rest")
        pratio="$(ratio "$pc" "$cc")x, $(ratio "$pr" "$cr")x"
    fi
    printf '%-5s | %-8s %-8s %-8s %-8s | %-8s %-8s %-8s %-8s | %s, %s; %s\n' "$mib" \
        "${fc}s" "${tc}s" "${cc}s" "${pc}s" "${fr}s" "${tr}s" "${cr}s" "${pr}s" \
        "$(ratio "$cc" "$fc")" "$(ratio "$cr" "$fr")" "$pratio"
done
echo "(medians of $runs runs; on disk ($(df --output=fstype "$work" | tail -n 1)); $(nproc) cores;"
echo " $(criu --version | awk '/Version/ {print "CRIU " $2}'), $(runc --version | head -n1)$($have_podman && echo ", $(podman --version)"))"
