#!/usr/bin/env bats
# Archives of other engines: real Podman (Debian 12's 4.3.1) checkpoints a
# counting container, ctrmig restores it; an archive laid out as the kubelet
# with CRI-O writes it restores too; what ctrmig cannot honour is refused.
bats_require_minimum_version 1.5.0
load helpers
load archive_helpers
load net_helpers

# This host lets root raise no limit past its own (Podman's defaults ask
# for more), so the containers Podman makes here name theirs.
PODMAN_LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

setup_file() {
    require_containers
    command -v podman >/dev/null || need "podman not installed (make deps)"
    # the test image, the same id in Podman's storage and ctrmig's
    local root
    root=$(mktemp -d /tmp/ctrmig-e2e-podman.XXXXXX)
    "$CTRMIG_BIN" --root "$root" image import "$(busybox_rootfs)" busybox >/dev/null
    "$CTRMIG_BIN" --root "$root" image save -o "$BATS_FILE_TMPDIR/busybox.tar" busybox
    podman load -q -i "$BATS_FILE_TMPDIR/busybox.tar" >/dev/null
    rm -rf "$root"
}

teardown_file() {
    podman rm -af >/dev/null 2>&1 || true
}

# A Podman network's subnet, away from Podman's 10.88.0.0/16 and ctrmig's
# 10.99.0.0/16, and its name, the same in Podman and in store B.
PNET=ctrmig-e2e-pnet
PNET_SUBNET=10.89.77.0/24

# Both networks, and so both bridges with their routes, go after each test.
teardown_more() {
    podman rm -f pport >/dev/null 2>&1 || true
    podman network rm -f "$PNET" >/dev/null 2>&1 || true
    b rm -f pport >/dev/null 2>&1 || true
    b network rm "$PNET" >/dev/null 2>&1 || true
}

podman_counter() { # name [podman run args...]
    local name=$1
    shift
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman run -d --name "$name" "${PODMAN_LIMITS[@]}" "$@" busybox \
        sh -c "echo made > /root/new; rm /etc/group; $COUNTER" >/dev/null
    local i
    for i in $(seq 100); do
        [ "$(podman logs "$name" 2>/dev/null | tail -n 1)" -ge 3 ] 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Restores a Podman archive in store B and checks that the count goes on
# and the file changes came along.
restores_in_b() { # archive name last-count
    b restore -i "$1" >/dev/null
    wait_for_line_b "$2" $(($3 + 1))
    local id
    id=$(b inspect --format '{{.Id}}' "$2")
    [ "$(cat "$ROOT_B/containers/$id/upper/root/new")" = made ]
    b diff "$2" | grep -qx 'D /etc/group'
}

@test "Podman's archives restore in ctrmig: default network and none, zstd and gzip" {
    local last
    podman_counter pweb
    podman container checkpoint -e "$BATS_TEST_TMPDIR/zstd.tar.zst" pweb >/dev/null
    last=$(podman logs pweb | tail -n 1)
    run b restore -i "$BATS_TEST_TMPDIR/zstd.tar.zst"
    [ "$status" -eq 0 ]
    [[ "$output" == *"made by Podman: it has no ctrmig.manifest"* ]] || { echo "$output"; false; }
    wait_for_line_b pweb $((last + 1))
    local id
    id=$(b inspect --format '{{.Id}}' pweb)
    [ "$(cat "$ROOT_B/containers/$id/upper/root/new")" = made ]
    b diff pweb | grep -qx 'D /etc/group'
    # Podman's network is not here: a new address on ctrmig's
    [[ "$(b inspect --format '{{.NetworkSettings.IPAddress}}' pweb)" == 10.99.* ]]
    b rm -f pweb >/dev/null

    podman_counter pnone --network none
    podman container checkpoint -e "$BATS_TEST_TMPDIR/gzip.tar.gz" --compress gzip pnone >/dev/null
    last=$(podman logs pnone | tail -n 1)
    restores_in_b "$BATS_TEST_TMPDIR/gzip.tar.gz" pnone "$last"
    [ "$(b inspect --format '{{.HostConfig.NetworkMode}}' pnone)" = none ]
}

@test "Podman's archive with a file change and a deleted file, uncompressed" {
    podman_counter pfiles
    podman container checkpoint -e "$BATS_TEST_TMPDIR/plain.tar" --compress none pfiles >/dev/null
    local last
    last=$(podman logs pfiles | tail -n 1)
    restores_in_b "$BATS_TEST_TMPDIR/plain.tar" pfiles "$last"
}

@test "an archive laid out as the kubelet with CRI-O writes it restores" {
    ctrmig run -d --name kweb busybox sh -c "$COUNTER" >/dev/null
    wait_for_count kweb 3
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/ours.tar" -c none kweb >/dev/null
    local last d="$BATS_TEST_TMPDIR/crio"
    last=$(last_count kweb)
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/ours.tar"
    rm -f "$d/ctrmig.manifest" "$d/ctrmig.manifest.sig" "$d/network.status"
    # CRI-O's config.dump (checkpointctl's ContainerConfig) and annotations
    jq '{id: .id, name: .name, rootfsImage: "busybox", rootfsImageRef: .ctrmig.record.image.id,
         rootfsImageName: .rootfsImageName, runtime: "runc", createdTime: .createdTime,
         checkpointedTime: .checkpointedTime, restored: false}' "$d/config.dump" > "$d/c" && mv "$d/c" "$d/config.dump"
    jq '.annotations["io.container.manager"] = "cri-o" |
        .annotations["io.kubernetes.cri-o.Annotations"] = "{}"' "$d/spec.dump" > "$d/s" && mv "$d/s" "$d/spec.dump"
    echo '[]' > "$d/bind.mounts"
    echo 'a log line' > "$d/io.kubernetes.cri-o.LogPath"
    (cd "$d" && tar -cf "$BATS_TEST_TMPDIR/kubelet.tar" $(ls -A))
    ctrmig rm kweb >/dev/null
    run b restore -i "$BATS_TEST_TMPDIR/kubelet.tar"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *"made by CRI-O"* ]]
    wait_for_line_b kweb $((last + 1))
}

