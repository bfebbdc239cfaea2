#!/usr/bin/env bats
# kill -9 in the middle of restore, restore -i and checkpoint -e: whatever the
# moment, ps tells the truth afterwards, the next command settles the store,
# and no file with process memory is left half-written.
bats_require_minimum_version 1.5.0
load helpers
load archive_helpers

# Whether the counter still counts: its log grows.
counting() { # name
    local a b
    a=$(b logs "$1" 2>/dev/null | wc -l)
    sleep 0.5
    b=$(b logs "$1" 2>/dev/null | wc -l)
    [ "$b" -gt "$a" ]
}

@test "restore killed with -9 at several points: ps shows what runs, the next command settles it" {
    local d status
    b run -d --name web busybox sh -c "$COUNTER" >/dev/null
    for d in 0 0.03 0.06 0.1 0.15 0.25; do
        b checkpoint web >/dev/null
        b restore web & local pid=$!
        sleep "$d"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        sleep 1 # a runc restore the killed ctrmig started finishes on its own
        local alive=0
        counting web && alive=1
        status=$(b ps -a --format json | jq -r '.[] | select(.Names == "web") | .State')
        if [ "$alive" = 1 ]; then
            [ "$status" = running ] || { echo "after ${d}s: counting, but ps says $status" >&2; return 1; }
        else
            [ "$status" != running ] || { echo "after ${d}s: not counting, but ps says running" >&2; return 1; }
            b restore web >/dev/null
        fi
        # a locked command settles the record
        b rm no-such-container 2>/dev/null || true
        ! grep -q launch_pending "$ROOT_B"/containers/*/container.json
        counting web
    done
}

@test "restore -i killed with -9: the next locked command removes what it staged" {
    counter_archive "$BATS_TEST_TMPDIR/c.tar.zst" >/dev/null
    local d
    for d in 0.01 0.05 0.1 0.2; do
        b restore -i "$BATS_TEST_TMPDIR/c.tar.zst" -n "copy${d#0.}" >/dev/null 2>&1 & local pid=$!
        sleep "$d"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        sleep 1 # a runc restore the killed ctrmig started finishes on its own
        # A locked command settles it: the copy runs, or it is gone with the
        # images it staged in memory (they cannot outlive the command).
        b rm no-such-container 2>/dev/null || true
        local name="copy${d#0.}" state
        state=$(b ps -a --format json | jq -r --arg n "$name" '.[] | select(.Names == $n) | .State')
        [ -z "$state" ] || [ "$state" = running ] || { echo "after ${d}s: $name is $state" >&2; return 1; }
        no_mem_stages "$ROOT_B"
        b rm -af >/dev/null
        [ -z "$(ls -A "$ROOT_B/containers")" ] || { echo "after ${d}s: $(ls -A "$ROOT_B/containers")" >&2; return 1; }
        ! grep -q " $ROOT_B/" /proc/self/mounts
    done
}

@test "checkpoint -e killed with -9: no FILE.tmp, and FILE only when it is whole" {
    local d f
    for d in 0.02 0.1 0.2 0.4; do
        f="$BATS_TEST_TMPDIR/k$d.tar.zst"
        ctrmig rm -f web >/dev/null 2>&1 || true
        ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
        wait_for_count web 2
        ctrmig checkpoint -e "$f" web >/dev/null 2>&1 & local pid=$!
        sleep "$d"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        [ ! -e "$f.tmp" ]
        if [ -e "$f" ]; then
            tar -tf "$f" | tail -n 1 | grep -qx ctrmig.manifest.sig
        fi
    done
}
