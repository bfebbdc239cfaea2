#!/usr/bin/env bats
# The everyday commands: top, pause/unpause, wait, restart, rename, diff, cp,
# stats, container prune, ps --filter/--format, and -l/--latest.
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; setup_store; }
teardown() { teardown_store; }

wait_exited() { # name
    local i
    for i in $(seq 100); do
        [ "$(ctrmig inspect --format '{{.State.Status}}' "$1")" = exited ] && return 0
        sleep 0.1
    done
    return 1
}

@test "top: Podman's columns, PIDs as the container sees them, descriptors" {
    ctrmig run -d --name t busybox sh -c 'sleep 1000 & while true; do sleep 0.1; done' >/dev/null
    sleep 0.5
    run ctrmig top t
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^USER\ +PID\ +PPID\ +%CPU\ +ELAPSED\ +TTY\ +TIME\ +COMMAND$ ]]
    # the container's first process is PID 1 to itself, with no parent inside
    [[ "$output" =~ $'\n'root\ +1\ +0\ +[0-9.]+\ +[0-9.a-z]+s\ +\?\ +[0-9a-z.]+\ +sh\ -c\ sleep ]]
    # the background sleep is its child
    [[ "$output" =~ $'\n'root\ +[0-9]+\ +1\ +.*sleep\ 1000 ]]
    run ctrmig top t pid,comm hpid
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^PID\ +COMMAND\ +HPID$ ]]
    local hpid
    hpid=$(ctrmig inspect --format '{{.State.Pid}}' t)
    [[ "$output" =~ $'\n'1\ +sh\ +$hpid ]]
    run ctrmig top -l %p %U
    [[ "${lines[0]}" =~ ^PID\ +USER$ ]]
    run ctrmig top t bogus
    assert_one_line_error
    [[ "$output" == *"unknown descriptor bogus"* ]]
    ctrmig stop -t 0 t >/dev/null
    run ctrmig top t
    assert_one_line_error
    [[ "$output" == *"not running"* ]]
}

@test "pause freezes a counter, unpause lets it go on; ps and inspect say paused" {
    ctrmig run -d --name c busybox sh -c "$COUNTER" >/dev/null
    wait_for_count c 3
    run ctrmig pause c
    [ "$status" -eq 0 ] && [ "$output" = c ]
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' c)" = "paused true false" ]
    [[ "$(ctrmig ps)" == *"Paused"*" c"* ]]
    [ "$(ctrmig ps --filter status=paused --format '{{.Names}}')" = c ]
    local a b
    a=$(last_count c)
    sleep 1
    b=$(last_count c)
    [ "$a" = "$b" ]
    run ctrmig pause c
    assert_one_line_error
    [[ "$output" == *"already paused"* ]]
    run ctrmig unpause -l
    [ "$status" -eq 0 ]
    wait_for_count c $((b + 3))
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.Paused}}' c)" = "running false" ]
    run ctrmig unpause c
    assert_one_line_error
    [[ "$output" == *"not paused"* ]]
}

@test "a paused container stops, and checkpoints to a restore that goes on counting" {
    require_criu
    ctrmig run -d --name c busybox sh -c "$COUNTER" >/dev/null
    wait_for_count c 3
    ctrmig pause c >/dev/null
    local n
    n=$(last_count c)
    run ctrmig checkpoint c
    [ "$status" -eq 0 ]
    run ctrmig restore c
    [ "$status" -eq 0 ]
    wait_for_count c $((n + 3))
    # the count went on from where it was frozen, not from 1
    run ctrmig logs c
    [ "$(printf '%s\n' "$output" | grep -cx 1)" -eq 1 ]
    ctrmig pause c >/dev/null
    run ctrmig stop -t 1 c
    [ "$status" -eq 0 ]
    [ "$(ctrmig inspect --format '{{.State.Status}}' c)" = exited ]
}

