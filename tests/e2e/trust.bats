#!/usr/bin/env bats
# Archives are untrusted input: a forged archive whose manifest was simply
# recomputed can ask for anything; a restore grants only its command line.
bats_require_minimum_version 1.5.0
load helpers
load archive_helpers

# A real archive's members with one JSON member edited by a jq filter, forged
# into an archive whose manifest matches.
forge_json() { # out member jq-filter
    local d="$BATS_TEST_TMPDIR/f.$RANDOM"
    mkdir -p "$d"
    tar -C "$d" -xf "$BATS_TEST_TMPDIR/real.tar.zst"
    rm -f "$d/ctrmig.manifest" "$d/ctrmig.manifest.sig"
    jq -c "$3" "$d/$2" > "$d/$2.new" && mv "$d/$2.new" "$d/$2"
    forge "$1" "$d"
}

# The store, the host and the container as before: no container, no mount.
assert_forged_refused() { # member jq-filter pattern [restore args...]
    forge_json "$BATS_TEST_TMPDIR/forged.tar.zst" "$1" "$2"
    assert_rejected "$BATS_TEST_TMPDIR/forged.tar.zst" "$3" "${@:4}"
}

real_archive() {
    counter_archive "$BATS_TEST_TMPDIR/real.tar.zst" >/dev/null
}

@test "spec.dump asks for privileges: each is named and refused, nothing is left" {
    real_archive
    local S=spec.dump
    assert_forged_refused $S '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]' "capability CAP_SYS_ADMIN"
    assert_forged_refused $S '.mounts += [{"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rw"]}]' "host path / mounted at /host"
    assert_forged_refused $S '.linux.namespaces |= map(select(.type != "ipc"))' "the host's ipc namespace"
    assert_forged_refused $S '.linux.namespaces |= map(if .type == "uts" then .path = "/proc/1/ns/uts" else . end)' "joining the uts namespace at /proc/1/ns/uts"
    assert_forged_refused $S '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]' "device /dev/kmsg"
    assert_forged_refused $S '.linux.resources.devices = [{"allow": true, "access": "rwm"}]' "access to devices"
    assert_forged_refused $S '.linux.maskedPaths = []' "unmasked /proc/kcore"
    assert_forged_refused $S '.linux.readonlyPaths = []' "writable /proc/sys"
    assert_forged_refused $S '.linux.sysctl = {"kernel.shm_rmid_forced": "1"}' "the sysctl kernel.shm_rmid_forced"
    assert_forged_refused $S '.hooks = {"prestart": [{"path": "/bin/sh"}]}' "prestart hooks"
    assert_forged_refused $S '.annotations["org.criu.config"] = "/tmp/evil.conf"' "the annotation org.criu.config"
    assert_forged_refused $S '.root.path = "/"' "the root file system /"
    assert_forged_refused $S '.process.user.uid = 1000' "another user (uid 1000)"
    assert_forged_refused $S '.process.apparmorProfile = "unconfined"' "apparmorProfile unconfined"
}

