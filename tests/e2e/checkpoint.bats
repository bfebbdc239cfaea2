#!/usr/bin/env bats
# Checkpoint and restore in place, with real runc and CRIU.
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; require_criu; setup_store; }
teardown() {
    # what the /etc/criu/runc.conf test made, gone even when it failed
    [ -z "${MADE_RUNC_CONF:-}" ] || rm -f /etc/criu/runc.conf
    [ -z "${MADE_ETC_CRIU:-}" ] || rmdir /etc/criu
    teardown_store
}

status_of() { ctrmig inspect --format '{{.State.Status}}' "$1"; }

# Waits until the container has logged the line exactly n times.
wait_for_line() {
    local name=$1 line=$2 n=$3 tries=100
    while [ "$tries" -gt 0 ]; do
        [ "$(ctrmig logs "$name" | grep -cx "$line")" -ge "$n" ] && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    echo "$name never logged '$line' $n times" >&2
    return 1
}

# The lines a container logged, one number per line.
counts() { ctrmig logs "$1"; }

# After a restore the count goes on from where the checkpoint left it:
# the line after the checkpoint's last is that number plus one, never 1.
assert_counter_went_on() {
    local name=$1 at=$2
    wait_for_count "$name" $((at + 3))
    local next
    next=$(counts "$name" | awk -v at="$at" 'seen { print; exit } $0 == at { seen = 1 }')
    [ "$next" -eq $((at + 1)) ] || { echo "after $at came $next" >&2; return 1; }
}

@test "the counter goes on after checkpoint and restore; the log is one log" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 5
    run ctrmig checkpoint web
    [ "$status" -eq 0 ]
    [ "$output" = web ]
    [ "$(status_of web)" = checkpointed ]
    run ctrmig ps -a
    [[ "$output" == *"Exited (checkpointed)"* ]]
    [ "$(ctrmig inspect --format '{{.State.Checkpointed}} {{.State.Restorable}}' web)" = "true true" ]
    local at
    at=$(last_count web)
    sleep 0.5
    [ "$(last_count web)" = "$at" ]   # frozen: nothing runs

    run ctrmig restore web
    [ "$status" -eq 0 ]
    [ "$(status_of web)" = running ]
    assert_counter_went_on web "$at"
    # a restored container stops, exits and is removed like any other
    ctrmig stop -t 1 web
    [ "$(status_of web)" = exited ]
    ctrmig rm web
}

@test "--leave-running keeps it running; the checkpoint restores once the first is gone" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 5
    ctrmig checkpoint --leave-running web
    local at
    at=$(last_count web)
    [ "$(status_of web)" = running ]
    wait_for_count web $((at + 5))
    ctrmig stop -t 0 web
    local stopped_at
    stopped_at=$(last_count web)
    run ctrmig restore web
    [ "$status" -eq 0 ]
    sleep 1
    # it goes on from the checkpoint, not from where it was stopped, and not
    # from 1: the count drops back once, to just after the checkpoint
    local resumed
    resumed=$(counts web | awk 'NR > 1 && $0 < prev { print; exit } { prev = $0 }')
    [ -n "$resumed" ] && [ "$resumed" -gt 1 ] && [ "$resumed" -le $((at + 1)) ]
    [ "$(last_count web)" -gt "$resumed" ]
    [ "$stopped_at" -gt "$at" ]
}

@test "--keep lets the same checkpoint restore twice; without it the checkpoint is used up" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint web
    local at
    at=$(last_count web)
    ctrmig restore --keep web
    wait_for_count web $((at + 3))
    ctrmig stop -t 0 web
    ctrmig restore web
    wait_for_count web $((at + 3))
    ctrmig stop -t 0 web
    run ctrmig restore web
    assert_one_line_error
    [[ "$output" == *"has no checkpoint"* ]]
}

