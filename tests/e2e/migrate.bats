#!/usr/bin/env bats
# ctrmig migrate, plain mode, through a real sshd: each test starts its own on
# 127.0.0.1 with a free port, a host key and a client key it generates, its own
# config (never the system's sshd config or service), and stops it at the end.
# Store B stands for the other host. Traffic goes only to 127.0.0.1 and to the
# containers these tests make.

bats_require_minimum_version 1.5.0
load helpers
load archive_helpers
load net_helpers
load sshd

require_sshd() {
    [ -x /usr/sbin/sshd ] || need "openssh-server not installed (make deps)"
    command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need "openssh-client not installed (make deps)"
}

# Our sshd (sshd.bash) in $SSHD_DIR; sets SSH_CMD and the remote ctrmig.
start_sshd() {
    SSHD_DIR="$BATS_TEST_TMPDIR/sshd"
    sshd_start "$SSHD_DIR"
    SSH_CMD="ssh -i $SSHD_DIR/client_key -o UserKnownHostsFile=$SSHD_DIR/known_hosts -o StrictHostKeyChecking=yes -p $SSHD_PORT"
    # ctrmig as store B's host runs it: its own configuration folder
    cat > "$BATS_TEST_TMPDIR/remote-ctrmig" <<SH
#!/bin/sh
export CTRMIG_CONFIG_DIR='$ROOT_B/conf' PATH='$PATH'
${CTRMIG_HELPER_DIR:+export CTRMIG_HELPER_DIR='$CTRMIG_HELPER_DIR'}
exec '$CTRMIG_BIN' "\$@"
SH
    chmod +x "$BATS_TEST_TMPDIR/remote-ctrmig"
}

setup() {
    require_containers
    require_criu
    require_sshd
    setup_store
    ROOT_B=$(mktemp -d /tmp/ctrmig-e2e-b.XXXXXX)
    "$CTRMIG_BIN" --root "$ROOT_B" image import "$(busybox_rootfs)" busybox >/dev/null
    start_sshd
}

teardown() {
    [ -z "${STOPPED:-}" ] || kill -CONT $STOPPED
    [ -z "${TEST_NC:-}" ] || kill "$TEST_NC" 2>/dev/null || true
    [ -z "${TEST_NS:-}" ] || ip netns del "$TEST_NS" 2>/dev/null || true
    pipes_back
    [ -z "${SSHD_DIR:-}" ] || sshd_stop "$SSHD_DIR"
    "$CTRMIG_BIN" --root "$ROOT_B" rm -af >/dev/null 2>&1 || true
    grep -o " $ROOT_B/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$ROOT_B"
    forget_runc_state "$ROOT_B"
    teardown_store
}

DEST=ssh://root@127.0.0.1
mig() { # [options] container [dest]
    ctrmig migrate --ssh-command "$SSH_CMD" --remote-root "$ROOT_B" \
        --remote-ctrmig "$BATS_TEST_TMPDIR/remote-ctrmig" "$@"
}

# The counter goes on in store B from where it was here, not from 1.
counts_on_b() { # last count seen here
    local i first= last=
    for i in $(seq 100); do
        first=$(b logs web 2>/dev/null | head -n 1)
        last=$(b logs web 2>/dev/null | tail -n 1)
        [ -n "$first" ] && [ "$last" -ge $((first + 3)) ] && break
        sleep 0.1
    done
    [ -n "$first" ] && [ "$first" -gt "$1" ] && [ "$last" -ge $((first + 3)) ] ||
        { echo "store B's counter: first $first, last $last, here it was at $1" >&2; return 1; }
}

# The container runs in exactly one of the two stores.
assert_runs_only() { # a|b
    local here there
    here=$(ctrmig ps -q | wc -l)
    there=$(b ps -q | wc -l)
    if [ "$1" = a ]; then
        [ "$here" = 1 ] && [ -z "$(b ps -aq)" ] || { echo "here $here, there: $(b ps -a)" >&2; return 1; }
    else
        [ "$there" = 1 ] && [ -z "$(ctrmig ps -aq)" ] || { echo "there $there, here: $(ctrmig ps -a)" >&2; return 1; }
    fi
}

