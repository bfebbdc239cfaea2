#!/usr/bin/env bats
# Running containers: run, ps, inspect, logs, top, stop, kill, start, rm.
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; setup_store; }
teardown() { teardown_store; }

@test "a detached counter: ps, inspect, logs, top, stop shows Exited, rm" {
    run ctrmig run -d --name web busybox sh -c "$COUNTER"
    [ "$status" -eq 0 ]
    local id=$output
    [[ "$id" =~ ^[0-9a-f]{64}$ ]]
    wait_for_count web 3

    run ctrmig ps
    [[ "$output" == *"${id:0:12}"*"busybox"*"Up "*"web"* ]]
    run ctrmig ps -q
    [ "$output" = "${id:0:12}" ]

    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    [ "$pid" -gt 1 ]
    # the pid is the counter's shell, in its own pid namespace
    grep -q 'sh' "/proc/$pid/comm"
    [ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.Name}} {{.Config.WorkingDir}}' web)" = "running web /" ]

    run ctrmig top web
    [ "$status" -eq 0 ]
    [[ "$output" == *"PID"* && "$output" == *"sh -c"* ]]

    run ctrmig stop -t 1 web
    [ "$status" -eq 0 ]
    run ctrmig ps -a
    [[ "$output" == *"Exited (137)"*"web"* ]]
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.ExitCode}}' web)" = "exited 137" ]
    run ctrmig ps -q
    [ -z "$output" ]

    # the log outlives the process
    run last_count web
    [ "$output" -ge 3 ]

    run ctrmig rm web
    [ "$status" -eq 0 ]
    [ ! -d "$CTR_ROOT/containers/$id" ]
    ! grep -q "$CTR_ROOT/containers/$id" /proc/self/mounts
}

@test "an attached run shows stdout and stderr apart and returns the exit status" {
    run --separate-stderr ctrmig run --rm busybox sh -c 'echo to-out; echo to-err >&2; exit 7'
    [ "$status" -eq 7 ]
    [ "$output" = "to-out" ]
    [ "$stderr" = "to-err" ]
    run ctrmig ps -a -q
    [ -z "$output" ]
}

@test "a container that exits on its own is Exited with its status; logs still work" {
    ctrmig run -d --name short busybox sh -c 'echo bye; exit 3' >/dev/null
    local i
    for i in $(seq 50); do
        [ "$(ctrmig inspect --format '{{.State.Status}}' short)" = exited ] && break
        sleep 0.1
    done
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.ExitCode}}' short)" = "exited 3" ]
    run ctrmig logs short
    [ "$output" = "bye" ]
    run ctrmig ps -a
    [[ "$output" == *"Exited (3)"* ]]
}

@test "run -d --rm removes the container when it exits" {
    local id
    id=$(ctrmig run -d --rm busybox true)
    local i
    for i in $(seq 50); do
        [ -d "$CTR_ROOT/containers/$id" ] || break
        sleep 0.1
    done
    [ ! -d "$CTR_ROOT/containers/$id" ]
}