@test "a foreign archive's host folder needs -v, its privileges --privileged; refused, nothing made" {
    mkdir -p "$BATS_TEST_TMPDIR/theirs" "$BATS_TEST_TMPDIR/ours"
    echo here > "$BATS_TEST_TMPDIR/ours/file"
    podman_counter pbind -v "$BATS_TEST_TMPDIR/theirs:/hostdir"
    podman container checkpoint -e "$BATS_TEST_TMPDIR/bind.tar.zst" pbind >/dev/null
    local before last
    last=$(podman logs pbind | tail -n 1)
    before=$(store_contents "$ROOT_B")
    run b restore -i "$BATS_TEST_TMPDIR/bind.tar.zst"
    assert_one_line_error
    [[ "$output" == *"host folder $BATS_TEST_TMPDIR/theirs at /hostdir (-v SRC:/hostdir)"* ]]
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    # with -v, from a folder of this host's choosing
    b restore -i "$BATS_TEST_TMPDIR/bind.tar.zst" -v "$BATS_TEST_TMPDIR/ours:/hostdir" >/dev/null
    wait_for_line_b pbind $((last + 1))
    [ "$(b inspect --format '{{json .Mounts}}' pbind | jq -r '.[] | select(.Destination == "/hostdir") | .Source')" = "$BATS_TEST_TMPDIR/ours" ]
    [ "$(b exec pbind cat /hostdir/file)" = here ]
    b rm -f pbind >/dev/null
    before=$(store_contents "$ROOT_B")

    podman_counter ppriv --privileged
    podman container checkpoint -e "$BATS_TEST_TMPDIR/priv.tar.zst" ppriv >/dev/null
    run b restore -i "$BATS_TEST_TMPDIR/priv.tar.zst"
    assert_one_line_error
    # Podman gives a privileged container the host's devices
    [[ "$output" == *"privileged mode (--privileged)"* || "$output" == *"has devices"* ]] || { echo "$output"; false; }
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    ! grep -q " $ROOT_B/" /proc/self/mounts
}

@test "a foreign archive's hook or device: refused in one line, nothing made" {
    podman_counter phook
    podman container checkpoint -e "$BATS_TEST_TMPDIR/hook.tar.zst" phook >/dev/null
    # Podman writes the hooks of its hooks folders into spec.dump; this
    # host has none, so the test puts one there
    local d="$BATS_TEST_TMPDIR/hook" before
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/hook.tar.zst"
    jq '.hooks = {"prestart": [{"path": "/bin/true"}]}' "$d/spec.dump" > "$d/s" && mv "$d/s" "$d/spec.dump"
    (cd "$d" && tar -cf "$BATS_TEST_TMPDIR/hook.tar" $(ls -A))
    before=$(store_contents "$ROOT_B")
    run b restore -i "$BATS_TEST_TMPDIR/hook.tar" --trust-archive-config
    assert_one_line_error
    [[ "$output" == *"spec.dump asks for prestart hooks"* ]] || { echo "$output"; false; }
    [ "$(store_contents "$ROOT_B")" = "$before" ]

    podman rm -f pdev >/dev/null 2>&1 || true
    podman run -d --name pdev --device /dev/zero:/dev/myzero "${PODMAN_LIMITS[@]}" busybox sleep 1000 >/dev/null
    podman container checkpoint -e "$BATS_TEST_TMPDIR/dev.tar.zst" pdev >/dev/null
    run b restore -i "$BATS_TEST_TMPDIR/dev.tar.zst" --device /dev/zero:/dev/myzero
    assert_one_line_error
    [[ "$output" == *"container pdev has devices"* ]] || { echo "$output"; false; }
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    ! grep -q " $ROOT_B/" /proc/self/mounts
}