@test "a counting container moves into the second store through ssh: it counts on there, same id and address, gone here" {
    local id ip n
    id=$(ctrmig run -d --name web busybox sh -c "$COUNTER")
    wait_for_count web 5
    ip=$(ip_of ctrmig)
    n=$(last_count web)
    run mig web "$DEST"
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    [[ "$output" == "web moved to $DEST as $ip: downtime "*"s, "*" sent, "*"s in all" ]]
    assert_runs_only b
    [ "$(b inspect --format '{{.Id}}' web)" = "$id" ]
    [ "$(ip_of b)" = "$ip" ]
    b ps | grep -q " web$"
    [ ! -d "$CTR_ROOT/containers/$id" ]
    counts_on_b "$n"
}

@test "the HTTP counter answers the next number after the move; --print-stats gives JSON" {
    ctrmig run -d --name web busybox sh -c "$HTTP_COUNTER" >/dev/null
    local ip
    ip=$(ip_of ctrmig)
    [ "$(fetch "http://$ip/")" = 1 ]
    [ "$(fetch "http://$ip/")" = 2 ]
    run mig --print-stats web "$DEST"
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    echo "$output" | jq -e --arg ip "$ip" '.Name == "web" and .ip == $ip and .mode == "plain" and
        .same_host == true and .bytes_sent > 1000 and .downtime > 0 and
        .ctrmig_migrate_duration >= .downtime and .preflight_duration > 0'
    [ "$(fetch "http://$ip/")" = 3 ]
    assert_runs_only b
}

@test "--to-root moves to another store on this host, without ssh" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 5
    local ip n
    ip=$(ip_of ctrmig)
    n=$(last_count web)
    run ctrmig migrate --to-root "$ROOT_B" web
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    [[ "$output" == "web moved to $ROOT_B as $ip: downtime "* ]]
    assert_runs_only b
    counts_on_b "$n"
    run ctrmig migrate --to-root "$CTR_ROOT" web
    assert_one_line_error
    [[ "$output" == *"is this store"* ]]
}

@test "--tcp-established: a held connection goes on after the move" {
    ctrmig run -d --name web busybox sh -c "$LINE_COUNTER" >/dev/null
    local ip line i
    ip=$(ip_of ctrmig)
    for i in $(seq 50); do exec 7<>"/dev/tcp/$ip/7000" 2>/dev/null && break; sleep 0.1; done
    echo one >&7 && read -r -t 5 line <&7 && [ "$line" = "1 one" ]
    mig --tcp-established web "$DEST" >/dev/null
    echo two >&7 && read -r -t 10 line <&7 && [ "$line" = "2 two" ]
    assert_runs_only b
    exec 7>&-
}

@test "the name taken there: refused in preflight, nothing stopped" {
    local pid
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    b run -d --name web busybox sleep 1000 >/dev/null
    run mig web "$DEST"
    assert_one_line_error
    [[ "$output" == "Error: migrate web: $DEST: a container named web is there already" ]]
    # the very same process runs on here, never frozen
    [ "$(ctrmig inspect --format '{{.State.Pid}}' web)" = "$pid" ]
    [ "$(ctrmig inspect --format '{{.State.Checkpointed}}' web)" = false ]
    [ "$(b ps -q | wc -l)" = 1 ]
}

@test "the image missing there and no registry to pull it from: refused in preflight; --include-image carries it" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    local n
    n=$(last_count web)
    b image rm busybox >/dev/null
    local before
    before=$(store_contents "$ROOT_B")
    run mig web "$DEST"
    assert_one_line_error
    [[ "$output" == *"the base image "*" (sha256:"*") is not there and has no registry to pull it from: --include-image sends it along" ]]
    assert_runs_only a
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    mig --include-image web "$DEST" >/dev/null
    assert_runs_only b
    counts_on_b "$n"
}

@test "the ssh connection cut in the middle of the stream: the container runs here again, the target has nothing" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 5
    local id ip before
    id=$(ctrmig inspect --format '{{.Id}}' web)
    ip=$(ip_of ctrmig)
    before=$(store_contents "$ROOT_B")
    # an ssh that passes 8000 bytes of the archive on and is killed in the
    # middle of it (its input still open: no end of file reaches the target)
    cat > "$BATS_TEST_TMPDIR/cut-ssh" <<'SH'
#!/bin/bash
case "$*" in *"'restore'"*) ;; *) exec ssh "$@" ;; esac
fifo=$(mktemp -u "${TMPDIR:-/tmp}/ctrmig-cut.XXXXXX")
mkfifo "$fifo"
ssh "$@" < "$fifo" &
pid=$!
exec 5> "$fifo"
rm -f "$fifo"
head -c 8000 >&5
sleep 0.3
kill -9 "$pid"
echo "cut-ssh: killed ssh after 8000 bytes" >&2
exit 255
SH
    chmod +x "$BATS_TEST_TMPDIR/cut-ssh"
    run ctrmig migrate --ssh-command "$BATS_TEST_TMPDIR/cut-ssh ${SSH_CMD#ssh }" --remote-root "$ROOT_B" \
        --remote-ctrmig "$BATS_TEST_TMPDIR/remote-ctrmig" web "$DEST"
    assert_one_line_error
    [[ "$output" == *"the ssh connection failed: cut-ssh: killed ssh after 8000 bytes; web runs here again, the target has nothing" ]]
    assert_runs_only a
    [ "$(ctrmig inspect --format '{{.Id}}' web)" = "$id" ]
    [ "$(ip_of ctrmig)" = "$ip" ]
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    # restored from the checkpoint: it counts on, not from 1
    local n
    n=$(last_count web)
    wait_for_count web $((n + 3))
    [ "$(ctrmig logs web | grep -cx 1)" = 1 ]
}

