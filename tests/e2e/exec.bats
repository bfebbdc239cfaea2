#!/usr/bin/env bats
# ctrmig exec: status codes, environment, working folder, user, stdin, a
# terminal, -l, and exec -d processes that a checkpoint carries (the seeds'
# walkthrough: a shell's background sleep survives checkpoint + restore).
bats_require_minimum_version 1.5.0
load helpers
load archive_helpers

# archive_helpers' setup: a store with busybox, and store B ("another host")

# The container's init must reap: exec -d's orphans become its children.
LOOP='while true; do sleep 0.1; done'

run_ctr() { ctrmig run -d --name "${1:-c}" busybox sh -c "$LOOP" >/dev/null; }

# A process whose command line is exactly $2 runs in the container $1 (store via $3...).
has_proc() { # name cmdline [top runner]
    local runner=${3:-ctrmig}
    "$runner" top "$1" | grep -q " $2\$"
}

@test "exec: the command's status, 126 and 127 as Docker, 125 for a stopped container" {
    run_ctr
    run ctrmig exec c true
    [ "$status" -eq 0 ]
    run ctrmig exec c sh -c 'exit 3'
    [ "$status" -eq 3 ]
    run ctrmig exec c sh -c 'exit 255'
    [ "$status" -eq 255 ]
    run -127 ctrmig exec c no-such-command
    [[ "$output" == *"no-such-command"*"not found"* ]]
    run ctrmig exec c /etc
    [ "$status" -eq 126 ]
    run ctrmig exec c /etc/passwd
    [ "$status" -eq 126 ]
    run ctrmig exec c sh -c 'kill -9 $$'
    [ "$status" -eq 137 ]
    ctrmig pause c >/dev/null
    run ctrmig exec c true
    assert_one_line_error
    [[ "$output" == *"paused"* ]]
    ctrmig unpause c >/dev/null
    ctrmig stop -t 0 c >/dev/null
    run ctrmig exec c true
    assert_one_line_error
    [[ "$output" == *"exec c: the container is exited, not running"* ]]
    run ctrmig exec nope true
    assert_one_line_error
    run ctrmig exec c
    assert_one_line_error
}

@test "exec: options are checked, --help works" {
    run ctrmig exec --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: ctrmig exec"* ]]
    run_ctr
    run ctrmig exec -d -t c true
    assert_one_line_error
    run ctrmig exec -e NOEQUALS c true
    assert_one_line_error
    run ctrmig exec -w relative c true
    assert_one_line_error
    run ctrmig exec --env-file /nonexistent c true
    assert_one_line_error
    # -t without a terminal on stdin, as Docker says it
    run ctrmig exec -t c true </dev/null
    assert_one_line_error
    [[ "$output" == *"the input device is not a TTY"* ]]
    # the command's own options are not exec's
    run ctrmig exec c ls -d /etc
    [ "$status" -eq 0 ] && [ "$output" = /etc ]
}

@test "exec: the container's environment, then --env-file, then -e" {
    ctrmig run -d --name c -e FROM_RUN=run -e OVER=run busybox sh -c "$LOOP" >/dev/null
    printf '# a comment\n\nFILE=file\nOVER=file\n  SPACED=yes\nFROM_HOST\n' > "$BATS_TEST_TMPDIR/env"
    FROM_HOST=host-value run ctrmig exec --env-file "$BATS_TEST_TMPDIR/env" -e CLI=cli c env
    [ "$status" -eq 0 ]
    [[ "$output" == *"FROM_RUN=run"* ]]
    [[ "$output" == *"FILE=file"* ]]
    [[ "$output" == *"SPACED=yes"* ]]
    [[ "$output" == *"FROM_HOST=host-value"* ]]
    [[ "$output" == *"CLI=cli"* ]]
    [[ "$output" == *"OVER=file"* ]]
    [[ "$output" == *"PATH=/usr/local/sbin"* ]]
    run ctrmig exec --env-file "$BATS_TEST_TMPDIR/env" -e OVER=cli c sh -c 'echo $OVER'
    [ "$output" = cli ]
}

