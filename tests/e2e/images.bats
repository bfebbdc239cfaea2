#!/usr/bin/env bats
# ctrmig image import | load | save | tag | ls | inspect | rm, and the layer store
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; CTR_ROOT=$(mktemp -d /tmp/ctrmig-e2e.XXXXXX); export CTR_ROOT; }
teardown() { teardown_store; }

@test "a folder and a tarball of the same rootfs get the same content id" {
    local dir
    dir=$(busybox_rootfs)
    run ctrmig image import "$dir" bb-dir
    [ "$status" -eq 0 ]
    local id=$output
    [[ "$id" =~ ^[0-9a-f]{64}$ ]]
    tar -C "$dir" -cJf "$BATS_TEST_TMPDIR/bb.tar.xz" .
    ctrmig image rm bb-dir >/dev/null
    run ctrmig image import "$BATS_TEST_TMPDIR/bb.tar.xz" bb-tar
    [ "$status" -eq 0 ]
    [ "$output" = "$id" ]
}

@test "image ls, inspect, and a second import of the same content is refused" {
    local dir id
    dir=$(busybox_rootfs)
    id=$(ctrmig image import "$dir" busybox)
    run ctrmig image ls
    [ "$status" -eq 0 ]
    [[ "$output" == *"busybox"*"${id:0:12}"* ]]
    run ctrmig image inspect busybox
    [ "$status" -eq 0 ]
    [ "$(printf '%s' "$output" | jq -r '.[0].Id')" = "$id" ]
    [ "$(printf '%s' "$output" | jq -r '.[0].RepoTags[0]')" = docker.io/library/busybox:latest ]
    run ctrmig image inspect "sha256:$id"
    [ "$status" -eq 0 ]
    run ctrmig image import "$dir" other
    assert_one_line_error
    [[ "$output" == *"already stored as image docker.io/library/busybox:latest"* ]]
    run ctrmig image import "$dir" busybox
    assert_one_line_error
    [[ "$output" == *"image name docker.io/library/busybox:latest is already in use"* ]]
    # nothing half-imported is left behind
    [ "$(ls -A "$CTR_ROOT/images" | grep -c '^\.')" -eq 0 ]
}

@test "image rm is refused while a container uses the image" {
    ctrmig image import "$(busybox_rootfs)" busybox >/dev/null
    ctrmig create --name c1 busybox true >/dev/null
    run ctrmig image rm busybox
    assert_one_line_error
    [[ "$output" == *"in use by container c1"* ]]
    ctrmig rm c1
    run ctrmig image rm busybox
    [ "$status" -eq 0 ]
    run ctrmig image ls -q
    [ -z "$output" ]
}

@test "a tarball with ../ names or absolute names is refused and leaves nothing" {
    local evil="$BATS_TEST_TMPDIR/evil"
    mkdir -p "$evil/d"
    echo pwned > "$evil/d/x"
    tar -C "$evil/d" -cf "$BATS_TEST_TMPDIR/dotdot.tar" --transform 's,^,../../,' x
    run ctrmig image import "$BATS_TEST_TMPDIR/dotdot.tar" evil
    assert_one_line_error
    [ ! -e "$CTR_ROOT/x" ] && [ ! -e "$CTR_ROOT/../x" ]
    tar -C / -cPf "$BATS_TEST_TMPDIR/abs.tar" "$evil/d/x"
    run ctrmig image import "$BATS_TEST_TMPDIR/abs.tar" evil2
    assert_one_line_error
    [ -z "$(ls -A "$CTR_ROOT/images")" ]
}

@test "importing a file that is not an archive is a one-line error" {
    echo "not a tarball" > "$BATS_TEST_TMPDIR/junk.tar"
    run ctrmig image import "$BATS_TEST_TMPDIR/junk.tar" junk
    assert_one_line_error
    run ctrmig image import /nonexistent.tar junk
    assert_one_line_error
    [[ "$output" == *"/nonexistent.tar"* ]]
    [ -z "$(ls -A "$CTR_ROOT/images")" ]
}