@test "a published port where this host's key is not trusted: refused in preflight, nothing stopped" {
    ctrmig run -d --name web -p 127.0.0.1::80 busybox sh -c "$HTTP_COUNTER" >/dev/null
    local hp pid
    hp=$(ctrmig port web 80/tcp)
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    # store B does not trust this store's key: a published port is a grant
    run mig web "$DEST"
    assert_one_line_error
    [[ "$output" == *"does not trust this host's signing key, and without that trust the archive asks for host ports"*"'ctrmig trust add' takes it there" ]]
    [ "$(ctrmig inspect --format '{{.State.Pid}}' web)" = "$pid" ]
    assert_runs_only a
    [ "$(fetch "http://$hp/")" = 1 ]
}

@test "the restore there fails after the freeze (the name taken meanwhile): the container runs here again, with its port" {
    ctrmig run -d --name web -p 127.0.0.1::80 busybox sh -c "$HTTP_COUNTER" >/dev/null
    local hp
    hp=$(ctrmig port web 80/tcp)
    [ "$(fetch "http://$hp/")" = 1 ]
    ctrmig trust key | b trust add - --name store-a >/dev/null
    # ctrmig there, with someone taking the name between preflight and restore
    cat > "$BATS_TEST_TMPDIR/racing-ctrmig" <<SH
#!/bin/sh
case "\$*" in *" restore -i -"*)
    CTRMIG_CONFIG_DIR='$ROOT_B/conf' '$CTRMIG_BIN' --root '$ROOT_B' run -d --name web busybox sleep 1000 >/dev/null ;;
esac
exec '$BATS_TEST_TMPDIR/remote-ctrmig' "\$@"
SH
    chmod +x "$BATS_TEST_TMPDIR/racing-ctrmig"
    run ctrmig migrate --ssh-command "$SSH_CMD" --remote-root "$ROOT_B" \
        --remote-ctrmig "$BATS_TEST_TMPDIR/racing-ctrmig" web "$DEST"
    assert_one_line_error
    [[ "$output" == *"the restore there failed: "*"web"*"; web runs here again, the target has nothing" ]]
    [ "$(ctrmig port web 80/tcp)" = "$hp" ]
    [ "$(fetch "http://$hp/")" = 2 ]
    # the other container named web there is not ours to remove
    [ "$(b inspect --format '{{.Config.Cmd}}' web)" = "[sleep 1000]" ]
    b rm -f web >/dev/null
    assert_runs_only a
}

@test "--pre-copy is refused with its reason; bad destinations and a target without ctrmig change nothing" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    run mig --pre-copy web "$DEST"
    assert_one_line_error
    if criu check --feature mem_dirty_track >/dev/null 2>&1; then
        [[ "$output" == *"--pre-copy is not implemented yet"* ]]
    else
        [[ "$output" == *"--pre-copy needs dirty-memory tracking"*"mem_dirty_track"* ]]
    fi
    run mig web "ssh://-oProxyCommand=true"
    assert_one_line_error
    [[ "$output" == *"not a valid"* ]]
    run mig web "ssh://root@127.0.0.1:99999"
    assert_one_line_error
    run mig web /tmp/elsewhere
    assert_one_line_error
    # a host with no ctrmig (or none that knows migrate)
    run ctrmig migrate --ssh-command "$SSH_CMD" --remote-ctrmig /nonexistent/ctrmig web "$DEST"
    assert_one_line_error
    [[ "$output" == *"no ctrmig that can take a migration there"* ]]
    # a key the target does not know
    ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/stranger"
    run ctrmig migrate --ssh-command "${SSH_CMD/client_key/../stranger}" web "$DEST"
    assert_one_line_error
    [[ "$output" == *"$DEST: ssh failed: "*"Permission denied"* ]]
    [ "$(ctrmig inspect --format '{{.State.Pid}}' web)" = "$pid" ]
    assert_runs_only a
}

@test "a restore there that cannot start fails the move before the freeze, with its reason" {
    ctrmig run -d --name web --network none busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 2
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' web)
    # the preflight passes there; the restore itself ends before it reads
    cat > "$BATS_TEST_TMPDIR/failing-ctrmig" <<SH
#!/bin/sh
for a in "\$@"; do [ "\$a" = restore ] && { echo 'Error: the store is busy' >&2; exit 125; }; done
exec '$BATS_TEST_TMPDIR/remote-ctrmig' "\$@"
SH
    chmod +x "$BATS_TEST_TMPDIR/failing-ctrmig"
    for lazy in "" --lazy; do
        [ -z "$lazy" ] || big_pipes
        run ctrmig migrate $lazy --ssh-command "$SSH_CMD" --remote-root "$ROOT_B" \
            --remote-ctrmig "$BATS_TEST_TMPDIR/failing-ctrmig" web "$DEST"
        assert_one_line_error
        [[ "$output" == *"the restore there failed: the store is busy"* ]]
        # never frozen nor restored: the same process, counting on
        [ "$(ctrmig inspect --format '{{.State.Pid}} {{.State.Status}}' web)" = "$pid running" ]
    done
    assert_runs_only a
}

# ---- --lazy ------------------------------------------------------------------

# CRIU's lazy page server needs 4 MiB pipes; root on this VM lacks
# CAP_SYS_RESOURCE, so the kernel's limit must allow them (restored after).
big_pipes() {
    cat /proc/sys/fs/pipe-max-size > "$BATS_TEST_TMPDIR/pipe-max-size"
    [ "$(cat /proc/sys/fs/pipe-max-size)" -ge 4194304 ] || echo 4194304 > /proc/sys/fs/pipe-max-size
}
pipes_back() {
    [ ! -f "$BATS_TEST_TMPDIR/pipe-max-size" ] || cat "$BATS_TEST_TMPDIR/pipe-max-size" > /proc/sys/fs/pipe-max-size
}

# A memhold container (tests/tools/memhold.c) of $1 MiB, on network $2
# (default: none); prints the sum of its memory.
memhold_here() {
    import_memhold_image ctrmig
    import_memhold_image b
    ctrmig run -d --network "${2:-none}" --name mem memhold memhold "$1" >/dev/null
    log_word ctrmig mem ready
}

# Who host-local says holds an address on ctrmig's default network.
holder_of() { head -n 1 "/var/lib/cni/networks/ctrmig/$1" 2>/dev/null | tr -d '\r'; }

@test "--lazy within one host takes the address: the frozen source hands it over, its end does not take it back" {
    big_pipes
    local id ip i
    id=$(ctrmig run -d --name web busybox sh -c "$HTTP_COUNTER")
    ip=$(ip_of ctrmig)
    [ "$(fetch "http://$ip/")" = 1 ]
    [ "$(fetch "http://$ip/")" = 2 ]
    run mig --lazy web "$DEST"
    pipes_back
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    [[ "$output" == "web moved to $DEST as $ip: downtime "* ]]
    assert_runs_only b
    [ "$(ip_of b)" = "$ip" ]
    [ "$(fetch "http://$ip/")" = 3 ]
    # The source's end (its monitor's clean-up, then its removal) released
    # nothing under the id both share: the copy still holds the address and
    # answers at it.
    for i in $(seq 50); do [ ! -d "$CTR_ROOT/containers/$id" ] && break; sleep 0.1; done
    [ ! -d "$CTR_ROOT/containers/$id" ]
    [ "$(holder_of "$ip")" = "$id" ]
    [ "$(fetch "http://$ip/")" = 4 ]
    b rm -f web >/dev/null
    [ -z "$(holder_of "$ip")" ]
}

@test "--lazy: 256 MiB move with the memory following; every page right there, the source gone once all are in, less downtime than plain" {
    big_pipes
    local sum plain
    sum=$(memhold_here 256)
    run mig --lazy --print-stats mem "$DEST"
    pipes_back
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    local lazy
    lazy=$(jq -e 'select(.mode == "lazy" and .bytes_sent > 268435456) | .downtime' <<< "$output")
    # the dump returned only once the pages were all taken: nothing is left here
    assert_runs_only b
    ! pgrep -f "__lazy-serve.*$ROOT_B" >/dev/null
    b exec mem kill -USR1 1
    [ "$(log_word b mem sum)" = "$sum" ]
    # the same container moved back in plain mode: its whole memory in the downtime
    plain=$(b migrate --print-stats --to-root "$CTR_ROOT" mem | jq .downtime)
    [ "$lazy" -lt "$plain" ] || { echo "lazy downtime ${lazy}us, plain ${plain}us" >&2; return 1; }
    ctrmig exec mem kill -USR1 1
    [ "$(log_word ctrmig mem sum)" = "$sum" ]
}

@test "--lazy: the page transfer cut after the restore there: the container runs here again with its address, its copy there is gone" {
    big_pipes
    local sum pid id ip
    sum=$(memhold_here 512 ctrmig)
    pid=$(ctrmig inspect --format '{{.State.Pid}}' mem)
    id=$(ctrmig inspect --format '{{.Id}}' mem)
    ip=$(ctrmig inspect --format '{{.NetworkSettings.IPAddress}}' mem)
    mig --lazy mem "$DEST" > "$BATS_TEST_TMPDIR/out" 2>&1 &
    local mig_pid=$! i serve= daemon=
    # The restore there has ended (its command is gone, the daemon still
    # runs): hold migrate and its page relay (a child of it) while the pages
    # are still going, and cut the daemon's connection.
    for i in $(seq 2000); do
        serve=$(pgrep -f "__lazy-serve.*$ROOT_B" | head -n 1)
        [ -n "$serve" ] && ! pgrep -f "root $ROOT_B restore -i -" >/dev/null && break
        sleep 0.005
    done
    STOPPED=$(pgrep -f "^$CTRMIG_BIN --root $CTR_ROOT migrate" | tr '\n' ' ')
    kill -STOP $STOPPED
    daemon=$(pgrep -P "$serve" | head -n 1)
    [ -n "$daemon" ] || { echo "every page was in before the cut" >&2; return 1; }
    [ "$(b inspect --format '{{.State.Status}}' mem)" = running ]
    # one host: the copy took the address the frozen source gave up
    [ "$(b inspect --format '{{.NetworkSettings.IPAddress}}' mem)" = "$ip" ]
    kill -9 "$daemon"
    kill -CONT $STOPPED
    STOPPED=
    status=0
    wait "$mig_pid" || status=$?
    pipes_back
    output=$(cat "$BATS_TEST_TMPDIR/out")
    assert_one_line_error
    [[ "$output" == *"mem runs here again, its copy there was removed" ]]
    assert_runs_only a
    [ "$(ctrmig inspect --format '{{.State.Pid}}' mem)" = "$pid" ]
    # its address back, answering here
    [ "$(ctrmig inspect --format '{{.NetworkSettings.IPAddress}}' mem)" = "$ip" ]
    [ "$(holder_of "$ip")" = "$id" ]
    busybox ping -c 1 -W 2 "$ip" >/dev/null
    # CRIU resumed it whole: its memory is its own
    ctrmig exec mem kill -USR1 1
    [ "$(log_word ctrmig mem sum)" = "$sum" ]
}

@test "--lazy: migrate killed while the pages move: the transfer still ends whole, the container runs there only" {
    big_pipes
    local sum
    sum=$(memhold_here 512)
    touch "$BATS_TEST_TMPDIR/start"
    mig --lazy mem "$DEST" > "$BATS_TEST_TMPDIR/out" 2>&1 &
    local i serve=
    for i in $(seq 2000); do
        serve=$(pgrep -f "__lazy-serve.*$ROOT_B" | head -n 1)
        [ -n "$serve" ] && ! pgrep -f "root $ROOT_B restore -i -" >/dev/null && break
        sleep 0.005
    done
    # migrate itself, not its page relay (a child in a session of its own)
    pkill -9 -f -s "$(ps -o sid= -p $$ | tr -d ' ')" "^$CTRMIG_BIN --root $CTR_ROOT migrate"
    for i in $(seq 300); do pgrep -f "__lazy-serve.*$ROOT_B" >/dev/null || break; sleep 0.1; done
    pipes_back
    [ "$(b inspect --format '{{.State.Status}}' mem)" = running ]
    b exec mem kill -USR1 1
    [ "$(log_word b mem sum)" = "$sum" ]
    # here it is not running: CRIU ended it once the last page had gone
    [ "$(ctrmig inspect --format '{{.State.Status}}' mem)" != running ]
    # the killed migrate could not close its ssh session's folder
    find /tmp -maxdepth 1 -name 'ctrmig-ssh.*' -newer "$BATS_TEST_TMPDIR/start" -exec rm -rf {} +
}

@test "--lazy is refused before anything stops when CRIU's page server could not work or would listen on every interface" {
    ctrmig run -d --network none --name mem busybox sleep 1000 >/dev/null
    local pid
    pid=$(ctrmig inspect --format '{{.State.Pid}}' mem)
    cat /proc/sys/fs/pipe-max-size > "$BATS_TEST_TMPDIR/pipe-max-size"
    echo 1048576 > /proc/sys/fs/pipe-max-size
    run mig --lazy mem "$DEST"
    pipes_back
    assert_one_line_error
    [[ "$output" == *"sysctl fs.pipe-max-size=4194304"* ]]
    big_pipes
    sed -i '/^address/d' "$CTR_ROOT/criu.conf"
    run mig --lazy mem "$DEST"
    pipes_back
    assert_one_line_error
    [[ "$output" == *"add the line 'address 127.0.0.1' to $CTR_ROOT/criu.conf" ]]
    [ "$(ctrmig inspect --format '{{.State.Pid}}' mem)" = "$pid" ]
    assert_runs_only a
}

@test "--lazy: the target refuses a page port that listens beyond loopback (sshd's GatewayPorts yes) or not at all" {
    # The target's side alone, in a network namespace of the test's own (it
    # has only lo): a wildcard listener there stands for sshd's forward with
    # GatewayPorts yes, which ignores the client's 127.0.0.1.
    local ns=ctrmig-e2e-gw-$$ port=41234
    TEST_NS=$ns   # removed by teardown whatever happens
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" busybox nc -l -p "$port" >/dev/null 2>&1 &
    local nc=$!
    TEST_NC=$nc
    for _ in $(seq 50); do grep -q ":$(printf %04X $port) 00000000:0000 0A" <(ip netns exec "$ns" cat /proc/net/tcp) && break; sleep 0.02; done
    run --separate-stderr ip netns exec "$ns" "$CTRMIG_BIN" --root "$ROOT_B" restore -i - --say-ready \
        --lazy-page-server "127.0.0.1:$port" </dev/null
    kill "$nc" 2>/dev/null || true
    wait "$nc" 2>/dev/null || true
    [ "$status" -eq 125 ]
    [ -z "$output" ]   # never said ready: the source would not have frozen anything
    # busybox nc takes [::] (both families)
    [[ "$stderr" == *"--lazy: port $port here listens on "*", not only on loopback (sshd's GatewayPorts yes?)"* ]]
    # nothing listening: refused the same way
    run --separate-stderr ip netns exec "$ns" "$CTRMIG_BIN" --root "$ROOT_B" restore -i - --say-ready \
        --lazy-page-server "127.0.0.1:$port" </dev/null
    [ "$status" -eq 125 ]
    [ -z "$output" ]
    [[ "$stderr" == *"--lazy: nothing listens on port $port here"* ]]
    [ -z "$(b ps -aq)" ]
}

@test "progress on a terminal for migrate (the archive's phase, bytes, rate), none with -q" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 2
    local cmd="$CTRMIG_BIN --root $CTR_ROOT migrate --ssh-command '$SSH_CMD' --remote-root $ROOT_B --remote-ctrmig $BATS_TEST_TMPDIR/remote-ctrmig"
    run script -qfec "$cmd web $DEST" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == *"writing the archive"*"MiB of"* ]]
    [[ "$output" == *"web moved to $DEST"* ]]
    b rm -f web >/dev/null
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    run script -qfec "$cmd -q web $DEST" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" != *"writing the archive"* ]]
    [[ "$output" == *"web moved to $DEST"* ]]
}