@test "--print-stats prints ctrmig's, runc's and CRIU's figures as JSON" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 2
    run --separate-stderr ctrmig checkpoint --print-stats web
    [ "$status" -eq 0 ]
    local f
    for f in ctrmig_checkpoint_duration runtime_checkpoint_duration freezing_time frozen_time \
             memdump_time memwrite_time pages_scanned pages_written; do
        [[ "$output" == *"\"$f\": "[0-9]* ]] || { echo "no $f in: $output"; return 1; }
    done
    [[ "$output" != *'"pages_written": 0,'* ]]
    run --separate-stderr ctrmig restore --print-stats web
    [ "$status" -eq 0 ]
    for f in ctrmig_restore_duration runtime_restore_duration forking_time restore_time pages_restored; do
        [[ "$output" == *"\"$f\": "[0-9]* ]] || { echo "no $f in: $output"; return 1; }
    done
}

@test "pre-checkpoint: fewer pages with --with-previous, or refused up front without dirty tracking" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 2
    if PATH="${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}:$PATH" criu check --feature mem_dirty_track >/dev/null 2>&1; then
        local full pre final
        full=$(ctrmig checkpoint -R --print-stats web | sed -n 's/.*"pages_written": \([0-9]*\).*/\1/p')
        ctrmig checkpoint -P web
        final=$(ctrmig checkpoint --with-previous --print-stats web | sed -n 's/.*"pages_written": \([0-9]*\).*/\1/p')
        [ "$final" -lt "$full" ]
    else
        local pid
        pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
        run ctrmig checkpoint -P web
        assert_one_line_error
        [[ "$output" == *"mem_dirty_track"* ]]
        run ctrmig checkpoint --with-previous web
        assert_one_line_error
        # untouched: same process, still counting, no checkpoint written
        [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.Pid}}' web)" = "running $pid" ]
        [ ! -e "$CTR_ROOT/containers/$(ctrmig inspect --format '{{.Id}}' web)/pre-checkpoint" ]
    fi
}

@test "tmpfs files, rootfs files, open files, pipes and a process tree survive" {
    # a pipeline of several processes; the writer keeps a file open on the
    # overlay rootfs and the reader logs what comes through the pipe
    ctrmig run -d --name tree --tmpfs /scratch busybox sh -c '
        echo in-tmpfs > /scratch/t; echo in-rootfs > /root/r
        exec 3>>/root/open.log
        i=0; while true; do i=$((i+1)); echo $i >&3; echo $i; sleep 0.1; done | while read n; do echo "piped $n"; done' >/dev/null
    sleep 1
    # the loop's "sleep 0.1" comes and goes every tick: count the others
    local nprocs
    nprocs=$(ctrmig top tree | tail -n +2 | grep -vc ' sleep 0\.1$')
    [ "$nprocs" -ge 3 ]
    ctrmig checkpoint tree
    local at
    at=$(ctrmig logs tree | tail -n 1 | cut -d' ' -f2)
    ctrmig restore tree
    sleep 1
    [ "$(ctrmig top tree | tail -n +2 | grep -vc ' sleep 0\.1$')" -eq "$nprocs" ]
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' tree)
    [ "$(nsenter -t "$pid" -m -r /bin/cat /scratch/t)" = in-tmpfs ]
    [ "$(nsenter -t "$pid" -m -r /bin/cat /root/r)" = in-rootfs ]
    # the pipe carried on: the number after the checkpoint's last is next
    ctrmig logs tree | grep -qx "piped $((at + 1))"
    # the open file carried on too, without restarting at 1
    [ "$(nsenter -t "$pid" -m -r /bin/grep -c '^1$' /root/open.log)" -eq 1 ]
    [ "$(nsenter -t "$pid" -m -r /bin/tail -n 1 /root/open.log)" -gt "$((at + 1))" ]
}