@test "config.dump asks for grants: refused without the flag that allows each" {
    real_archive
    local C=config.dump R='.ctrmig.record.config'
    # a consistent forgery: the record and spec.dump both ask for it
    forge_json "$BATS_TEST_TMPDIR/caps.tar.zst" $C "$R.cap_add = [\"CAP_SYS_ADMIN\"]"
    local d="$BATS_TEST_TMPDIR/caps"
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/caps.tar.zst" && rm "$d/ctrmig.manifest"
    jq -c '.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"])' "$d/spec.dump" > "$d/s" && mv "$d/s" "$d/spec.dump"
    forge "$BATS_TEST_TMPDIR/caps.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/caps.tar.zst" "capability CAP_SYS_ADMIN (--cap-add SYS_ADMIN)"
    # allowed on the command line: the runc config has it, CRIU's images (the
    # process's own credentials) do not, so the process does not
    run b restore -i "$BATS_TEST_TMPDIR/caps.tar.zst" --cap-add SYS_ADMIN
    [ "$status" -eq 0 ]
    local pid
    pid=$(b inspect --format '{{.State.Pid}}' web)
    [ "$(b inspect --format '{{.HostConfig.CapAdd}}' web)" = "[CAP_SYS_ADMIN]" ]
    b rm -f web >/dev/null

    assert_forged_refused $C "$R.privileged = true" "privileged mode (--privileged)"
    assert_forged_refused $C "$R.network = \"host\" | del($R.netns)" "the host's network (--network host)"
    assert_forged_refused $C "$R.devices = [{\"path\": \"/dev/kmsg\", \"destination\": \"/dev/kmsg\", \"permissions\": \"rwm\"}]" "device /dev/kmsg (--device /dev/kmsg)"
    assert_forged_refused $C "$R.apparmor = \"unconfined\"" "the config field 'apparmor' is unknown"
    assert_forged_refused $C "$R.cmd = \"sh\"" "cmd is not a list"
    assert_forged_refused $C "$R.tmpfs = [\"/../../etc\"]" "config.dump: tmpfs"
    assert_forged_refused $C "$R.cap_add = [\"CAP_NOT_A_CAP\"]" "config.dump: cap_add"
}

@test "a volume needs -v on restore, which may give it another source" {
    mkdir -p "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/data2"
    echo one > "$BATS_TEST_TMPDIR/data/f"
    echo two > "$BATS_TEST_TMPDIR/data2/f"
    ctrmig run -d --name web -v "$BATS_TEST_TMPDIR/data:/data" busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/v.tar.zst" web >/dev/null
    assert_rejected "$BATS_TEST_TMPDIR/v.tar.zst" "host folder $BATS_TEST_TMPDIR/data at /data (-v SRC:/data)"
    assert_rejected "$BATS_TEST_TMPDIR/v.tar.zst" "no volume at /elsewhere" -v "$BATS_TEST_TMPDIR/data2:/elsewhere"
    run b restore -i "$BATS_TEST_TMPDIR/v.tar.zst" -v "$BATS_TEST_TMPDIR/data2:/data"
    [ "$status" -eq 0 ]
    local pid
    pid=$(b inspect --format '{{.State.Pid}}' web)
    [ "$(nsenter -t "$pid" -m -r /bin/cat /data/f)" = two ]
    [ "$(b inspect web | jq -r '.[0].Mounts[0].Source')" = "$BATS_TEST_TMPDIR/data2" ]
    b rm -f web >/dev/null
    # --trust-archive-config takes the recorded source
    run b restore -i "$BATS_TEST_TMPDIR/v.tar.zst" --trust-archive-config
    [ "$status" -eq 0 ]
    pid=$(b inspect --format '{{.State.Pid}}' web)
    [ "$(nsenter -t "$pid" -m -r /bin/cat /data/f)" = one ]
}

@test "what runs is the record's command, never spec.dump's" {
    real_archive
    forge_json "$BATS_TEST_TMPDIR/args.tar.zst" spec.dump '.process.args = ["/bin/sh", "-c", "touch /pwned; sleep 1000"]'
    b import --name args "$BATS_TEST_TMPDIR/args.tar.zst" >/dev/null
    local id
    id=$(b inspect --format '{{.Id}}' args)
    ! grep -q pwned "$ROOT_B/containers/$id/bundle/config.json"
    b rm -f args >/dev/null
    b import --name args "$BATS_TEST_TMPDIR/args.tar.zst" >/dev/null
    b stop args >/dev/null 2>&1 || true
    b start args >/dev/null
    id=$(b inspect --format '{{.Id}}' args)
    sleep 0.3
    [ ! -e "$ROOT_B/containers/$id/upper/pwned" ]
    [[ "$(b inspect --format '{{.Config.Cmd}}' args)" == *"i=0; while true"* ]]
    [[ "$(tr '\0' ' ' < /proc/"$(b inspect --format '{{.State.Pid}}' args)"/cmdline)" == *"i=0; while true"* ]]
}