@test "exec: -w, and the container's working folder otherwise" {
    ctrmig run -d --name c -w /tmp busybox sh -c "$LOOP" >/dev/null
    run ctrmig exec c pwd
    [ "$output" = /tmp ]
    run ctrmig exec -w /etc c pwd
    [ "$output" = /etc ]
}

@test "exec: -u by name and uid:gid, resolved in the container; the container's user otherwise" {
    run_ctr
    # a user the image does not have, added in the container itself
    ctrmig exec c sh -c 'echo "app:x:1234:1235::/tmp:/bin/sh" >> /etc/passwd; echo "app:x:1235:" >> /etc/group'
    run ctrmig exec -u app c id
    [ "$status" -eq 0 ]
    [[ "$output" == "uid=1234(app) gid=1235(app)"* ]]
    run ctrmig exec -u 4000:4001 c id -u
    [ "$output" = 4000 ]
    run ctrmig exec -u 4000:4001 c id -g
    [ "$output" = 4001 ]
    run ctrmig exec c id -u
    [ "$output" = 0 ]
    run ctrmig exec -u nosuchuser c id
    assert_one_line_error
    ctrmig run -d --name u -u 1234:1235 busybox sh -c "$LOOP" >/dev/null
    run ctrmig exec u id -u
    [ "$output" = 1234 ]
}

@test "exec: the container's capabilities, all with --privileged" {
    run_ctr
    local mine
    mine=$(ctrmig exec c sh -c 'grep CapEff /proc/1/status')
    run ctrmig exec c grep CapEff /proc/self/status
    [ "$output" = "$mine" ]
    run ctrmig exec --privileged c grep CapEff /proc/self/status
    [ "$output" != "$mine" ]
    [ "$output" = "CapEff:	$(grep CapBnd /proc/self/status | cut -f2)" ]
}

@test "exec: -i passes stdin; without -i the command reads /dev/null" {
    run_ctr
    run bash -c "printf 'one\ntwo\n' | '$CTRMIG_BIN' --root '$CTR_ROOT' exec -i c wc -l"
    [ "$status" -eq 0 ] && [ "$output" = 2 ]
    run bash -c "printf 'one\ntwo\n' | '$CTRMIG_BIN' --root '$CTR_ROOT' exec c wc -l"
    [ "$status" -eq 0 ] && [ "$output" = 0 ]
    # stdout and stderr go through apart
    run --separate-stderr ctrmig exec c sh -c 'echo out; echo err >&2'
    [ "$output" = out ] && [ "$stderr" = err ]
}

@test "exec: a signal to ctrmig reaches the command, which ends with it" {
    run_ctr
    "$CTRMIG_BIN" --root "$CTR_ROOT" exec c sh -c 'trap "echo got-term; exit 9" TERM; sleep 100 & wait' \
        > "$BATS_TEST_TMPDIR/out" &
    local pid=$! i
    for i in $(seq 50); do has_proc c "sleep 100" && break; sleep 0.1; done
    # a session does not hold the store's lock: a command that takes it runs
    timeout 20 "$CTRMIG_BIN" --root "$CTR_ROOT" create --name other busybox true >/dev/null
    kill -TERM "$pid"
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 9 ]
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = got-term ]
}

@test "exec -t: a terminal, its status passed on" {
    run_ctr
    run script -qfec "'$CTRMIG_BIN' --root '$CTR_ROOT' exec -t c sh -c 'tty; exit 7'" /dev/null
    [ "$status" -eq 7 ]
    [[ "$output" == *"/dev/pts/"* ]]
    run script -qfec "'$CTRMIG_BIN' --root '$CTR_ROOT' exec c sh -c 'tty; exit 0'" /dev/null
    [[ "$output" == *"not a tty"* ]]
}