@test "a listening TCP server answers after restore" {
    ctrmig run -d --name srv busybox sh -c 'mkdir -p /www; echo hello-from-ctr > /www/index.html; exec httpd -f -p 8080 -h /www' >/dev/null
    sleep 0.5
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' srv)
    [ "$(nsenter -t "$pid" -n busybox wget -qO- http://127.0.0.1:8080/index.html)" = hello-from-ctr ]
    ctrmig checkpoint srv
    ctrmig restore srv
    pid=$(ctrmig inspect --format '{{.State.Pid}}' srv)
    [ "$(nsenter -t "$pid" -n busybox wget -qO- http://127.0.0.1:8080/index.html)" = hello-from-ctr ]
}

# The store's CRIU config, written at the first checkpoint.
criu_conf() { echo "$CTR_ROOT/criu.conf"; }
# ctrmig check's line about the network lock says this.
assert_netlock() {
    run ctrmig check
    [[ "$output" == *"ok      netlock    $1"* ]] || { echo "$output" >&2; return 1; }
}
nftables_lock_possible() {
    PATH="${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}:$PATH" \
        criu check --feature network_lock_nftables >/dev/null 2>&1
}

@test "CRIU gets ctrmig's criu.conf: nftables network lock where it can, lifted after restore" {
    [ -e /etc/criu/runc.conf ] && need "the administrator's /etc/criu/runc.conf decides here"
    ctrmig run -d --name srv busybox sh -c 'mkdir -p /www; echo hi > /www/i; exec httpd -f -p 8080 -h /www' >/dev/null
    sleep 0.5
    [ ! -e "$(criu_conf)" ]   # nothing is probed before a checkpoint needs it
    local id
    id=$(ctrmig inspect --format '{{.Id}}' srv)
    grep -q "\"org.criu.config\": \"$(criu_conf)\"" "$CTR_ROOT/containers/$id/bundle/config.json"
    ctrmig checkpoint -k srv
    local want=iptables
    if nftables_lock_possible; then
        grep -qx 'network-lock nftables' "$(criu_conf)"
        want=nftables
    else
        ! grep -q '^network-lock' "$(criu_conf)"
    fi
    # CRIU read the file for this dump, and locked the network with it
    grep -q "Parsing config file $(criu_conf)" "$CTR_ROOT/containers/$id/checkpoint-work/dump.log"
    assert_netlock "$want, from $(criu_conf)"
    ctrmig restore srv
    # the lock is lifted: the restored server answers
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' srv)
    [ "$(timeout 5 nsenter -t "$pid" -n busybox wget -qO- http://127.0.0.1:8080/i)" = hi ]
}

@test "a criu.conf the user edited stays as it is and CRIU uses it" {
    [ -e /etc/criu/runc.conf ] && need "the administrator's /etc/criu/runc.conf decides here"
    printf '# mine\nnetwork-lock iptables\n' > "$(criu_conf)"
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint -k web
    [ "$(cat "$(criu_conf)")" = "$(printf '# mine\nnetwork-lock iptables')" ]
    local id
    id=$(ctrmig inspect --format '{{.Id}}' web)
    grep -q "Parsing config file $(criu_conf)" "$CTR_ROOT/containers/$id/checkpoint-work/dump.log"
    assert_netlock "iptables, from $(criu_conf)"
    local at
    at=$(last_count web)
    ctrmig restore web
    assert_counter_went_on web "$at"
}

@test "with /etc/criu/runc.conf the administrator's CRIU options apply, not ctrmig's" {
    if [ ! -e /etc/criu/runc.conf ]; then
        [ -d /etc/criu ] || MADE_ETC_CRIU=1
        mkdir -p /etc/criu
        echo '# ctrmig test' > /etc/criu/runc.conf
        MADE_RUNC_CONF=1
    fi
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    local id
    id=$(ctrmig inspect --format '{{.Id}}' web)
    ! grep -q org.criu.config "$CTR_ROOT/containers/$id/bundle/config.json"
    ctrmig checkpoint web
    [ ! -e "$(criu_conf)" ]
    assert_netlock "CRIU's options come from /etc/criu/runc.conf"
    local at
    at=$(last_count web)
    ctrmig restore web
    assert_counter_went_on web "$at"
}