@test "rootfs-diff.tar: device nodes and fifos refused, setuid bits dropped, no deletes through planted links" {
    local d="$BATS_TEST_TMPDIR/m" r="$BATS_TEST_TMPDIR/r"
    real_members "$d"
    rm -f "$d/ctrmig.manifest.sig"
    mkdir -p "$r/dev2"
    mknod "$r/dev2/kmsg" c 1 11
    tar -C "$r" -cf "$d/rootfs-diff.tar" dev2/kmsg
    forge "$BATS_TEST_TMPDIR/dev.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/dev.tar.zst" "dev2/kmsg: device nodes, fifos and sockets are not taken"
    rm -rf "$r" && mkdir -p "$r" && mkfifo "$r/pipe"
    tar -C "$r" -cf "$d/rootfs-diff.tar" pipe
    forge "$BATS_TEST_TMPDIR/fifo.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/fifo.tar.zst" "pipe: device nodes, fifos and sockets"

    rm -rf "$r" && mkdir -p "$r"
    ln -s /etc "$r/planted"
    tar -C "$r" -cf "$d/rootfs-diff.tar" planted
    echo '["planted/passwd"]' > "$d/deleted.files"
    forge "$BATS_TEST_TMPDIR/link.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/link.tar.zst" "leads through the symlink planted"

    rm -rf "$r" && mkdir -p "$r/bin"
    cp "$(busybox_rootfs)/bin/busybox" "$r/bin/rootshell"
    chmod 6755 "$r/bin/rootshell"
    tar -C "$r" --numeric-owner -cf "$d/rootfs-diff.tar" bin/rootshell
    echo '[]' > "$d/deleted.files"
    forge "$BATS_TEST_TMPDIR/suid.tar.zst" "$d"
    b import --name suid "$BATS_TEST_TMPDIR/suid.tar.zst" >/dev/null
    local id
    id=$(b inspect --format '{{.Id}}' suid)
    [ -f "$ROOT_B/containers/$id/upper/bin/rootshell" ]
    [ "$(stat -c %a "$ROOT_B/containers/$id/upper/bin/rootshell")" = 755 ]
}

@test "a carried image with a device node is refused, as image/ layers and as an old image.tar" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint --include-image -e "$BATS_TEST_TMPDIR/img.tar.zst" web >/dev/null
    local d="$BATS_TEST_TMPDIR/m" r="$BATS_TEST_TMPDIR/img" l="$BATS_TEST_TMPDIR/layout"
    mkdir -p "$d" "$r"
    tar -C "$d" -xf "$BATS_TEST_TMPDIR/img.tar.zst" && rm -f "$d/ctrmig.manifest" "$d/ctrmig.manifest.sig"
    [ -f "$d/image/index.json" ]
    cp -a "$(busybox_rootfs)/." "$r"
    mknod "$r/dev/evilmem" c 1 1
    # image/: a consistent OCI layout (umoci) whose layer holds the device node
    umoci init --layout "$l" >/dev/null
    umoci new --image "$l:t" >/dev/null
    umoci insert --image "$l:t" "$r" / >/dev/null
    local m c
    m=$(jq -r '.manifests[0].digest' "$l/index.json")
    c=$(jq -r .config.digest "$l/blobs/sha256/${m#sha256:}")
    rm -rf "$d/image" && cp -a "$l" "$d/image"
    jq -c --arg id "${c#sha256:}" --arg m "$m" '.ctrmig.record.image = {"id": $id, "digest": $m, "name": "evil"}' \
        "$d/config.dump" > "$d/c" && mv "$d/c" "$d/config.dump"
    forge "$BATS_TEST_TMPDIR/evillayout.tar.zst" "$d"
    b image rm busybox >/dev/null
    assert_rejected "$BATS_TEST_TMPDIR/evillayout.tar.zst" "dev/evilmem"
    [ -z "$(b image ls -q 2>/dev/null)" ]
    [ -z "$(ls "$ROOT_B/layers" 2>/dev/null | grep -v '^l$' || true)" ]
    # image.tar, as older ctrmig wrote it
    rm -rf "$d/image"
    tar -C "$r" --numeric-owner -cf "$d/image.tar" .
    forge "$BATS_TEST_TMPDIR/evilimg.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/evilimg.tar.zst" "dev/evilmem: device nodes, fifos and sockets"
    [ -z "$(b image ls -q 2>/dev/null)" ]
    # an image.tar compressed otherwise than ctrmig writes it (xz here; lzop
    # would make libarchive run an outside program) is not read at all
    rm "$r/dev/evilmem"
    tar -C "$r" --numeric-owner -cf - . | xz -0 -T2 > "$d/image.tar"
    forge "$BATS_TEST_TMPDIR/xzimg.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/xzimg.tar.zst" "image.tar: Unrecognized archive format"
    [ -z "$(b image ls -q 2>/dev/null)" ]
}