@test "create then start; start again after it exited; logs -f ends with the container" {
    ctrmig create --name c busybox sh -c 'echo run; sleep 0.3' >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' c)" = created ]
    run ctrmig ps -a
    [[ "$output" == *"Created"* ]]
    ctrmig start c
    run timeout 20 "$CTRMIG_BIN" --root "$CTR_ROOT" logs -f c
    [ "$status" -eq 0 ]
    [ "$output" = "run" ]
    ctrmig start c
    run timeout 20 "$CTRMIG_BIN" --root "$CTR_ROOT" logs -f c
    [ "$output" = "run
run" ]
}

@test "-e, -w, --tmpfs and -v reach the container" {
    mkdir -p "$BATS_TEST_TMPDIR/vol"
    echo from-host > "$BATS_TEST_TMPDIR/vol/f"
    run ctrmig run --rm -e GREETING=hi -w /tmp --tmpfs /scratch -v "$BATS_TEST_TMPDIR/vol:/data:ro" \
        busybox sh -c 'echo $GREETING; pwd; grep " /scratch " /proc/mounts | cut -d" " -f3; cat /data/f; touch /data/g 2>/dev/null || echo read-only'
    [ "$status" -eq 0 ]
    [ "$output" = "hi
/tmp
tmpfs
from-host
read-only" ]
    run ctrmig run --rm -v "$BATS_TEST_TMPDIR/vol:/data" busybox sh -c 'echo w > /data/g'
    [ "$(cat "$BATS_TEST_TMPDIR/vol/g")" = w ]
}

@test "--network none has loopback only, up; --network host sees the host's" {
    run ctrmig run --rm --network none busybox sh -c 'ls /sys/class/net'
    [ "$output" = "lo" ]
    run ctrmig run --rm --network none busybox sh -c 'ip link show lo | grep -c UP'
    [ "$output" = 1 ]
    run ctrmig run --rm --network host busybox sh -c 'ls /sys/class/net | wc -l'
    [ "$output" -eq "$(ls /sys/class/net | wc -l)" ]
}

@test "files written in the container land in its overlay upper dir, not the image" {
    ctrmig run --name w busybox sh -c 'echo data > /root/new; rm /etc/group' >/dev/null
    local id img
    id=$(ctrmig inspect --format '{{.Id}}' w)
    img=$(ctrmig inspect --format '{{.Image}}' w)
    [ "$(cat "$CTR_ROOT/containers/$id/upper/root/new")" = data ]
    [ -c "$CTR_ROOT/containers/$id/upper/etc/group" ]   # overlay whiteout
    # the image's only layer still has it
    local layer
    layer=$(jq -r '.layers[0]' "$CTR_ROOT/images/$img/image.json")
    [ -f "$CTR_ROOT/layers/${layer#sha256:}/diff/etc/group" ]
}

@test "kill -s sends a signal; a process killed from outside shows as exited" {
    ctrmig run -d --name t busybox sh -c 'trap "echo got-usr1" USR1; while true; do sleep 0.1; done' >/dev/null
    sleep 0.5
    ctrmig kill -s USR1 t
    sleep 0.5
    [ "$(ctrmig logs t)" = got-usr1 ]
    kill -9 "$(ctrmig inspect --format '{{.State.Pid}}' t)"
    local i
    for i in $(seq 50); do
        [ "$(ctrmig inspect --format '{{.State.Status}}' t)" = exited ] && break
        sleep 0.1
    done
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.ExitCode}}' t)" = "exited 137" ]
}

@test "a container whose monitor was killed is not shown running forever" {
    ctrmig run -d --name m busybox sleep 1000 >/dev/null
    local id pid mon
    id=$(ctrmig inspect --format '{{.Id}}' m)
    pid=$(ctrmig inspect --format '{{.State.Pid}}' m)
    mon=$(sed -n 's/.*"monitor_pid": \([0-9]*\).*/\1/p' "$CTR_ROOT/containers/$id/container.json")
    kill -9 "$mon" "$pid"
    sleep 0.5
    [ "$(ctrmig inspect --format '{{.State.Status}}' m)" = exited ]
    run ctrmig ps -q
    [ -z "$output" ]
    run ctrmig rm m
    [ "$status" -eq 0 ]
    ! grep -q "$CTR_ROOT/containers/$id" /proc/self/mounts
}

@test "containers are named by name, full id, id prefix, or -l" {
    local id
    id=$(ctrmig create --name named busybox true)
    [ "$(ctrmig inspect --format '{{.Name}}' "$id")" = named ]
    [ "$(ctrmig inspect --format '{{.Name}}' "${id:0:6}")" = named ]
    ctrmig create --name newer busybox true >/dev/null
    [ "$(ctrmig inspect -l --format '{{.Name}}')" = newer ]
    run ctrmig create busybox true
    [ "$status" -eq 0 ]
    [ "$(ctrmig inspect --format '{{.Name}}' "$output")" = "ctr-${output:0:12}" ]
}

@test "rm never deletes through a mount left in a container's folder: it is detached" {
    local id keep="$BATS_TEST_TMPDIR/host-folder"
    id=$(ctrmig create --name left busybox true)
    mkdir -p "$keep" "$CTR_ROOT/containers/$id/leftover"
    echo precious > "$keep/file"
    # as a bind mount a killed CRIU or monitor could leave behind
    mount --bind "$keep" "$CTR_ROOT/containers/$id/leftover"
    run ctrmig rm left
    [ "$status" -eq 0 ] || { umount -l "$CTR_ROOT/containers/$id/leftover"; echo "$output" >&2; return 1; }
    [ "$(cat "$keep/file")" = precious ]
    ! grep -q " $CTR_ROOT/containers/$id/leftover " /proc/self/mounts
    [ ! -e "$CTR_ROOT/containers/$id" ]
}