@test "wait prints the exit status, of one that runs and of one that has exited" {
    ctrmig run -d --name w busybox sh -c 'sleep 1; exit 3' >/dev/null
    run ctrmig wait w
    [ "$status" -eq 0 ] && [ "$output" = 3 ]
    run ctrmig wait -l
    [ "$output" = 3 ]
    ctrmig run -d --name w0 busybox true >/dev/null
    run ctrmig wait w w0
    [ "$output" = $'3\n0' ]
    run ctrmig wait nosuch
    assert_one_line_error
}

@test "restart keeps the name and id and starts the process afresh" {
    ctrmig run -d --name r busybox sh -c "$COUNTER" >/dev/null
    wait_for_count r 3
    local id pid
    id=$(ctrmig inspect --format '{{.Id}}' r)
    pid=$(ctrmig inspect --format '{{.State.Pid}}' r)
    run ctrmig restart -t 0 r
    [ "$status" -eq 0 ] && [ "$output" = r ]
    [ "$(ctrmig inspect --format '{{.Id}} {{.State.Status}}' r)" = "$id running" ]
    [ "$(ctrmig inspect --format '{{.State.Pid}}' r)" != "$pid" ]
    # an exited container is started again
    ctrmig stop -t 0 r >/dev/null
    run ctrmig restart -l
    [ "$status" -eq 0 ]
    [ "$(ctrmig inspect --format '{{.State.Status}}' r)" = running ]
}

@test "rename: running or not, same id; a taken or bad name is refused" {
    ctrmig run -d --name old busybox sleep 100 >/dev/null
    ctrmig create --name other busybox true >/dev/null
    local id
    id=$(ctrmig inspect --format '{{.Id}}' old)
    run ctrmig rename old new
    [ "$status" -eq 0 ]
    [ "$(ctrmig inspect --format '{{.Id}} {{.State.Status}}' new)" = "$id running" ]
    run ctrmig inspect old
    assert_one_line_error
    run ctrmig rename new other
    assert_one_line_error
    [[ "$output" == *"already in use"* ]]
    run ctrmig rename new 'bad name'
    assert_one_line_error
}