@test "an established TCP connection fails the checkpoint with CRIU's error; --tcp-established works" {
    ctrmig run -d --name conn busybox sh -c '
        mkdir -p /www; echo x > /www/x; httpd -p 8080 -h /www
        sleep 0.3; (sleep 1000; echo) | nc 127.0.0.1 8080 > /dev/null &
        i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null
    wait_for_count conn 5
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' conn)
    run ctrmig checkpoint conn
    assert_one_line_error
    [[ "$output" == *"Error (criu/"* ]]
    [[ "$output" == *"--tcp-established"* ]]
    [[ "$output" == *"full log: "*"dump.log"* ]]
    # the container was not harmed
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.Pid}}' conn)" = "running $pid" ]
    local at
    at=$(last_count conn)
    wait_for_count conn $((at + 2))

    ctrmig checkpoint --tcp-established conn
    at=$(last_count conn)
    ctrmig restore --tcp-established conn
    assert_counter_went_on conn "$at"
}

@test "Docker style: checkpoint create, ls, start --checkpoint, rm; with and without --checkpoint-dir" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    run ctrmig checkpoint create web first
    [ "$status" -eq 0 ]
    [ "$(status_of web)" = checkpointed ]
    local at
    at=$(last_count web)
    run ctrmig checkpoint ls web
    [ "$output" = "CHECKPOINT NAME
first" ]
    ctrmig start --checkpoint first web
    assert_counter_went_on web "$at"

    # a named checkpoint is kept: start from it again
    ctrmig stop -t 0 web
    ctrmig start --checkpoint first web
    wait_for_line web $((at + 1)) 2

    local dir="$BATS_TEST_TMPDIR/ckpts"
    run ctrmig checkpoint create --leave-running --checkpoint-dir "$dir" web second
    [ "$status" -eq 0 ]
    [ "$(status_of web)" = running ]
    [ -f "$dir/second/inventory.img" ]
    run ctrmig checkpoint ls --checkpoint-dir "$dir" web
    [ "$output" = "CHECKPOINT NAME
second" ]
    run ctrmig checkpoint create web first
    assert_one_line_error
    [[ "$output" == *"already exists"* ]]
    ctrmig stop -t 0 web
    ctrmig start --checkpoint second --checkpoint-dir "$dir" web
    [ "$(status_of web)" = running ]

    ctrmig checkpoint rm --checkpoint-dir "$dir" web second
    [ ! -e "$dir/second" ]
    ctrmig checkpoint rm web first
    run ctrmig checkpoint ls web
    [ "$output" = "CHECKPOINT NAME" ]
    run ctrmig start --checkpoint first web
    assert_one_line_error
}

@test "a container named create, ls or rm is addressed after --" {
    ctrmig run -d --name create busybox sh -c "$COUNTER" >/dev/null
    wait_for_count create 2
    run ctrmig checkpoint -- create
    [ "$status" -eq 0 ]
    [ "$(status_of create)" = checkpointed ]
    ctrmig restore -- create
    [ "$(status_of create)" = running ]
}

@test "restore refuses a running container, one with no checkpoint, and a missing CRIU" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    run ctrmig restore web
    assert_one_line_error
    [[ "$output" == *"running"* ]]
    [ "$(ctrmig inspect --format '{{.State.Status}} {{.State.Pid}}' web)" = "running $pid" ]

    ctrmig stop -t 0 web
    run ctrmig restore web
    assert_one_line_error
    [[ "$output" == *"has no checkpoint"* ]]
    [ "$(status_of web)" = exited ]

    # runc is there, CRIU is not
    ctrmig start web
    local bin="$BATS_TEST_TMPDIR/bin"
    mkdir -p "$bin"
    ln -s "$(command -v runc)" "$bin/runc"
    run env PATH="$bin:/usr/bin:/bin" CTRMIG_HELPER_DIR=/nonexistent "$CTRMIG_BIN" --root "$CTR_ROOT" checkpoint web
    assert_one_line_error
    [[ "$output" == *"criu not found"* ]]
    [ "$(status_of web)" = running ]
    ctrmig checkpoint web
    run env PATH="$bin:/usr/bin:/bin" CTRMIG_HELPER_DIR=/nonexistent "$CTRMIG_BIN" --root "$CTR_ROOT" restore web
    assert_one_line_error
    [[ "$output" == *"criu not found"* ]]
    [ "$(status_of web)" = checkpointed ]
    ctrmig restore web
    [ "$(status_of web)" = running ]
}