@test "bounds: a large JSON member, more memory than the host has, more than the disk holds" {
    local d="$BATS_TEST_TMPDIR/m"
    real_members "$d"
    rm -f "$d/ctrmig.manifest.sig"
    head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >> "$d/config.dump"
    forge "$BATS_TEST_TMPDIR/bigjson.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/bigjson.tar.zst" "member config.dump: "*"more than the 1048576 such a member may have"

    rm -rf "$d" && mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/real.tar.zst"
    rm -f "$d/ctrmig.manifest" "$d/ctrmig.manifest.sig"
    local mem
    mem=$(awk '/^(MemTotal|SwapTotal):/ {s += $2} END {printf "%.0f", s * 1024}' /proc/meminfo)
    truncate -s $((mem + 4096)) "$d/checkpoint/pages-9.img"
    (cd "$d" && tar -cf - --sparse $(ls -A) | zstd -q > "$BATS_TEST_TMPDIR/hugemem.tar.zst")
    assert_rejected "$BATS_TEST_TMPDIR/hugemem.tar.zst" "more than this host's"
    rm "$d/checkpoint/pages-9.img"

    # a store on a small file system: the member is refused before it is
    # written (into the store: no memory stage, see ctrmig-restore(1))
    local small="$BATS_TEST_TMPDIR/small"
    mkdir -p "$small"
    mount -t tmpfs -o size=96m tmpfs "$small"
    "$CTRMIG_BIN" --root "$small/store" image import "$(busybox_rootfs)" busybox >/dev/null
    head -c $((48 << 20)) /dev/urandom > "$d/checkpoint/pages-9.img"
    forge "$BATS_TEST_TMPDIR/big.tar.zst" "$d"
    CTRMIG_MEM_STAGE_MAX=0 run "$CTRMIG_BIN" --root "$small/store" restore -i "$BATS_TEST_TMPDIR/big.tar.zst"
    assert_one_line_error
    [[ "$output" == *"pages-9.img: 48 MiB do not fit in $small/store"* ]]
    [ -z "$(ls -A "$small/store/containers")" ]
    [ "$(df --output=used -B1M "$small" | tail -n 1)" -lt 40 ]
    forget_runc_state "$small/store"
}

@test "CRIU's images are checked before CRIU reads them: forged credentials are refused" {
    local d="$BATS_TEST_TMPDIR/m"
    real_members "$d"
    "$TOP/build/tools/forge_criu_caps" "$d/checkpoint"
    forge "$BATS_TEST_TMPDIR/caps.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/caps.tar.zst" "checkpoint/core-"*"holds CAP_"*"which the container's config does not grant"
    # pages cut short: CRIU 4.2.1 would spin on them for ever
    rm -rf "$d" && mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/real.tar.zst"
    truncate -s 4096 "$d/checkpoint/pages-1.img"
    forge "$BATS_TEST_TMPDIR/short.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/short.tar.zst" "bytes of pages, but pages-1.img holds 4096"
    ! pgrep -f "i=0; while true" -P 1 >/dev/null || [ "$(b ps -q | wc -l)" -eq 0 ]
}

