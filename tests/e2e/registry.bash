# A real registry for the tests: Debian's docker-registry, started with its own
# minimal config (never the packaged one: it listens on :5000 of every interface
# and has a broken htpasswd stanza) on 127.0.0.1, on a port the kernel picks,
# with a temporary storage folder; and test images built offline with umoci
# from the busybox rootfs and pushed there with skopeo.

require_registry() {
    local t
    for t in docker-registry skopeo umoci curl; do
        command -v "$t" >/dev/null || need "$t not installed (make deps)"
    done
}

# Starts the registry; sets REGISTRY (127.0.0.1:PORT), REGISTRY_PID, REGISTRY_DIR.
start_registry() {
    REGISTRY_DIR=$(mktemp -d /tmp/ctrmig-registry.XXXXXX)
    cat > "$REGISTRY_DIR/config.yml" <<CFG
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: ctrmig-tests-only
CFG
    # port 0: the kernel picks a free one, and the registry logs which
    docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 3>&- &
    REGISTRY_PID=$!
    local port="" tries=100
    while [ "$tries" -gt 0 ]; do
        port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$REGISTRY_DIR/log" | head -n 1 | cut -d: -f2)
        if [ -n "$port" ] && curl -fsS --noproxy '*' "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
            break
        fi
        kill -0 "$REGISTRY_PID" 2>/dev/null || break
        sleep 0.1
        tries=$((tries - 1))
    done
    if [ -z "$port" ] || [ "$tries" -eq 0 ] || ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
        echo "the test registry did not start: $(tail -n 3 "$REGISTRY_DIR/log")" >&2
        stop_registry
        return 1
    fi
    REGISTRY=127.0.0.1:$port
    export REGISTRY REGISTRY_PID REGISTRY_DIR
}

stop_registry() {
    if [ -n "${REGISTRY_PID:-}" ]; then
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    [ -n "${REGISTRY_DIR:-}" ] && rm -rf "$REGISTRY_DIR"
    REGISTRY_PID="" REGISTRY_DIR=""
}

# Pushes an OCI layout's image to the test registry: push LAYOUT:TAG NAME:TAG
push() {
    skopeo copy -q --dest-tls-verify=false "oci:$1" "docker://$REGISTRY/$2" >/dev/null
}

# A tar whose only member is a hard link to a file of a lower layer:
# GNU tar writes the file and the link, then the file is deleted from it.
# cross_layer_link_tar OUT TARGET LINK (paths relative to the image root)
cross_layer_link_tar() {
    local out=$1 target=$2 link=$3 dir
    dir=$(mktemp -d)
    mkdir -p "$dir/$(dirname "$target")" "$dir/$(dirname "$link")"
    echo placeholder > "$dir/$target"
    ln "$dir/$target" "$dir/$link"
    tar -C "$dir" --numeric-owner -cf "$out" "$target" "$link"
    tar --delete -f "$out" "$target"
    rm -rf "$dir"
}

# The test image, in an OCI layout at $1 with tag t: the busybox rootfs and
#   layer 1  /data/{gone,kept}, /opq/{old1,old2}, /srv/base (hard-link target),
#            /usr/bin/suidtool (setuid), /etc/passwd and /etc/group with "app"
#   layer 2  a whiteout of /data/gone
#   layer 3  /opq replaced (opaque) by /opq/new
#   layer 4  /srv/hl, a hard link to layer 1's /srv/base; /srv/sym -> base;
#            /usr/bin/suid2 (setuid, root)
# and a config with Entrypoint, Cmd, Env, WorkingDir, User and StopSignal.
build_test_image() {
    local layout=$1 work
    work=$(mktemp -d)
    cp -a "$(busybox_rootfs)" "$work/rootfs"
    mkdir -p "$work/rootfs/data" "$work/rootfs/opq" "$work/rootfs/srv" "$work/rootfs/usr/bin"
    echo gone > "$work/rootfs/data/gone"
    echo kept > "$work/rootfs/data/kept"
    echo old1 > "$work/rootfs/opq/old1"
    echo old2 > "$work/rootfs/opq/old2"
    echo base-content > "$work/rootfs/srv/base"
    cp "$work/rootfs/bin/busybox" "$work/rootfs/usr/bin/suidtool"
    chmod 4755 "$work/rootfs/usr/bin/suidtool"
    echo 'app:x:1000:1000:app:/srv:/bin/sh' >> "$work/rootfs/etc/passwd"
    echo 'app:x:1000:' >> "$work/rootfs/etc/group"
    mkdir -p "$work/opq"
    echo new > "$work/opq/new"
    mkdir -p "$work/l4/srv" "$work/l4/usr/bin"
    cross_layer_link_tar "$work/l4.tar" srv/base srv/hl
    ln -s base "$work/l4/srv/sym"
    printf '#!/bin/sh\necho suid2\n' > "$work/l4/usr/bin/suid2"
    chmod 4755 "$work/l4/usr/bin/suid2"
    tar -C "$work/l4" --numeric-owner -rf "$work/l4.tar" srv/sym usr/bin/suid2

    umoci init --layout "$layout"
    umoci new --image "$layout:t"
    umoci insert --image "$layout:t" "$work/rootfs" / >/dev/null
    umoci insert --image "$layout:t" --whiteout /data/gone >/dev/null
    umoci insert --image "$layout:t" --opaque "$work/opq" /opq >/dev/null
    umoci raw add-layer --image "$layout:t" "$work/l4.tar" >/dev/null
    umoci config --image "$layout:t" --config.entrypoint /bin/sh --config.entrypoint -c \
        --config.cmd 'echo hello from the image' --config.env GREETING=hello --config.env PATH=/usr/bin:/bin \
        --config.workingdir /srv --config.user app --config.stopsignal SIGUSR1 \
        --config.exposedports 8080/tcp --config.label org.example.test=yes >/dev/null
    rm -rf "$work"
}

