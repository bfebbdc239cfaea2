#!/usr/bin/env bats
# ctrmig image import | load | save | tag | ls | inspect | rm, and the layer store
bats_require_minimum_version 1.5.0
load helpers
load registry

setup() { require_containers; CTR_ROOT=$(mktemp -d /tmp/ctrmig-e2e.XXXXXX); export CTR_ROOT; }

# The four-layer test image of registry.bash, built once, without a registry.
test_layout() {
    local l="$BATS_FILE_TMPDIR/layout"
    if [ ! -d "$l" ]; then
        build_test_image "$l"
        umoci config --image "$l:t" --tag plain --clear=config.entrypoint --clear=config.cmd \
            --config.user 0:0 --config.workingdir / >/dev/null
    fi
    echo "$l"
}

# For hostile input: the command failed with one line, nothing is registered,
# no layer or staging folder is left.
refused_cleanly() {
    assert_one_line_error
    [ -z "$(ctrmig image ls -q)" ]
    [ "$(layer_dirs "$CTR_ROOT")" -eq 0 ]
    no_staging_left "$CTR_ROOT"
}
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

@test "an OCI layout folder, an oci-archive on stdin, and docker-archives (skopeo's, Docker 25's) load" {
    require_registry
    local l cfg id
    l=$(test_layout)
    cfg=$(layout_digest "$l" t config)
    # a folder: its ref.name "t" is a tag, not a name, so the image is untagged
    run ctrmig image load -i "$l"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Loaded image: $cfg"* ]]
    ctrmig image rm "${cfg#sha256:}" >/dev/null
    # an oci-archive whose ref.name is a whole name, through a pipe
    skopeo copy -q "oci:$l:t" "oci-archive:$BATS_TEST_TMPDIR/o.tar:example.com/team/app:v1"
    run ctrmig image load < "$BATS_TEST_TMPDIR/o.tar"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: example.com/team/app:v1" ]
    [ "$(ctrmig image inspect example.com/team/app:v1 | jq -r '.[0].Id')" = "${cfg#sha256:}" ]
    ctrmig image rm example.com/team/app:v1 >/dev/null
    # skopeo's docker-archive: the same config bytes, so the same id
    skopeo copy -q "oci:$l:t" "docker-archive:$BATS_TEST_TMPDIR/d.tar:team/app:v2"
    run ctrmig image load -i "$BATS_TEST_TMPDIR/d.tar"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/team/app:v2" ]
    [ "$(ctrmig image inspect team/app:v2 | jq -r '.[0].Id')" = "${cfg#sha256:}" ]
    ctrmig image rm team/app:v2 >/dev/null
    # Docker 25: an OCI layout plus manifest.json naming blobs/sha256/...
    docker25_archive "$l" plain "$BATS_TEST_TMPDIR/d25.tar" docker.io/library/plain:25
    gzip -k "$BATS_TEST_TMPDIR/d25.tar"
    run ctrmig image load -i "$BATS_TEST_TMPDIR/d25.tar.gz"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/library/plain:25" ]
    [ "$(ctrmig image inspect plain:25 | jq -r '.[0].Id')" = "$(layout_digest "$l" plain config | cut -d: -f2)" ]
    run ctrmig run --rm plain:25 cat /srv/hl
    [ "$output" = base-content ]
    no_staging_left "$CTR_ROOT"
    # not an image archive
    echo junk | { run ctrmig image load; assert_one_line_error; }
    tar -C "$l" -cf "$BATS_TEST_TMPDIR/notimg.tar" index.json
    run ctrmig image load -i "$BATS_TEST_TMPDIR/notimg.tar"
    assert_one_line_error
    [[ "$output" == *"neither a docker-archive"*"nor an oci-archive"* ]]
}

@test "an image of 60 layers runs; its overlay names the layers by short links" {
    require_registry
    local l="$BATS_TEST_TMPDIR/many" id
    build_many_layers "$l" 60
    id=$(ctrmig image load -q -i "$l" | sed 's/^Loaded image: sha256://')
    [ "$(layer_dirs "$CTR_ROOT")" -eq 60 ]
    run ctrmig run --rm "$id" sh -c 'cat /layer-60 /layer-2; ls / | grep -c "^layer-"'
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '60\n2\n59')" ]
    ctrmig run -d --name many "$id" sleep 30 >/dev/null
    local cid opts
    cid=$(ctrmig inspect --format '{{.Id}}' many)
    opts=$(grep " $CTR_ROOT/containers/$cid/rootfs " /proc/self/mountinfo)
    [[ "$opts" == *"lowerdir=l/"* ]]
    [ "$(grep -o 'lowerdir=[^,]*' <<<"$opts" | tr ':' '\n' | grep -c '^l/\|^lowerdir=l/')" -eq 60 ]
    ctrmig rm -f many >/dev/null
    ctrmig image rm "$id" >/dev/null
    [ "$(layer_dirs "$CTR_ROOT")" -eq 0 ]
}