@test "signatures: another host's key is not trusted until 'trust add'; a changed archive is refused" {
    mkdir -p "$BATS_TEST_TMPDIR/data"
    ctrmig run -d --name web -v "$BATS_TEST_TMPDIR/data:/data" busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/v.tar.zst" web >/dev/null
    tar -tf "$BATS_TEST_TMPDIR/v.tar.zst" | tail -n 2 | tr '\n' ' ' | grep -qx 'ctrmig.manifest ctrmig.manifest.sig '
    # signed by A, which B does not trust: the default rules
    assert_rejected "$BATS_TEST_TMPDIR/v.tar.zst" "(-v SRC:/data)"
    # tampered after signing: the manifest recomputed, the signature kept
    local d="$BATS_TEST_TMPDIR/t"
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/v.tar.zst"
    cp "$d/ctrmig.manifest.sig" "$BATS_TEST_TMPDIR/sig"
    jq -c '.ctrmig.record.config.cmd = ["sh"]' "$d/config.dump" > "$d/c" && mv "$d/c" "$d/config.dump"
    rm "$d/ctrmig.manifest"
    forge "$BATS_TEST_TMPDIR/tampered.tar.zst" "$d"
    zstd -dqf "$BATS_TEST_TMPDIR/tampered.tar.zst" -o "$BATS_TEST_TMPDIR/tampered.tar"
    cp "$BATS_TEST_TMPDIR/sig" "$d/ctrmig.manifest.sig"
    tar -C "$d" -rf "${BATS_TEST_TMPDIR}/tampered.tar" ctrmig.manifest.sig
    assert_rejected "$BATS_TEST_TMPDIR/tampered.tar" "the signature does not match"
    # B trusts A: the recorded volume comes with no flag
    ctrmig trust key > "$BATS_TEST_TMPDIR/hosta.pub"
    b trust add "$BATS_TEST_TMPDIR/hosta.pub" >/dev/null
    [ "$(b trust ls | grep -c hosta)" -eq 1 ]
    run b restore -i "$BATS_TEST_TMPDIR/v.tar.zst"
    [ "$status" -eq 0 ]
    [ "$(b inspect web | jq -r '.[0].Mounts[0].Source')" = "$BATS_TEST_TMPDIR/data" ]
}

@test "policy.json can refuse unsigned and untrusted archives; --sign-key signs with another key" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    openssl genpkey -algorithm ed25519 -out "$BATS_TEST_TMPDIR/team.pem" 2>/dev/null
    openssl pkey -in "$BATS_TEST_TMPDIR/team.pem" -pubout -out "$BATS_TEST_TMPDIR/team.pub"
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/c.tar.zst" --sign-key "$BATS_TEST_TMPDIR/team.pem" web >/dev/null
    mkdir -p "$ROOT_B/conf"
    echo '{"require_signature": true}' > "$ROOT_B/conf/policy.json"
    local fp
    fp=$(CTRMIG_CONFIG_DIR="$BATS_TEST_TMPDIR/x" "$CTRMIG_BIN" trust add --name team "$BATS_TEST_TMPDIR/team.pub" | awk '{print $2}')
    assert_rejected "$BATS_TEST_TMPDIR/c.tar.zst" "signed by $fp, a key this host does not trust"
    local d="$BATS_TEST_TMPDIR/m"
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/c.tar.zst" && rm "$d/ctrmig.manifest"
    forge "$BATS_TEST_TMPDIR/unsigned.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/unsigned.tar.zst" "not signed, and this host's policy requires"
    b trust add --name team "$BATS_TEST_TMPDIR/team.pub" >/dev/null
    run b restore -i "$BATS_TEST_TMPDIR/c.tar.zst"
    [ "$status" -eq 0 ]
    b rm -f web >/dev/null
    assert_rejected "$BATS_TEST_TMPDIR/unsigned.tar.zst" "not signed"
}