@test "Podman's archive on a network of the same name and subnet here: its address, MAC and ports (-p)" {
    teardown_more
    podman network create --subnet "$PNET_SUBNET" "$PNET" >/dev/null
    podman run -d --name pport --network "$PNET" -p 127.0.0.1::80 "${PODMAN_LIMITS[@]}" busybox \
        sh -c "$HTTP_COUNTER" >/dev/null
    local port ip mac before
    port=$(podman port pport 80/tcp | cut -d: -f2)
    ip=$(podman inspect pport | jq -r --arg n "$PNET" '.[0].NetworkSettings.Networks[$n].IPAddress')
    mac=$(podman inspect pport | jq -r --arg n "$PNET" '.[0].NetworkSettings.Networks[$n].MacAddress')
    [[ "$ip" == 10.89.77.* ]]
    [ "$(fetch "http://127.0.0.1:$port")" = 1 ]
    podman container checkpoint -e "$BATS_TEST_TMPDIR/port.tar.zst" pport >/dev/null
    # Another host has no Podman network on that subnet: removing it takes
    # its bridge and route, which a ctrmig network of the same subnet here
    # would clash with (ctrmig refuses a subnet the host routes elsewhere).
    podman rm pport >/dev/null
    podman network rm "$PNET" >/dev/null
    b network create --subnet "$PNET_SUBNET" "$PNET" >/dev/null
    # ctrmig's bridge, never Podman's cni-podmanN or netavark's podmanN
    [[ "$(b network inspect "$PNET" | jq -r '.[0].network_interface')" == ctrmig[0-9]* ]]
    # Host ports are a grant, as in ctrmig's own unsigned archives.
    before=$(store_contents "$ROOT_B")
    run b restore -i "$BATS_TEST_TMPDIR/port.tar.zst"
    assert_one_line_error
    [[ "$output" == *"host ports 127.0.0.1:$port->80/tcp (-p"* ]] || { echo "$output"; false; }
    [ "$(store_contents "$ROOT_B")" = "$before" ]
    b restore -i "$BATS_TEST_TMPDIR/port.tar.zst" -p "127.0.0.1:$port:80" >/dev/null
    [ "$(b inspect --format '{{.NetworkSettings.IPAddress}}' pport)" = "$ip" ]
    [ "$(b inspect --format '{{.NetworkSettings.MacAddress}}' pport)" = "$mac" ]
    [ "$(b port pport)" = "80/tcp -> 127.0.0.1:$port" ]
    # the count goes on, through the published port and at the address
    [ "$(fetch "http://127.0.0.1:$port")" = 2 ]
    [ "$(fetch "http://$ip")" = 3 ]
}

# ctrmig checkpoints a counter into an archive, Podman restores it, and the
# count goes on from where it was.
podman_restores_ours() { # name [ctrmig run args...]
    local name=$1
    shift
    ctrmig run -d --name "$name" "$@" busybox sh -c "$COUNTER" >/dev/null
    wait_for_count "$name" 3
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/$name.tar.zst" "$name" >/dev/null
    local last
    last=$(last_count "$name")
    ctrmig rm "$name" >/dev/null
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman container restore -i "$BATS_TEST_TMPDIR/$name.tar.zst" >/dev/null
    local i n=0
    for i in $(seq 100); do
        n=$(podman logs "$name" 2>/dev/null | tail -n 1)
        [ "${n:-0}" -gt "$last" ] 2>/dev/null && break
        sleep 0.1
    done
    [ "$n" -gt "$last" ]
    # it went on from the count: the first line Podman logged follows it
    [ "$(podman logs "$name" | head -n 1)" = $((last + 1)) ]
}

@test "Podman restores ctrmig's archive (podman container restore -i): the counter goes on" {
    podman_restores_ours tw
    podman rm -f tw >/dev/null
}

@test "Podman restores ctrmig's archive of a container without a network" {
    podman_restores_ours tnone --network none
    [ "$(podman inspect --format '{{.HostConfig.NetworkMode}}' tnone)" = none ]
    podman rm -f -t 0 tnone >/dev/null
}
