#!/usr/bin/env bash
# The README's demo: ctrmig's main job, end to end, on a busybox image it makes.
# Runs as root in its own store, which it removes at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
CTRMIG=${CTRMIG:-./ctrmig}
ROOT=$(mktemp -d /tmp/ctrmig-demo.XXXXXX)
WORK=$(mktemp -d /tmp/ctrmig-demo-work.XXXXXX)
cleanup() {
    "$CTRMIG" --root "$ROOT" rm -af >/dev/null 2>&1 || true
    rm -rf "$ROOT" "$WORK"
}
trap cleanup EXIT

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
step() { printf '\n%s$ %s%s\n' "$B" "$*" "$N"; }
c() { step "ctrmig $*"; "$CTRMIG" --root "$ROOT" "$@"; }

step "ctrmig check"
"$CTRMIG" check

scripts/busybox-rootfs.sh "$WORK/rootfs"
c image import "$WORK/rootfs" busybox
c image ls

# A shell that counts in memory: its state exists only inside the process.
c run -d --name counter busybox sh -c 'i=0; while true; do i=$((i+1)); echo "count $i"; sleep 0.2; done'
sleep 1.2
c ps
c inspect --format '{{.Name}} is {{.State.Status}} with pid {{.State.Pid}}' counter
c logs counter

# Freeze it to disk: memory, processes, the lot. The count stops.
c checkpoint counter
c ps -a
before=$("$CTRMIG" --root "$ROOT" logs counter | tail -n 1)
sleep 1
step "ctrmig logs counter | tail -n 1      # still $before: nothing runs"
"$CTRMIG" --root "$ROOT" logs counter | tail -n 1

# Bring it back: it goes on from the number it had, not from 1.
c restore counter
sleep 1
step "ctrmig logs counter | tail -n 6"
"$CTRMIG" --root "$ROOT" logs counter | tail -n 6
after=$("$CTRMIG" --root "$ROOT" logs counter | grep -A1 -x "$before" | tail -n 1)
echo "checkpointed at '$before', restored and went on with '$after'"
[ "${after#count }" -eq $(( ${before#count } + 1 )) ] || { echo "demo: the count did not go on" >&2; exit 1; }

# Carry it away: one archive, then a brand-new store (another host would do),
# and three copies that each go on from the saved count.
c checkpoint -e "$WORK/counter.tar.zst" counter
step "ls -l $WORK/counter.tar.zst"
ls -l "$WORK/counter.tar.zst"
saved=$("$CTRMIG" --root "$ROOT" logs counter | tail -n 1)
c rm -f counter
ROOT2=$(mktemp -d /tmp/ctrmig-demo2.XXXXXX)
c2() { step "ctrmig --root $ROOT2 $*"; "$CTRMIG" --root "$ROOT2" "$@"; }
trap 'cleanup; "$CTRMIG" --root "$ROOT2" rm -af >/dev/null 2>&1 || true; rm -rf "$ROOT2"' EXIT
c2 image import "$WORK/rootfs" busybox
c2 restore -i "$WORK/counter.tar.zst"
for n in copy1 copy2 copy3; do c2 restore -i "$WORK/counter.tar.zst" -n "$n"; done
sleep 1
c2 ps
for n in counter copy1 copy2 copy3; do
    first=$("$CTRMIG" --root "$ROOT2" logs "$n" | head -n 1)
    echo "$n: saved at '$saved', went on with '$first'"
    [ "${first#count }" -eq $(( ${saved#count } + 1 )) ] || { echo "demo: $n did not go on" >&2; exit 1; }
done
c2 rm -f counter copy1 copy2 copy3

# The seed's stateful web app: an HTTP counter on ctrmig's default network.
# It keeps its address across the move; copies get their own.
c run -d --name web busybox sh -c 'i=0; while true; do i=$((i+1)); printf "HTTP/1.0 200 OK\r\nContent-Length: ${#i}\r\n\r\n$i" | nc -l -p 80 >/dev/null; done'
ip=$("$CTRMIG" --root "$ROOT" inspect --format '{{.NetworkSettings.IPAddress}}' web)
c inspect --format '{{.NetworkSettings.IPAddress}}' web
get() { # url: asks until the server listens, then once
    local i
    for i in $(seq 50); do busybox wget -q -O - "$1" 2>/dev/null && echo && return 0; sleep 0.1; done
    echo "demo: no answer from $1" >&2; exit 1
}
for n in 1 2 3; do step "busybox wget -q -O - http://$ip/"; get "http://$ip/"; done
c checkpoint -e "$WORK/web.tar.zst" web
c rm web
c2 restore -i "$WORK/web.tar.zst"
c2 inspect --format '{{.NetworkSettings.IPAddress}}' web
step "busybox wget -q -O - http://$ip/      # the same address, the next number"
answer=$(get "http://$ip/")
echo "$answer"
[ "$answer" = 4 ] || { echo "demo: the web counter did not go on" >&2; exit 1; }
for n in 1 2 3; do
    c2 restore -i "$WORK/web.tar.zst" -n "replica$n"
    rip=$("$CTRMIG" --root "$ROOT2" inspect --format '{{.NetworkSettings.IPAddress}}' "replica$n")
    step "busybox wget -q -O - http://$rip/      # replica$n's own address"
    get "http://$rip/"
done
c2 ps
c2 rm -f web replica1 replica2 replica3
echo
echo "demo: done"