# Digests of an image in an OCI layout: layout_digest LAYOUT TAG manifest|config
layout_digest() {
    local m
    m=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
        "$1/index.json")
    if [ "$3" = manifest ]; then
        echo "$m"
    else
        jq -r .config.digest "$1/blobs/sha256/${m#sha256:}"
    fi
}

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Layer folders in a store (hex names only).
layer_dirs() { ls "$1/layers" 2>/dev/null | grep -Ec '^[0-9a-f]{64}$' || true; }

# What a failed command may not leave in a store: staging folders.
no_staging_left() {
    local left
    left=$(ls -A "$1/images" "$1/layers" 2>/dev/null | grep '^\.' || true)
    [ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
}

# An image of n layers (the busybox rootfs, then /layer-2 ... /layer-n, each
# file in a layer of its own) in an OCI layout at $1 with tag t.
build_many_layers() {
    local layout=$1 n=$2 i work
    work=$(mktemp -d)
    umoci init --layout "$layout"
    umoci new --image "$layout:t"
    umoci insert --image "$layout:t" "$(busybox_rootfs)" / >/dev/null
    for i in $(seq 2 "$n"); do
        mkdir -p "$work/$i"
        echo "$i" > "$work/$i/layer-$i"
        tar -C "$work/$i" --numeric-owner -cf "$work/$i.tar" "layer-$i"
        umoci raw add-layer --image "$layout:t" "$work/$i.tar" >/dev/null
    done
    rm -rf "$work"
}

# A layout whose only layer is the tar at $2 (verbatim): hostile_layout OUT TAR
hostile_layout() {
    umoci init --layout "$1"
    umoci new --image "$1:t"
    umoci raw add-layer --image "$1:t" "$2" >/dev/null
}

# Docker 25's `docker save`: an OCI layout plus a manifest.json whose
# Config and Layers name blobs/sha256/... (uncompressed layers).
# docker25_archive LAYOUT TAG OUT NAME
docker25_archive() {
    local layout=$1 tag=$2 out=$3 name=$4 w cfg l h layers=() descs=()
    w=$(mktemp -d)
    skopeo copy -q "oci:$layout:$tag" "docker-archive:$w/d.tar:$name" >/dev/null
    mkdir -p "$w/x" "$w/y/blobs/sha256"
    tar -C "$w/x" -xf "$w/d.tar"
    cfg=$(jq -r '.[0].Config' "$w/x/manifest.json")
    h=$(sha256sum "$w/x/$cfg" | cut -c1-64)
    cp "$w/x/$cfg" "$w/y/blobs/sha256/$h"
    local cfg_desc
    cfg_desc=$(jq -nc --arg d "sha256:$h" --argjson s "$(stat -c %s "$w/x/$cfg")" \
        '{mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s}')
    for l in $(jq -r '.[0].Layers[]' "$w/x/manifest.json"); do
        h=$(sha256sum "$w/x/$l" | cut -c1-64)
        cp "$w/x/$l" "$w/y/blobs/sha256/$h"
        layers+=("blobs/sha256/$h")
        descs+=("$(jq -nc --arg d "sha256:$h" --argjson s "$(stat -c %s "$w/x/$l")" \
            '{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $d, size: $s}')")
    done
    jq -nc --arg c "blobs/sha256/$(jq -r .digest <<<"$cfg_desc" | cut -d: -f2)" --arg t "$name" \
        '[{Config: $c, RepoTags: [$t], Layers: $ARGS.positional}]' --args "${layers[@]}" > "$w/y/manifest.json"
    local m
    m=$(printf '%s\n' "${descs[@]}" | jq -sc --argjson c "$cfg_desc" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}')
    h=$(printf %s "$m" | sha256sum | cut -c1-64)
    printf %s "$m" > "$w/y/blobs/sha256/$h"
    jq -nc --arg d "sha256:$h" --argjson s "${#m}" --arg n "$name" \
        '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d,
          size: $s, annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": "1"}}]}' \
        > "$w/y/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' > "$w/y/oci-layout"
    tar -C "$w/y" -cf "$out" .
    rm -rf "$w"
}

# Rewrites the manifest of LAYOUT:t with a jq filter, and index.json to point
# at it: edit_manifest LAYOUT FILTER
edit_manifest() {
    local layout=$1 filter=$2 old new h
    old=$(layout_digest "$layout" t manifest)
    new=$(jq -c "$filter" "$layout/blobs/sha256/${old#sha256:}")
    h=$(printf %s "$new" | sha256sum | cut -c1-64)
    printf %s "$new" > "$layout/blobs/sha256/$h"
    jq -c --arg d "sha256:$h" --argjson s "${#new}" '.manifests[0].digest = $d | .manifests[0].size = $s' \
        "$layout/index.json" > "$layout/index.json.new"
    mv "$layout/index.json.new" "$layout/index.json"
}