@test "checkpoint of a container that is not running is refused" {
    ctrmig create --name idle busybox true >/dev/null
    run ctrmig checkpoint idle
    assert_one_line_error
    [[ "$output" == *"not running"* ]]
}

@test "ctrmig killed in the middle of a checkpoint leaves the container running or restorable" {
    local delay
    # 0 kills it before the dump starts, the others during or after it
    for delay in 0 0.01 0.03 0.08; do
        ctrmig run -d --name "k$delay" busybox sh -c "$COUNTER" >/dev/null
        wait_for_count "k$delay" 2
        "$CTRMIG_BIN" --root "$CTR_ROOT" checkpoint "k$delay" >/dev/null 2>&1 &
        local cpid=$!
        sleep "$delay"
        kill -9 "$cpid" 2>/dev/null || true
        wait "$cpid" 2>/dev/null || true
        # runc and CRIU carry on without ctrmig; give them time to finish
        local i
        for i in $(seq 50); do pgrep -f "checkpoint.*k$delay" >/dev/null || break; sleep 0.1; done
        sleep 0.3
        local st
        st=$(status_of "k$delay")
        if [ "$st" = checkpointed ]; then
            local at
            at=$(last_count "k$delay")
            ctrmig restore "k$delay"
            assert_counter_went_on "k$delay" "$at"
        else
            [ "$st" = running ] || { echo "after a kill at ${delay}s: $st" >&2; return 1; }
            local at
            at=$(last_count "k$delay")
            wait_for_count "k$delay" $((at + 2))
        fi
        ctrmig rm -f "k$delay" >/dev/null
    done
}

@test "a zombie under a first process that does not reap checkpoints and restores" {
    ctrmig run -d --name z busybox sleep 1000 >/dev/null
    ctrmig exec -d z true
    local pid i
    pid=$(ctrmig inspect --format '{{.State.Pid}}' z)
    for i in $(seq 50); do ps -o stat= --ppid "$pid" | grep -q Z && break; sleep 0.1; done
    ps -o stat= --ppid "$pid" | grep -q Z
    ctrmig checkpoint z >/dev/null
    ctrmig restore z >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' z)" = running ]
}

@test "restore --lazy: running at once, its memory brought in by CRIU's lazy-pages daemon, then the checkpoint goes" {
    ctrmig run -d --name lazy busybox sh -c "big=\$(head -c 4000000 /dev/urandom | od -An -tx1 | tr -d ' \n'); $COUNTER" >/dev/null
    wait_for_count lazy 3
    ctrmig checkpoint lazy >/dev/null
    local last dir
    last=$(last_count lazy)
    dir=$(ctrmig inspect --format '{{.StoreDir}}' lazy)
    ctrmig restore --lazy lazy >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' lazy)" = running ]
    wait_for_count lazy $((last + 3))
    # the daemon served the pages and ended; then the checkpoint went
    local i
    for i in $(seq 100); do [ -d "$dir/checkpoint" ] || break; sleep 0.1; done
    [ ! -d "$dir/checkpoint" ]
    ! pgrep -f "__lazy-serve.*$dir" >/dev/null
    # --keep keeps the images after the daemon is done
    ctrmig checkpoint lazy >/dev/null
    ctrmig restore --lazy --keep lazy >/dev/null
    wait_for_count lazy $((last + 6))
    sleep 0.5
    [ -d "$dir/checkpoint" ]
}