@test "a restore -i that fails takes away the image it brought" {
    ctrmig run -d --name web busybox sh -c "$COUNTER" >/dev/null
    wait_for_count web 3
    ctrmig checkpoint --include-image -e "$BATS_TEST_TMPDIR/img.tar.zst" web >/dev/null
    local d="$BATS_TEST_TMPDIR/m"
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/img.tar.zst" && rm "$d/ctrmig.manifest"
    head -c 16 /dev/urandom > "$d/checkpoint/mm-1.img" # only CRIU fails on it
    forge "$BATS_TEST_TMPDIR/bad.tar.zst" "$d"
    b image rm busybox >/dev/null
    assert_rejected "$BATS_TEST_TMPDIR/bad.tar.zst" "removed again"
    [ -z "$(b image ls -q)" ]
}

@test "a restored archive runs with ctrmig's defaults, as /proc shows them" {
    real_archive
    # forged, but asking for nothing: only labels and the command differ
    forge_json "$BATS_TEST_TMPDIR/ok.tar.zst" spec.dump '.annotations["com.example.label"] = "x" | .process.args = ["/bin/sh"]'
    run b restore -i "$BATS_TEST_TMPDIR/ok.tar.zst"
    [ "$status" -eq 0 ]
    local pid id
    pid=$(b inspect --format '{{.State.Pid}}' web)
    id=$(b inspect --format '{{.Id}}' web)
    # Podman's 11 default capabilities, in every set; nothing ambient
    grep -qx $'CapEff:\t00000000800405fb' /proc/$pid/status
    grep -qx $'CapBnd:\t00000000800405fb' /proc/$pid/status
    grep -qx $'CapAmb:\t0000000000000000' /proc/$pid/status
    # its own namespaces
    local ns
    for ns in pid ipc uts mnt net; do
        [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/1/ns/$ns)" ] || { echo "shares the host's $ns namespace" >&2; return 1; }
    done
    # no mount but ctrmig's own: the root, /proc, /dev, /sys, the masked
    # paths and the /etc files ctrmig writes
    local m
    while read -r m; do
        case "$m" in
            /|/proc|/proc/*|/dev|/dev/pts|/dev/shm|/dev/mqueue|/sys|/sys/fs/cgroup|/sys/fs/cgroup/*|/sys/firmware) ;;
            /etc/hosts|/etc/hostname|/etc/resolv.conf) ;;
            *) echo "unexpected mount $m" >&2; return 1 ;;
        esac
    done < <(awk '{print $5}' /proc/$pid/mountinfo)
    # /proc/keys is masked, /proc/sys read-only
    awk '$5 == "/proc/keys"' /proc/$pid/mountinfo | grep -q .
    awk '$5 == "/proc/sys" && $6 ~ /(^|,)ro(,|$)/' /proc/$pid/mountinfo | grep -q .
    # the device cgroup allows only runc's defaults, not every device
    local devs
    devs=$(cat "/sys/fs/cgroup/devices$(awk -F: '$2 == "devices" {print $3}' /proc/$pid/cgroup)/devices.list")
    [[ "$devs" != *"a *:* rwm"* ]]
    ! grep -q pwned "$ROOT_B/containers/$id/bundle/config.json"
}

@test "the recorded user must be the uid the base image gives it" {
    real_archive
    assert_forged_refused config.dump '.ctrmig.record.config.user = "nobody"' "user nobody is not in the image's /etc/passwd"
    # consistent with spec.dump, so that only the image can tell
    local d="$BATS_TEST_TMPDIR/u"
    mkdir -p "$d" && tar -C "$d" -xf "$BATS_TEST_TMPDIR/real.tar.zst" && rm -f "$d/ctrmig.manifest"
    jq -c '.ctrmig.record.config.user = "root" | .ctrmig.record.config.uid = 1000' "$d/config.dump" > "$d/c" && mv "$d/c" "$d/config.dump"
    jq -c '.process.user.uid = 1000' "$d/spec.dump" > "$d/s" && mv "$d/s" "$d/spec.dump"
    forge "$BATS_TEST_TMPDIR/uid.tar.zst" "$d"
    assert_rejected "$BATS_TEST_TMPDIR/uid.tar.zst" "user root is 0:0 in the base image, but the record runs it as 1000:0"
    assert_forged_refused config.dump '.ctrmig.record.config.uid = 0' "a uid or gid without the user"
}