@test "exec -l: the newest container" {
    run_ctr old
    run_ctr new
    run ctrmig exec -l hostname
    [ "$status" -eq 0 ]
    [ "$output" = "$(ctrmig inspect --format '{{.Id}}' new | cut -c1-12)" ]
    run -127 ctrmig exec -l c true # "c" is the command with -l
}

@test "exec -d: the command belongs to the container and survives checkpoint + restore, twice" {
    run_ctr
    run ctrmig exec -d c sleep 1000
    [ "$status" -eq 0 ] && [ -z "$output" ]
    has_proc c "sleep 1000"
    # its parent is the container's init, not a process outside
    [[ "$(ctrmig top c pid ppid args)" =~ [0-9]+\ +1\ +sleep\ 1000 ]]
    run -127 ctrmig exec -d c no-such-command
    ctrmig checkpoint c >/dev/null
    ! has_proc c "sleep 1000" 2>/dev/null
    ctrmig restore c >/dev/null
    has_proc c "sleep 1000"
    # a restored container has a time namespace of its own: a command exec'd
    # now must join it, or the next restore fails
    ctrmig exec -d c sleep 2000
    ctrmig checkpoint c >/dev/null
    ctrmig restore c >/dev/null
    has_proc c "sleep 1000"
    has_proc c "sleep 2000"
    # no leftovers of exec in the container's folder
    [ -z "$(find "$CTR_ROOT/containers" -maxdepth 2 -name 'exec-*')" ]
}

@test "exec -d: survives checkpoint -e and restore -i into another store" {
    run_ctr
    ctrmig exec -d c sleep 1000
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/c.tar.zst" c >/dev/null
    # one host here: the address goes with the container, as on a move
    ctrmig rm -f c >/dev/null
    b restore -i "$BATS_TEST_TMPDIR/c.tar.zst" >/dev/null
    has_proc c "sleep 1000" b
    b exec -d c sleep 2000
    b checkpoint -e "$BATS_TEST_TMPDIR/c2.tar.zst" c >/dev/null
    b rm -f c >/dev/null
    ctrmig restore -i "$BATS_TEST_TMPDIR/c2.tar.zst" >/dev/null
    has_proc c "sleep 1000"
    has_proc c "sleep 2000"
}

# The seeds' walkthrough: docker exec -it into a shell, start a background
# sleep, leave, checkpoint to an archive, restore on another host, top.
@test "exec -it: a shell's background sleep goes to another store with the container" {
    command -v tmux >/dev/null || need "tmux not installed (make deps)"
    run_ctr demo1
    local s="ctrmig-exec-$$-$BATS_TEST_NUMBER"
    tmux new-session -d -s "$s" -x 80 -y 24 \
        "'$CTRMIG_BIN' --root '$CTR_ROOT' exec -it demo1 sh; echo EXIT=\$? > '$BATS_TEST_TMPDIR/exit'"
    local i
    for i in $(seq 50); do tmux capture-pane -p -t "$s" | grep -q '#' && break; sleep 0.1; done
    tmux send-keys -t "$s" 'echo answer-$((6*7)); stty size' Enter
    tmux send-keys -t "$s" 'sleep 1000 &' Enter
    for i in $(seq 50); do tmux capture-pane -p -t "$s" | grep -q 'answer-42' && break; sleep 0.1; done
    tmux capture-pane -p -t "$s" | grep -qx '24 80'
    for i in $(seq 50); do has_proc demo1 "sleep 1000" && break; sleep 0.1; done
    tmux send-keys -t "$s" 'exit 5' Enter
    for i in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/exit" ] && break; sleep 0.1; done
    tmux kill-session -t "$s" 2>/dev/null || true
    [ "$(cat "$BATS_TEST_TMPDIR/exit")" = EXIT=5 ]
    has_proc demo1 "sleep 1000"
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/demo1.tar.zst" demo1 >/dev/null
    ctrmig rm -f demo1 >/dev/null
    b restore -i "$BATS_TEST_TMPDIR/demo1.tar.zst" >/dev/null
    run b top demo1
    [ "$status" -eq 0 ]
    [[ "$output" == *" sleep 1000"* ]]
}