@test "progress on a terminal for checkpoint -e and restore -i, none with -q or without a terminal" {
    ctrmig run -d --name p busybox sh -c "$COUNTER" >/dev/null
    wait_for_count p 3
    run script -qfec "$CTRMIG_BIN --root $CTR_ROOT checkpoint -e $BATS_TEST_TMPDIR/p.tar.zst p" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == *"writing the archive"*"MiB of"*"s left"* ]]
    ctrmig rm p >/dev/null
    run script -qfec "$CTRMIG_BIN --root $CTR_ROOT restore -q -i $BATS_TEST_TMPDIR/p.tar.zst" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" != *"reading the archive"* ]]
    ctrmig checkpoint p >/dev/null
    ctrmig rm p >/dev/null
    run script -qfec "$CTRMIG_BIN --root $CTR_ROOT restore -i $BATS_TEST_TMPDIR/p.tar.zst" /dev/null
    [[ "$output" == *"reading the archive"* ]]
    # not a terminal: nothing but the name
    ctrmig rm -f p >/dev/null
    run ctrmig restore -i "$BATS_TEST_TMPDIR/p.tar.zst"
    [ "$output" = p ]
}

# CRIU keeps its kernel probe in /run/criu.kdat only on a tmpfs; elsewhere
# ctrmig keeps it for CRIU (src/runtime/criu_kdat.c).
kdat_mounted() { grep -q ' /run/criu.kdat ' /proc/self/mountinfo; }
kdat_unmount() { while kdat_mounted; do umount /run/criu.kdat; done; }

@test "CRIU's kernel probe is kept across starts where /run is not a tmpfs, on root's own tmpfs" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 2
    local keep=/run/ctrmig/criu-kdat
    if [ "$(stat -f -c %T /run)" = tmpfs ]; then
        # CRIU keeps it itself: ctrmig mounts nothing
        kdat_unmount
        ctrmig checkpoint web >/dev/null
        ! kdat_mounted
        ctrmig restore web >/dev/null
        return 0
    fi
    # from nothing: the keeping tmpfs and the bind are made at the first start
    kdat_unmount
    umount "$keep" 2>/dev/null || true
    rm -rf "$keep"
    ctrmig checkpoint web >/dev/null
    [ "$(stat -f -c %T "$keep")" = tmpfs ]
    [ "$(stat -c %a "$keep")" = 700 ]
    kdat_mounted
    [ "$(stat -c %i /run/criu.kdat)" = "$(stat -c %i "$keep/criu.kdat")" ]
    criu check -v4 2>&1 | grep -q 'Loaded kdat cache from /run/criu.kdat'
    ctrmig restore web >/dev/null
    [ "$(grep -c ' /run/criu.kdat ' /proc/self/mountinfo)" = 1 ]   # once, not per start
    wait_for_count web 4

    # a new criu (another identity) has it written again and the new one bound
    echo stale > "$keep/criu-id"
    local before
    before=$(stat -c %i "$keep/criu.kdat")
    ctrmig checkpoint web >/dev/null
    [ "$(stat -c %i "$keep/criu.kdat")" != "$before" ]
    [ "$(stat -c %i /run/criu.kdat)" = "$(stat -c %i "$keep/criu.kdat")" ]
    [ "$(grep -c ' /run/criu.kdat ' /proc/self/mountinfo)" = 1 ]
    ctrmig restore web >/dev/null

    # a criu that could not write it is not asked again, nor bound
    local id
    id=$(cat "$keep/criu-id")
    kdat_unmount
    rm -f "$keep/criu.kdat"
    printf 'failed %s' "$id" > "$keep/criu-id"
    ctrmig checkpoint web >/dev/null
    ! kdat_mounted
    [ ! -e "$keep/criu.kdat" ]
    ctrmig restore web >/dev/null
    # a new identity (an upgrade) is asked again
    echo stale > "$keep/criu-id"
    ctrmig checkpoint web >/dev/null
    kdat_mounted
    ctrmig restore web >/dev/null
}
