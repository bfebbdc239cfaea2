#!/usr/bin/env bash
# ctrmig migrate (plain mode) against the manual pipe it replaces,
#   ctrmig checkpoint -e - NAME | ssh HOST ctrmig restore -i -   (then rm here),
# and migrate --lazy (post-copy),
# side by side in one run, through ssh to 127.0.0.1 (an sshd the bench starts
# with its own config and keys on a free port; never the system's), on a
# container holding SIZE MiB (half random, half zero pages).
#   bench/migrate.sh [-n RUNS] [SIZE_MIB...]      (default: -n 3 64 256 1024)
# Prints medians of downtime and total time, and ratios migrate / manual.
#   downtime: migrate's own figure (--print-stats: from just before runc
#             checkpoint to the target's restore returning); for the manual
#             pipe, the wall time of the pipe (the freeze starts with it and
#             the container runs once restore -i returns).
#   total:    wall time of the command; for the manual side, the pipe plus
#             'rm' of the checkpointed container here, which migrate also does.
# Both sides are on one host, so migrate waits for the source's address and
# cgroup to be released before it streams (counted in its downtime); the
# manual pipe does not, and wins that race only because its export takes long.
# --lazy's container has --network none: on one host the frozen source would
# hand its address over to the copy (CNI DEL, ~0.1 s in its downtime), which
# a move between two hosts does not do;
# CRIU's page server needs 4 MiB pipes (fs.pipe-max-size, raised for the run
# where root lacks CAP_SYS_RESOURCE, as on this VM, and put back after).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
. "$TOP/tests/e2e/sshd.bash"

runs=3
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
sizes=("${@:-64 256 1024}")
read -r -a sizes <<< "${sizes[*]}"
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "bench: needs openssh-server (make deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/ctrmig-bench.XXXXXX)
root="$work/store"
root_b="$work/store-b"
# The stores live in memory on both sides, as in bench/archive.sh.
mount -t tmpfs -o size=8g ctrmig-bench "$work"
sshd_dir="$work/sshd"
pipe_max=$(cat /proc/sys/fs/pipe-max-size)
[ "$pipe_max" -ge 4194304 ] || echo 4194304 > /proc/sys/fs/pipe-max-size
cleanup() {
    echo "$pipe_max" > /proc/sys/fs/pipe-max-size
    sshd_stop "$sshd_dir"
    "$CTRMIG" --root "$root" rm -af >/dev/null 2>&1 || true
    "$CTRMIG" --root "$root_b" rm -af >/dev/null 2>&1 || true
    umount -l "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
c() { "$CTRMIG" --root "$root" "$@"; }
cb() { "$CTRMIG" --root "$root_b" "$@"; }

sshd_start "$sshd_dir"
port=$SSHD_PORT
ssh_cmd=(ssh -i "$sshd_dir/client_key" -o UserKnownHostsFile="$sshd_dir/known_hosts"
         -o StrictHostKeyChecking=yes -o BatchMode=yes -p "$port")
# The same ctrmig on the far side, through the same ssh, for both sides.
remote="$work/remote-ctrmig"
printf '#!/bin/sh\nexec %q "$@"\n' "$CTRMIG" > "$remote"
chmod +x "$remote"

make_bench_rootfs "$work/rootfs"
c image import "$work/rootfs" bench >/dev/null
cb image import "$work/rootfs" bench >/dev/null

start_filler() { # mib name [run options]
    c run -d --name "$2" "${@:3}" bench /bin/memfill "$1" >/dev/null
    sleep "$(fill_wait "$1")"
    wait_ready c logs "$2"
}

bench_migrate() { # mib
    local name="m$1" out="$work/migrate.json"
    start_filler "$1" "$name"
    TIME_IT_OUT="$out" time_it c migrate --print-stats --ssh-command "${ssh_cmd[*]}" \
        --remote-root "$root_b" --remote-ctrmig "$remote" "$name" ssh://root@127.0.0.1 >> "$work/mig.total"
    stat_seconds downtime "$out" >> "$work/mig.down"
    cb rm -f "$name" >/dev/null
}

bench_lazy() { # mib
    local name="l$1" out="$work/lazy.json"
    start_filler "$1" "$name" --network none
    TIME_IT_OUT="$out" time_it c migrate --lazy --print-stats --ssh-command "${ssh_cmd[*]}" \
        --remote-root "$root_b" --remote-ctrmig "$remote" "$name" ssh://root@127.0.0.1 >> "$work/lazy.total"
    stat_seconds downtime "$out" >> "$work/lazy.down"
    cb rm -f "$name" >/dev/null
}

# The manual way as a whole: the pipe, then the checkpointed copy removed here.
bench_manual() { # mib
    local name="p$1"
    start_filler "$1" "$name"
    time_it sh -c "$(printf '%q ' "$CTRMIG") --root '$root' checkpoint -e - '$name' |
        $(printf '%q ' "${ssh_cmd[@]}") root@127.0.0.1 $(printf '%q' "$remote") --root '$root_b' restore -i - &&
        $(printf '%q ' "$CTRMIG") --root '$root' rm -f '$name'" >> "$work/man.total"
    cb rm -f "$name" >/dev/null
}

# The pipe's downtime: the pipe alone, the container removed here afterwards.
bench_manual_pipe() { # mib
    local name="q$1"
    start_filler "$1" "$name"
    time_it sh -c "$(printf '%q ' "$CTRMIG") --root '$root' checkpoint -e - '$name' |
        $(printf '%q ' "${ssh_cmd[@]}") root@127.0.0.1 $(printf '%q' "$remote") --root '$root_b' restore -i -" \
        >> "$work/man.down"
    c rm -f "$name" >/dev/null
    cb rm -f "$name" >/dev/null
}

printf '%-5s | %-10s %-10s %-6s | %-10s %-10s %-6s | %-10s %-10s\n' MiB "pipe down" "migr down" ratio \
    "pipe total" "migr total" ratio "lazy down" "lazy total"
for mib in "${sizes[@]}"; do
    # container memory, images and archive: see warm_memory in lib.sh
    WARM_MIB=$((3 * mib + 256))
    rm -f "$work"/*.total "$work"/*.down
    for i in $(seq "$runs"); do
        if [ $((i % 2)) -eq 1 ]; then
            settle; bench_manual_pipe "$mib"; settle; bench_manual "$mib"; settle; bench_migrate "$mib"
            settle; bench_lazy "$mib"
        else
            settle; bench_lazy "$mib"
            settle; bench_migrate "$mib"; settle; bench_manual "$mib"; settle; bench_manual_pipe "$mib"
        fi
    done
    pd=$(median < "$work/man.down"); md=$(median < "$work/mig.down")
    pt=$(median < "$work/man.total"); mt=$(median < "$work/mig.total")
    ld=$(median < "$work/lazy.down"); lt=$(median < "$work/lazy.total")
    printf '%-5s | %-10s %-10s %-6s | %-10s %-10s %-6s | %-10s %-10s\n' "$mib" "${pd}s" "${md}s" "$(ratio "$md" "$pd")" \
        "${pt}s" "${mt}s" "$(ratio "$mt" "$pt")" "${ld}s" "${lt}s"
done
echo "(medians of $runs runs; ratio = migrate / manual pipe; ssh to 127.0.0.1, $(ssh -V 2>&1 | cut -d, -f1);"
echo " stores on tmpfs; $(nproc) cores; $(criu --version | awk '/Version/ {print "CRIU " $2}'), $(runc --version | head -n1))"
