#!/usr/bin/env bats
# Images people pull, run and move: run honours the image's config, and a
# checkpoint restored on a host without its base pulls the base by digest
# (never by a tag that may have moved), or takes it from the archive.
bats_require_minimum_version 1.5.0
load helpers
load registry
load archive_helpers

setup_file() {
    require_containers
    require_criu
    require_registry
    export LAYOUT="$BATS_FILE_TMPDIR/layout"
    build_test_image "$LAYOUT"
    # the same layers without Entrypoint and Cmd, run as root: for checkpoints
    umoci config --image "$LAYOUT:t" --tag plain --clear=config.entrypoint --clear=config.cmd \
        --config.user 0:0 --config.workingdir / >/dev/null
    mkdir -p "$BATS_FILE_TMPDIR/other"
    echo other > "$BATS_FILE_TMPDIR/other/other.txt"
    umoci insert --image "$LAYOUT:plain" --tag other "$BATS_FILE_TMPDIR/other/other.txt" /other.txt >/dev/null
    start_registry
    push "$LAYOUT:t" ctrmig/app:1
    push "$LAYOUT:plain" ctrmig/base:1
}

teardown_file() { stop_registry; }

# archive_helpers' setup imports busybox into store B; these stores start empty.
setup() {
    CTR_ROOT=$(mktemp -d /tmp/ctrmig-e2e.XXXXXX)
    export CTR_ROOT CTRMIG_CONFIG_DIR="$CTR_ROOT/conf"
    ROOT_B=$(mktemp -d /tmp/ctrmig-e2e-b.XXXXXX)
}

pull() { ctrmig pull -q --tls-verify=false "$@"; }

@test "run honours the image's Entrypoint, Cmd, Env, WorkingDir, User and StopSignal" {
    pull "$REGISTRY/ctrmig/app:1" >/dev/null
    run ctrmig run --rm "$REGISTRY/ctrmig/app:1"
    [ "$status" -eq 0 ]
    [ "$output" = "hello from the image" ]
    # a command replaces Cmd, the Entrypoint stays (sh -c)
    run ctrmig run --rm "$REGISTRY/ctrmig/app:1" 'echo $GREETING; id -u; id -g; pwd'
    [ "$output" = "$(printf 'hello\n1000\n1000\n/srv')" ]
    # -e, -w and -u override; --entrypoint replaces the Entrypoint and drops Cmd
    run ctrmig run --rm -e GREETING=hi -w /tmp -u 0 --entrypoint /bin/sh "$REGISTRY/ctrmig/app:1" -c 'echo $GREETING; id -u; pwd'
    [ "$output" = "$(printf 'hi\n0\n/tmp')" ]
    run ctrmig run --rm -u nosuch "$REGISTRY/ctrmig/app:1"
    assert_one_line_error
    [[ "$output" == *"user nosuch is not in the image's /etc/passwd"* ]]
    # stop sends the image's StopSignal (SIGUSR1)
    ctrmig run -d --name sig "$REGISTRY/ctrmig/app:1" 'trap "echo got USR1; exit 7" USR1; while true; do sleep 0.1; done' >/dev/null
    sleep 0.5
    ctrmig stop sig >/dev/null
    [ "$(ctrmig logs sig | tail -n 1)" = "got USR1" ]
    [ "$(ctrmig inspect --format '{{.State.ExitCode}}' sig)" = 7 ]
    [ "$(ctrmig inspect --format '{{.Config.User}} {{.Config.StopSignal}} {{.Config.ExposedPorts}}' sig)" = 'app SIGUSR1 {"8080/tcp":{}}' ]
}

@test "restore -i on a host without the base pulls it by digest; a moved tag changes nothing" {
    pull "$REGISTRY/ctrmig/base:1" >/dev/null
    local id
    id=$(ctrmig image inspect "$REGISTRY/ctrmig/base:1" | jq -r '.[0].Id')
    ctrmig run -d --name web "$REGISTRY/ctrmig/base:1" sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/c.tar.zst" web >/dev/null
    local at
    at=$(last_count web)
    [ -z "$(b image ls -q 2>/dev/null)" ]
    run b restore -i "$BATS_TEST_TMPDIR/c.tar.zst" --tls-verify=false
    [ "$status" -eq 0 ]
    [[ "$output" == *"Trying to pull $REGISTRY/ctrmig/base@sha256:"* ]]
    wait_for_line_b web $((at + 1))
    [ "$(b image inspect "$id" | jq -r '.[0].Id')" = "$id" ]
    # pulled by digest: no tag made
    [ "$(b image inspect "$id" | jq -r '.[0].RepoTags | length')" = 0 ]
    b rm -f web >/dev/null
    b image rm "$id" >/dev/null

    # the tag now names another image: the restore still gets the original base
    push "$LAYOUT:other" ctrmig/base:1
    run b restore -i "$BATS_TEST_TMPDIR/c.tar.zst" --tls-verify=false -n again
    [ "$status" -eq 0 ]
    [ "$(b inspect --format '{{.Image}}' again)" = "$id" ]
    wait_for_line_b again $((at + 1))
    push "$LAYOUT:plain" ctrmig/base:1
}

@test "no registry: a clear error and nothing left; --include-image needs none" {
    pull "$REGISTRY/ctrmig/base:1" >/dev/null
    ctrmig run -d --name web "$REGISTRY/ctrmig/base:1" sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint -R -e "$BATS_TEST_TMPDIR/c.tar.zst" web >/dev/null
    ctrmig checkpoint --include-image -e "$BATS_TEST_TMPDIR/full.tar.zst" web >/dev/null
    tar -tf "$BATS_TEST_TMPDIR/full.tar.zst" | grep -qx 'image/index.json'
    ! tar -tf "$BATS_TEST_TMPDIR/full.tar.zst" | grep -qx 'image.tar'
    stop_registry
    local before
    before=$(ls -A "$ROOT_B" 2>/dev/null || true)
    run b restore -i "$BATS_TEST_TMPDIR/c.tar.zst" --tls-verify=false
    # what it tries, then one line of error
    [ "$status" -eq 125 ]
    [ "$(printf '%s\n' "$output" | grep -c '^Error: ')" = 1 ]
    [ "$(printf '%s\n' "$output" | grep -vc -e '^Error: ' -e '^Trying to pull ')" = 0 ]
    [[ "$output" == *"the base image $REGISTRY/ctrmig/base:1 is not here and could not be pulled"*"not reachable"* ]]
    [ -z "$(ls -A "$ROOT_B/containers" 2>/dev/null)" ]
    [ -z "$(b image ls -q 2>/dev/null)" ]
    # the archive carries the base: no registry needed, the same image id
    run b restore -i "$BATS_TEST_TMPDIR/full.tar.zst"
    [ "$status" -eq 0 ]
    [ "$(b inspect --format '{{.Image}}' web)" = "$(ctrmig inspect --format '{{.Image}}' web)" ]
    # layers the target has are not unpacked again: a second copy shares them
    local layers
    layers=$(ls "$ROOT_B/layers" | grep -c '^[0-9a-f]')
    b restore -i "$BATS_TEST_TMPDIR/full.tar.zst" -n copy >/dev/null
    [ "$(ls "$ROOT_B/layers" | grep -c '^[0-9a-f]')" = "$layers" ]
}