@test "hostile layers: ../ names, absolute names, a write through a symlink, whiteouts of .." {
    require_registry
    local t=$BATS_TEST_TMPDIR
    mkdir -p "$t/ev" "$t/outside"
    echo pwned > "$t/ev/pwned"

    tar -C "$t/ev" -cf "$t/dotdot.tar" --transform 's,^,../../,' pwned
    hostile_layout "$t/l1" "$t/dotdot.tar"
    run ctrmig image load -i "$t/l1"
    refused_cleanly
    [[ "$output" == *'member "../../pwned": absolute names and'*"'..' are refused"* ]]

    tar -C "$t/ev" -cPf "$t/abs.tar" --transform "s,^,$t/target/," pwned
    hostile_layout "$t/l2" "$t/abs.tar"
    run ctrmig image load -i "$t/l2"
    refused_cleanly
    [[ "$output" == *"absolute names"* ]]
    [ ! -e "$t/target" ]

    mkdir -p "$t/s1" "$t/s2/lnk"
    ln -s "$t/outside" "$t/s1/lnk"
    echo pwned > "$t/s2/lnk/pwned"
    tar -C "$t/s1" -cf "$t/sym.tar" lnk
    tar -C "$t/s2" -rf "$t/sym.tar" lnk/pwned
    hostile_layout "$t/l3" "$t/sym.tar"
    run ctrmig image load -i "$t/l3"
    refused_cleanly
    [[ "$output" == *"lnk: not a folder of this layer"*"nothing is written through it"* ]]

    mkdir -p "$t/w/d"
    touch "$t/w/d/.wh.."
    tar -C "$t/w" -cf "$t/wh.tar" d/.wh..
    hostile_layout "$t/l4" "$t/wh.tar"
    run ctrmig image load -i "$t/l4"
    refused_cleanly
    [[ "$output" == *'member "d/.wh..": not a whiteout'* ]]

    touch "$t/w/.wh.x"
    tar -C "$t/w" -cf "$t/whup.tar" --transform 's,^,../,' .wh.x
    hostile_layout "$t/l5" "$t/whup.tar"
    run ctrmig image load -i "$t/l5"
    refused_cleanly
    [[ "$output" == *"'..' are refused"* ]]

    # nothing landed outside the store or outside the layer
    [ -z "$(ls -A "$t/outside")" ]
    [ -z "$(find "$CTR_ROOT" -name pwned)" ]
    [ ! -e /tmp/pwned ] || [ "$(cat /tmp/pwned)" != pwned ]
}

@test "hostile layouts: a blob that is not what its digest says, a missing blob, an unknown layer type" {
    require_registry
    local l t=$BATS_TEST_TMPDIR m cfg layer
    l=$(test_layout)
    m=$(layout_digest "$l" t manifest)
    cfg=$(layout_digest "$l" t config)
    layer=$(jq -r '.layers[1].digest' "$l/blobs/sha256/${m#sha256:}")

    cp -a "$l" "$t/c1"
    sed -i 's/SIGUSR1/SIGKILL/' "$t/c1/blobs/sha256/${cfg#sha256:}"
    run ctrmig image load -i "$t/c1"
    refused_cleanly
    [[ "$output" == *"blob $cfg does not match its digest"* ]]

    cp -a "$l" "$t/c2"
    local big
    big=$(jq -r '.layers[0].digest' "$l/blobs/sha256/${m#sha256:}")
    printf 'XXXX' | dd of="$t/c2/blobs/sha256/${big#sha256:}" bs=1 seek=4000 conv=notrunc 2>/dev/null
    run ctrmig image load -i "$t/c2"
    refused_cleanly
    [[ "$output" == *"blob $big does not match its digest"* ]]

    cp -a "$l" "$t/c3"
    rm "$t/c3/blobs/sha256/${layer#sha256:}"
    run ctrmig image load -i "$t/c3"
    refused_cleanly
    [[ "$output" == *"manifest $m: layer 2 points at blob $layer, which is missing from the layout"* ]]

    cp -a "$l" "$t/c4"
    edit_manifest "$t/c4" '.layers[3].mediaType = "application/x-shell-script"'
    run ctrmig image load -i "$t/c4"
    refused_cleanly
    [[ "$output" == *'layer 4: media type "application/x-shell-script" is not a layer type ctrmig knows'* ]]

    cp -a "$l" "$t/c5"
    edit_manifest "$t/c5" '.config.mediaType = "application/vnd.cncf.helm.config.v1+json"'
    run ctrmig image load -i "$t/c5"
    refused_cleanly
    [[ "$output" == *"is not an image config"* ]]
}

@test "pull: skopeo missing is a one-line error saying how to install it; a bare name is docker.io/library/NAME:latest" {
    run env CTRMIG_SKOPEO=/nonexistent/skopeo "$CTRMIG_BIN" --root "$CTR_ROOT" pull alpine
    assert_one_line_error
    [[ "$output" == *"skopeo is not installed: install it with 'apt-get install skopeo'"* ]]
    # a stand-in for skopeo that records what it is asked and fails as an
    # unreachable registry does: no network is used
    local fake="$BATS_TEST_TMPDIR/skopeo"
    cat > "$fake" <<'SH'
#!/bin/sh
printf '%s\n' "$@" > "$(dirname "$0")/args"
echo 'time="2026-01-01T00:00:00Z" level=fatal msg="Error parsing image name \"docker://x\": pinging container registry registry-1.docker.io: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host"' >&2
exit 1
SH
    chmod +x "$fake"
    run env CTRMIG_SKOPEO="$fake" "$CTRMIG_BIN" --root "$CTR_ROOT" pull -q alpine
    assert_one_line_error
    [[ "$output" == *"pull docker.io/library/alpine:latest: registry docker.io is not reachable: no such host"* ]]
    grep -qx 'docker://docker.io/library/alpine:latest' "$BATS_TEST_TMPDIR/args"
    run env CTRMIG_SKOPEO="$fake" "$CTRMIG_BIN" --root "$CTR_ROOT" pull -q 'Alpine:1'
    assert_one_line_error
    [[ "$output" == *"invalid reference"* ]]
    no_staging_left "$CTR_ROOT"
}
