#!/usr/bin/env bats
# Bad input: a clear one-line error, exit 125, and nothing changed.
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; setup_store; }
teardown() { teardown_store; }

@test "an unknown container is a one-line error" {
    for cmd in start stop kill rm inspect logs top; do
        run ctrmig "$cmd" nosuch
        assert_one_line_error
        [[ "$output" == *"no such container nosuch"* ]] || { echo "$cmd: $output"; return 1; }
    done
}

@test "a duplicate name is refused and the first container is untouched" {
    ctrmig run -d --name dup busybox sleep 1000 >/dev/null
    local before
    before=$(ctrmig inspect --format '{{.Id}} {{.State.Pid}}' dup)
    run ctrmig run -d --name dup busybox sleep 1000
    assert_one_line_error
    [[ "$output" == *"name dup is already in use"* ]]
    [ "$(ctrmig inspect --format '{{.Id}} {{.State.Pid}}' dup)" = "$before" ]
    [ "$(ls "$CTR_ROOT/containers" | wc -l)" -eq 1 ]
}

@test "a missing image is a one-line error and leaves no container" {
    run ctrmig run nosuchimage true
    assert_one_line_error
    [[ "$output" == *"no such image nosuchimage"* ]]
    [ -z "$(ls -A "$CTR_ROOT/containers")" ]
}

@test "a missing runc is a one-line error and leaves no container" {
    run "$CTRMIG_BIN" --root "$CTR_ROOT" --runtime /nonexistent/runc run -d busybox true
    assert_one_line_error
    [[ "$output" == *"/nonexistent/runc"* ]]
    [ -z "$(ls -A "$CTR_ROOT/containers")" ]
}

@test "a command that does not exist in the image fails at run, nothing left" {
    run ctrmig run -d --name nope busybox /no/such/program
    assert_one_line_error
    [[ "$output" == *"/no/such/program"* ]]
    [ -z "$(ls -A "$CTR_ROOT/containers")" ]
}

@test "rm of a running container needs -f; starting a running one is refused" {
    ctrmig run -d --name busy busybox sleep 1000 >/dev/null
    run ctrmig rm busy
    assert_one_line_error
    [[ "$output" == *"is running"* ]]
    run ctrmig start busy
    assert_one_line_error
    [[ "$output" == *"already running"* ]]
    [ "$(ctrmig inspect --format '{{.State.Status}}' busy)" = running ]
    run ctrmig rm -f busy
    [ "$status" -eq 0 ]
}

@test "bad option values are one-line errors" {
    run ctrmig run --network 'no/such' busybox true
    assert_one_line_error
    run ctrmig run -v relative:/x busybox true
    assert_one_line_error
    run ctrmig run -e =x busybox true
    assert_one_line_error
    run ctrmig stop -t soon x
    assert_one_line_error
    run ctrmig kill -s NOPE x
    assert_one_line_error
    run ctrmig inspect --format '{{.Nope}}' -l
    [ "$status" -eq 125 ]
    run ctrmig create --name 'bad name' busybox true
    assert_one_line_error
    [ -z "$(ls -A "$CTR_ROOT/containers")" ]
}

@test "two commands racing for the same name: exactly one wins, the store stays sound" {
    local i
    for i in 1 2 3 4; do
        ( rc=0; "$CTRMIG_BIN" --root "$CTR_ROOT" create --name race busybox true >/dev/null 2>&1 || rc=$?
          echo "$rc" > "$BATS_TEST_TMPDIR/rc.$i" ) &
    done
    wait
    [ "$(cat "$BATS_TEST_TMPDIR"/rc.* | grep -c '^0$')" -eq 1 ]
    [ "$(cat "$BATS_TEST_TMPDIR"/rc.* | grep -c '^125$')" -eq 3 ]
    [ "$(ls "$CTR_ROOT/containers" | wc -l)" -eq 1 ]
    run ctrmig ps -a --format json
    [ "$status" -eq 0 ]
    [[ "$output" == *'"Names": "race"'* ]]
}

@test "non-root users get a clear error" {
    command -v setpriv >/dev/null || need "setpriv (util-linux) missing"
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$CTRMIG_BIN" --root "$CTR_ROOT" ps
    assert_one_line_error
    [[ "$output" == *"must run as root"* ]]
}

@test "bad bytes and bad names: non-UTF-8 arguments, image names with .., a folder that is not a store" {
    run ctrmig run -e "$(printf 'A=\xff')" busybox true
    assert_one_line_error
    [[ "$output" == *"not valid UTF-8"* ]]
    run ctrmig image import "$(busybox_rootfs)" ../evil
    assert_one_line_error
    [[ "$output" == *"image name '../evil' is not valid"* ]]
    local nostore="$BATS_TEST_TMPDIR/nostore"
    for cmd in ps inspect logs top; do
        run "$CTRMIG_BIN" --root "$nostore" "$cmd" x
        assert_one_line_error
        [[ "$output" == *"$nostore is not a ctrmig store"* ]] || { echo "$cmd: $output"; return 1; }
    done
    [ ! -e "$nostore" ]
    [ -z "$(ctrmig ps -a -q)" ]
    run ctrmig run
    assert_one_line_error
}

@test "checkpoint -e checks -c and the output before freezing; export of a running container is refused" {
    ctrmig run -d --name web busybox sleep 1000 >/dev/null
    run ctrmig checkpoint -c lz4 -e "$BATS_TEST_TMPDIR/x.tar" web
    assert_one_line_error
    [[ "$output" == *"unknown compression lz4"* ]]
    run ctrmig checkpoint -e /nonexistent/dir/x.tar web
    assert_one_line_error
    [[ "$output" == *"cannot write into /nonexistent/dir"* ]]
    [ "$(ctrmig inspect --format '{{.State.Status}}' web)" = running ]
    run ctrmig export web -o "$BATS_TEST_TMPDIR/x.tar"
    assert_one_line_error
    [[ "$output" == *"the container is running"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/x.tar" ]
}

@test "the store's runc state goes with its last container" {
    ctrmig run -d --name web busybox sleep 1000 >/dev/null
    local state="/run/ctrmig/$(printf %s "$CTR_ROOT" | sha256sum | cut -c1-12)"
    [ -d "$state" ]
    ctrmig rm -f web
    [ ! -e "$state" ]
}
