#!/usr/bin/env bats
# Terminals: run -it and attach through the container's monitor, driven by a
# real terminal (tmux); a shell keeps its variables and jobs across
# checkpoint and restore, in place and through an archive into another store.

load helpers
load archive_helpers

TMUX_SOCK="ctrmig-test-$$"
tm() { tmux -L "$TMUX_SOCK" "$@"; }

teardown() {
    tm kill-server 2>/dev/null || true
    "$CTRMIG_BIN" --root "$ROOT_B" rm -af >/dev/null 2>&1 || true
    grep -o " $ROOT_B/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$ROOT_B"
    forget_runc_state "$ROOT_B"
    teardown_store
}

# Runs a command in a new tmux window of the given size; its status lands in
# $BATS_TEST_TMPDIR/NAME.status when it ends.
window() { # name cols rows command...
    local name=$1 cols=$2 rows=$3
    shift 3
    tm new-session -d -s "$name" -x "$cols" -y "$rows" \
        "$*; echo \$? > $BATS_TEST_TMPDIR/$name.status; sleep 60"
}

# Waits until the window shows text (a fixed string).
screen_has() { # name text
    local i
    for i in $(seq 100); do
        tm capture-pane -p -t "$1" | grep -qF -- "$2" && return 0
        sleep 0.1
    done
    echo "window $1 never showed '$2':" >&2
    tm capture-pane -p -t "$1" >&2
    return 1
}

status_of() { # name
    local i
    for i in $(seq 100); do
        [ -s "$BATS_TEST_TMPDIR/$1.status" ] && { cat "$BATS_TEST_TMPDIR/$1.status"; return 0; }
        sleep 0.1
    done
    return 1
}

@test "run -it: a shell on a terminal, its size followed, detach, checkpoint and restore, attach again" {
    window one 120 30 "$CTRMIG_BIN --root $CTR_ROOT run -it --name sh busybox sh"
    screen_has one '/ #'
    tm send-keys -t one 'echo hi-$((40+2)); V=before-checkpoint; stty size' Enter
    screen_has one 'hi-42'
    screen_has one '30 120'
    # the window's size follows the user's terminal
    tm resize-window -t one -x 90 -y 20
    sleep 0.3
    tm send-keys -t one 'stty size' Enter
    screen_has one '20 90'
    # ctrl-p ctrl-q detaches; the shell goes on
    tm send-keys -t one C-p C-q
    screen_has one 'detached from sh'
    [ "$(status_of one)" = 0 ]
    [ "$(ctrmig inspect --format '{{.State.Status}}' sh)" = running ]
    # the terminal's output is in the log too
    ctrmig logs sh | grep -q 'hi-42'

    ctrmig checkpoint sh >/dev/null
    ctrmig restore sh >/dev/null
    window two 100 25 "$CTRMIG_BIN --root $CTR_ROOT attach sh"
    sleep 0.5
    tm send-keys -t two 'echo V=$V; stty size' Enter
    screen_has two 'V=before-checkpoint'
    screen_has two '25 100'
    tm send-keys -t two 'exit 7' Enter
    [ "$(status_of two)" = 7 ]
    [ "$(ctrmig inspect --format '{{.State.ExitCode}}' sh)" = 7 ]
}

@test "a terminal session moves through an archive into another store: same shell, same job" {
    window one 100 25 "$CTRMIG_BIN --root $CTR_ROOT run -it --name sh busybox sh"
    screen_has one '/ #'
    tm send-keys -t one 'V=carried; sleep 1000 &' Enter
    sleep 0.3
    tm send-keys -t one C-p C-q
    screen_has one 'detached from sh'
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/sh.tar.zst" sh >/dev/null
    ctrmig rm sh >/dev/null
    b restore -i "$BATS_TEST_TMPDIR/sh.tar.zst" >/dev/null
    b top sh | grep -q 'sleep 1000'
    window two 90 20 "CTRMIG_CONFIG_DIR=$ROOT_B/conf $CTRMIG_BIN --root $ROOT_B attach sh"
    sleep 0.5
    tm send-keys -t two 'echo V=$V; jobs; stty size' Enter
    screen_has two 'V=carried'
    screen_has two 'Running'
    screen_has two '20 90'
}

@test "run -i without a terminal: stdin through the monitor, the exit status back" {
    run bash -c "echo hello | $CTRMIG_BIN --root $CTR_ROOT run -i --rm busybox cat"
    [ "$status" -eq 0 ]
    [ "$output" = hello ]
    run bash -c "echo 'exit 3' | $CTRMIG_BIN --root $CTR_ROOT run -i --name three busybox sh"
    [ "$status" -eq 3 ]
    # attach to a -i container sends its input on
    ctrmig run -d -i --name cat busybox cat >/dev/null
    run bash -c "echo through-attach | $CTRMIG_BIN --root $CTR_ROOT attach cat"
    [ "$status" -eq 0 ]
    [ "$output" = through-attach ]
}

@test "attach errors: a stopped container, bad detach keys, a terminal without one" {
    ctrmig create --name idle -t busybox sh >/dev/null
    run ctrmig attach idle
    assert_one_line_error
    [[ "$output" == *"not running"* ]]
    ctrmig run -d -t --name tty busybox sh >/dev/null
    run ctrmig attach --detach-keys ctrl-1 tty
    assert_one_line_error
    run ctrmig attach tty < /dev/null
    assert_one_line_error
    [[ "$output" == *"not a TTY"* ]]
    # --no-stdin shows the output only, without a terminal
    run timeout 2 "$CTRMIG_BIN" --root "$CTR_ROOT" attach --no-stdin tty
    [ "$status" -eq 124 ]
}

@test "start -a: the output, and the container's exit status" {
    ctrmig create --name s busybox sh -c 'echo from-start; exit 4' >/dev/null
    run ctrmig start -a s
    [ "$status" -eq 4 ]
    [ "$output" = from-start ]
    run ctrmig start -a s idle-does-not-exist
    assert_one_line_error
}