@test "diff lists exactly the changes made, A/C/D sorted" {
    ctrmig run --name d busybox sh -c 'echo x > /etc/newfile; echo y >> /etc/passwd; rm /etc/group; mkdir -p /srv/a; touch /srv/a/b' >/dev/null
    run ctrmig diff d
    [ "$status" -eq 0 ]
    [ "$output" = "C /etc
D /etc/group
A /etc/newfile
C /etc/passwd
A /srv
A /srv/a
A /srv/a/b" ] || [ "$output" = "C /etc
D /etc/group
A /etc/newfile
C /etc/passwd
C /srv
A /srv/a
A /srv/a/b" ]
    run ctrmig diff --format json -l
    [ "$(printf '%s' "$output" | jq -c .deleted)" = '["/etc/group"]' ]
    # a container that changed nothing has nothing to list
    ctrmig create --name clean busybox true >/dev/null
    run ctrmig diff clean
    [ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "cp both ways, running and stopped, docker cp's naming rules" {
    local h="$CTR_ROOT/host"
    mkdir -p "$h/d/sub" "$h/out"
    echo hello > "$h/f"
    echo deep > "$h/d/sub/x"
    ctrmig run -d --name c busybox sleep 1000 >/dev/null
    ctrmig cp "$h/f" c:/tmp/          # into a folder: keeps its name
    ctrmig cp "$h/f" c:/tmp/renamed   # a new name
    ctrmig cp "$h/d" c:/tmp           # a folder into a folder
    ctrmig cp "$h/d" c:/copy          # a folder as a new one
    ctrmig cp "$h/d/." c:/contents    # a folder's contents, as a new folder
    [ "$(ctrmig diff c | grep '^A ' | tr '\n' ' ')" = "A /contents A /contents/sub A /contents/sub/x A /copy A /copy/sub A /copy/sub/x A /tmp/d A /tmp/d/sub A /tmp/d/sub/x A /tmp/f A /tmp/renamed " ]
    ctrmig cp c:/tmp/d/sub/x "$h/out/"
    [ "$(cat "$h/out/x")" = deep ]
    ctrmig cp c:/tmp/renamed "$h/out/r"
    [ "$(cat "$h/out/r")" = hello ]
    ctrmig cp c:/contents "$h/out/tree"
    [ "$(cat "$h/out/tree/sub/x")" = deep ]
    # a stopped container's layer, mounted for the copy and unmounted after
    ctrmig stop -t 0 c >/dev/null
    ctrmig cp "$h/f" c:/stopped
    ctrmig cp c:/stopped "$h/out/s"
    [ "$(cat "$h/out/s")" = hello ]
    ! grep -q "$CTR_ROOT/containers/.*/rootfs" /proc/self/mounts
    run ctrmig cp "$h/d" c:/nonexistent/
    assert_one_line_error
    run ctrmig cp "$h/f" "$h/g"
    assert_one_line_error
}

@test "cp: a container symlink to a host path stays inside the container" {
    local h="$CTR_ROOT/host"
    mkdir -p "$h/target" "$h/out"
    echo secret > "$h/target/secret"
    echo new > "$h/f"
    ctrmig run --name evil busybox sh -c "ln -s $h/target /link; ln -s /etc/passwd /leak" >/dev/null
    # writing through the link: resolved in the container, where $h/target does not exist
    run ctrmig cp "$h/f" evil:/link/f
    assert_one_line_error
    [ ! -e "$h/target/f" ]
    # reading through it finds nothing of the host's
    run ctrmig cp evil:/link/secret "$h/out/"
    assert_one_line_error
    [ ! -e "$h/out/secret" ]
    # a symlink is copied as a link, never as its host target
    ctrmig cp evil:/leak "$h/out/leak"
    [ -L "$h/out/leak" ] && [ "$(readlink "$h/out/leak")" = /etc/passwd ]
    # replacing the link itself touches only the container
    ctrmig cp "$h/f" evil:/link
    [ "$(ls "$h/target")" = secret ]
    [ "$(cat "$h/target/secret")" = secret ]
}

@test "stats --no-stream: CPU and memory of running containers" {
    ctrmig run -d --name busy busybox sh -c 'while true; do :; done' >/dev/null
    ctrmig create --name idle busybox true >/dev/null
    run ctrmig stats --no-stream
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "ID"*"NAME"*"CPU %"*"MEM USAGE / LIMIT"*"MEM %"*"PIDS"* ]]
    [ "${#lines[@]}" -eq 2 ]
    # a shell spinning takes most of a core
    local cpu
    cpu=$(printf '%s\n' "${lines[1]}" | awk '{print $3}' | tr -d %)
    [ "${cpu%.*}" -ge 30 ]
    [[ "${lines[1]}" =~ busy\ +[0-9.]+%\ +[0-9.]+[kMG]?B\ /\ [0-9.]+[kMGT]?B\ +[0-9.]+%\ +1\  ]]
    run ctrmig stats --no-stream -a
    [[ "$output" == *"idle"*"--"* ]]
    run ctrmig stats --no-stream idle
    assert_one_line_error
}

@test "container prune removes created and exited, keeps running and checkpointed" {
    ctrmig create --name made busybox true >/dev/null
    ctrmig run --name done busybox true >/dev/null
    ctrmig run -d --name up busybox sleep 100 >/dev/null
    require_criu
    ctrmig run -d --name saved busybox sleep 100 >/dev/null
    ctrmig checkpoint saved >/dev/null
    # without a terminal to ask on, -f is needed
    run ctrmig container prune </dev/null
    assert_one_line_error
    [ "$(ctrmig ps -a -q | wc -l)" -eq 4 ]
    run ctrmig container prune -f
    [ "$status" -eq 0 ]
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
    [ "$(ctrmig container ls -a --format '{{.Names}}' | tr '\n' ' ')" = "up saved " ]
}

@test "container prune asks on a terminal: n keeps, y removes" {
    command -v script >/dev/null || need "script(1) is not installed (util-linux)"
    ctrmig create --name made busybox true >/dev/null
    printf 'n\n' | script -qec "$CTRMIG_BIN --root $CTR_ROOT container prune" /dev/null
    [ "$(ctrmig ps -a -q | wc -l)" -eq 1 ]
    printf 'y\n' | script -qec "$CTRMIG_BIN --root $CTR_ROOT container prune" /dev/null
    [ "$(ctrmig ps -a -q | wc -l)" -eq 0 ]
}

@test "ps --filter, --format, --no-trunc, --last, -l" {
    ctrmig run -d --name web1 busybox sleep 100 >/dev/null
    run ctrmig run --name job busybox sh -c 'exit 2'
    [ "$status" -eq 2 ]
    ctrmig create --name made busybox true >/dev/null
    [ "$(ctrmig ps --format '{{.Names}}')" = web1 ]
    [ "$(ctrmig ps --filter status=exited --format '{{.Names}} {{.ExitCode}}')" = "job 2" ]
    [ "$(ctrmig ps -a -f status=created -f status=exited --format '{{.Names}}' | tr '\n' ' ')" = "job made " ]
    [ "$(ctrmig ps -a -f 'name=^w' --format '{{.Names}}')" = web1 ]
    [ "$(ctrmig ps -a -f name=job -f status=running -q)" = "" ]
    [ "$(ctrmig ps -a -f ancestor=busybox -q | wc -l)" -eq 3 ]
    [ "$(ctrmig ps -a -f ancestor=other -q | wc -l)" -eq 0 ]
    local id
    id=$(ctrmig inspect --format '{{.Id}}' job)
    [ "$(ctrmig ps -a -f id="${id:0:8}" --format '{{.Names}}')" = job ]
    [ "$(ctrmig ps -a --no-trunc -f name=job --format '{{.ID}}')" = "$id" ]
    [ "$(ctrmig ps -a -f name=job --format '{{.ID}}')" = "${id:0:12}" ]
    [[ "$(ctrmig ps -a --no-trunc -f name=job)" == *"sh -c exit 2"* ]]
    [ "$(ctrmig ps -n 2 --format '{{.Names}}' | tr '\n' ' ')" = "job made " ]
    [ "$(ctrmig ps -l --format '{{.Names}} {{.State}}')" = "made created" ]
    run ctrmig ps -a --format 'table {{.Names}}\t{{.State}}' -f name=web1
    [ "$output" = $'NAMES\tSTATE\nweb1\trunning' ]
    run ctrmig ps --filter label=x
    assert_one_line_error
    run ctrmig ps --filter status=up
    assert_one_line_error
    run ctrmig ps --format '{{.Nope}}'
    assert_one_line_error
}

@test "-l/--latest picks the newest container" {
    ctrmig run -d --name first busybox sleep 100 >/dev/null
    ctrmig run -d --name second busybox sh -c "$COUNTER" >/dev/null
    wait_for_count second 2
    [ "$(ctrmig inspect -l --format '{{.Name}}')" = second ]
    run ctrmig logs -l
    [ "${lines[0]}" = 1 ]
    ctrmig pause -l >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' second)" = paused ]
    ctrmig unpause -l >/dev/null
    ctrmig stop -t 0 -l >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' second)" = exited ]
    [ "$(ctrmig inspect --format '{{.State.Status}}' first)" = running ]
    ctrmig start -l >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' second)" = running ]
    ctrmig kill -l >/dev/null
    wait_exited second
    run ctrmig rm -l
    [ "$status" -eq 0 ]
    [ "$(ctrmig ps -a --format '{{.Names}}')" = first ]
}

@test "every new command has --help, and names a missing container in one line" {
    local cmd
    for cmd in top pause unpause wait restart rename diff cp stats "container prune"; do
        run ctrmig $cmd --help
        [ "$status" -eq 0 ] || { echo "$cmd --help: $output"; return 1; }
        [[ "$output" == Usage:* ]] || { echo "$cmd --help: $output"; return 1; }
    done
    for cmd in top pause unpause wait restart diff stats; do
        run ctrmig $cmd nosuch
        assert_one_line_error
    done
    run ctrmig cp nosuch:/a /tmp/b
    assert_one_line_error
    run ctrmig container
    assert_one_line_error
    run ctrmig container frobnicate
    assert_one_line_error
}
