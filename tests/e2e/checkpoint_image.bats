#!/usr/bin/env bats
# Checkpoint images (Kubernetes' format): checkpoint --create-image, image
# push to a real registry (docker-registry on 127.0.0.1), restore REF in a
# store that never saw the container.
bats_require_minimum_version 1.5.0
load helpers
load archive_helpers
load registry

setup_file() {
    require_registry
    start_registry
}

teardown_file() { stop_registry; }

@test "checkpoint --create-image: one layer holding the archive, the engines' annotations" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint --create-image localhost/web-ckpt:1 web >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' web)" = checkpointed ]
    ctrmig image ls | grep -q 'localhost/web-ckpt'
    local id dir m
    id=$(ctrmig image inspect localhost/web-ckpt:1 | jq -r '.[0].Id')
    dir="$CTR_ROOT/images/${id#sha256:}"
    m="$dir/manifest.json"
    jq -e '.annotations["io.kubernetes.cri-o.annotations.checkpoint.name"] == "web"' "$m"
    jq -e '.annotations["org.criu.checkpoint.container.name"] == "web"' "$m"
    jq -e '.annotations["io.podman.annotations.checkpoint.name"] == "web"' "$m"
    jq -e '.annotations["io.podman.annotations.checkpoint.runtime.name"] == "runc"' "$m"
    jq -e '.layers | length == 1' "$m"
    # the layer is the archive: its files at the root
    local layer
    layer=$(jq -r '.layers[0].digest' "$m")
    tar -tf "$CTR_ROOT/blobs/sha256/${layer#sha256:}" | grep -qx 'config.dump'
    tar -tf "$CTR_ROOT/blobs/sha256/${layer#sha256:}" | grep -qx 'checkpoint/inventory.img'
    # restore REF here: a new container from the image
    ctrmig rm web >/dev/null
    ctrmig restore localhost/web-ckpt:1 >/dev/null
    wait_for_count web 5
}

@test "image push, then restore REF in a store that never saw the container, pulled from the registry" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint --create-image "$REGISTRY/ctrmig/web-ckpt:1" web >/dev/null
    local saved
    saved=$(last_count web)
    ctrmig image push --tls-verify=false "$REGISTRY/ctrmig/web-ckpt:1"
    curl -fsS "http://$REGISTRY/v2/ctrmig/web-ckpt/tags/list" | grep -q '"1"'
    b restore --tls-verify=false "$REGISTRY/ctrmig/web-ckpt:1" >/dev/null
    wait_for_line_b web $((saved + 1))
    # restore -i REF does the same, as a copy here
    ctrmig rm web >/dev/null
    ctrmig restore -i "$REGISTRY/ctrmig/web-ckpt:1" -n copy >/dev/null
    [ "$(ctrmig inspect --format '{{.State.Status}}' copy)" = running ]
}

@test "restore REF: not a checkpoint image, no such image, no registry: one-line errors" {
    run ctrmig restore busybox
    assert_one_line_error
    [[ "$output" == *"not a checkpoint image"* ]]
    run ctrmig restore "127.0.0.1:9/nothing/here:1"
    assert_one_line_error
    run ctrmig checkpoint --create-image 'Bad Name' nosuch
    assert_one_line_error
    [ -z "$(ctrmig ps -aq)" ]
}

@test "restore REF of a checkpoint image Podman made and pushed" {
    command -v podman >/dev/null || need "podman not installed (make deps)"
    ctrmig image save -o "$BATS_TEST_TMPDIR/busybox.tar" busybox
    podman load -q -i "$BATS_TEST_TMPDIR/busybox.tar" >/dev/null
    podman rm -f pimg >/dev/null 2>&1 || true
    podman run -d --name pimg --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 busybox \
        sh -c "$COUNTER" >/dev/null
    local i last
    for i in $(seq 100); do [ "$(podman logs pimg 2>/dev/null | tail -n 1)" -ge 3 ] 2>/dev/null && break; sleep 0.1; done
    podman container checkpoint --create-image "$REGISTRY/ctrmig/podman-ckpt:1" pimg >/dev/null
    last=$(podman logs pimg | tail -n 1)
    podman push -q --tls-verify=false "$REGISTRY/ctrmig/podman-ckpt:1"
    podman rm -f pimg >/dev/null
    podman rmi -f "$REGISTRY/ctrmig/podman-ckpt:1" >/dev/null 2>&1 || true
    b restore --tls-verify=false "$REGISTRY/ctrmig/podman-ckpt:1" >/dev/null
    wait_for_line_b pimg $((last + 1))
}

@test "Podman restores ctrmig's checkpoint image, pulled from the registry" {
    command -v podman >/dev/null || need "podman not installed (make deps)"
    # the base image, the same id in Podman's storage and ctrmig's
    ctrmig image save -o "$BATS_TEST_TMPDIR/busybox.tar" busybox
    podman load -q -i "$BATS_TEST_TMPDIR/busybox.tar" >/dev/null
    ctrmig run -d --name cimg busybox sh -c "$COUNTER" >/dev/null
    wait_for_count cimg 3
    ctrmig checkpoint --create-image "$REGISTRY/ctrmig/cimg-ckpt:1" cimg >/dev/null
    local last i n=0
    last=$(last_count cimg)
    ctrmig image push --tls-verify=false "$REGISTRY/ctrmig/cimg-ckpt:1"
    ctrmig rm cimg >/dev/null
    podman rm -f cimg >/dev/null 2>&1 || true
    podman pull -q --tls-verify=false "$REGISTRY/ctrmig/cimg-ckpt:1" >/dev/null
    podman container restore "$REGISTRY/ctrmig/cimg-ckpt:1" >/dev/null
    for i in $(seq 100); do
        n=$(podman logs cimg 2>/dev/null | tail -n 1)
        [ "${n:-0}" -gt "$last" ] 2>/dev/null && break
        sleep 0.1
    done
    [ "$(podman logs cimg | head -n 1)" = $((last + 1)) ]
    podman rm -f -t 0 cimg >/dev/null
    podman rmi -f "$REGISTRY/ctrmig/cimg-ckpt:1" >/dev/null 2>&1 || true
}
