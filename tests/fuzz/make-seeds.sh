#!/usr/bin/env bash
# Writes the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/) from the members
# of a real checkpoint archive, unpacked into DUMP:
#
#   R=$(mktemp -d); export CTRMIG_CONFIG_DIR=$R/conf
#   scripts/busybox-rootfs.sh $R/rootfs
#   ./ctrmig --root $R image import $R/rootfs busybox
#   ./ctrmig --root $R run -d --name t busybox sleep 1000
#   ./ctrmig --root $R checkpoint -e $R/t.tar -c none t
#   mkdir DUMP && tar -C DUMP -xf $R/t.tar
#   ./ctrmig --root $R rm -f t && rm -rf $R
#
#   tests/fuzz/make-seeds.sh DUMP
#
# It uses config.dump, spec.dump, stats-dump, checkpoint/pstree.img,
# checkpoint/core-1.img and checkpoint/inventory.img. Archives and signatures
# are made afresh, signed with tests/fuzz/seed-key.pem (a key for the seeds
# only, which the fuzzers' own configuration folder trusts). The seeds stay
# small, a few KiB per target, and mostly uncompressed, so that mutations
# reach the reader rather than the decompressor.
set -euo pipefail
dump=${1:?usage: make-seeds.sh DUMP}
here=$(cd "$(dirname "$0")" && pwd)
key=$here/seed-key.pem
out=$here/corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/ctrmig-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
for f in config.dump spec.dump stats-dump checkpoint/pstree.img checkpoint/core-1.img checkpoint/inventory.img; do
    [ -f "$dump/$f" ] || { echo "make-seeds: $dump/$f: missing" >&2; exit 1; }
done
# fuzz_frames_index's one seed (small) is not made here but kept: a zstd
# stream from the frame writer (zstd_frames.c): 10 bytes, a 12 KiB page image
# in a frame of its own, 3 bytes, and the index naming it.
rm -rf "$out"/{fuzz_archive,fuzz_manifest,fuzz_json,fuzz_criu_images}
mkdir -p "$out"/{fuzz_archive,fuzz_manifest,fuzz_json,fuzz_criu_images}

sig_doc() { # file -> the signature document over its bytes, on one line
    local pub sig
    pub=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 | base64 -w0)
    sig=$(openssl pkeyutl -sign -inkey "$key" -rawin -in "$1" | base64 -w0)
    printf '{"algorithm": "ed25519", "key": "%s", "signature": "%s"}' "$pub" "$sig"
}

manifest() { # dir member... -> ctrmig.manifest (format 2) for those members of dir
    local dir=$1 m sep= key sum
    shift
    printf '{\n  "format": 2,\n  "members": {'
    for m in "$@"; do
        key=sha256 sum=$(sha256sum < "$dir/$m" | cut -d' ' -f1)
        case $m in # a page image: the digest of its 1 MiB chunks' digests
        checkpoint/pages-*.img | pre-checkpoint/pages-*.img)
            key=chunked_sha256
            sum=$(split -b 1048576 --filter='openssl dgst -sha256 -binary' "$dir/$m" | sha256sum | cut -d' ' -f1) ;;
        esac
        printf '%s\n    "%s": {"%s": "%s", "size": %d}' "$sep" "$m" "$key" "$sum" "$(stat -c %s "$dir/$m")"
        sep=,
    done
    printf '\n  },\n  "tool": "ctrmig"\n}\n'
}

tarball() { # dir out format tar-args... : one 512-byte block at a time, no dates or owners
    local dir=$1 to=$2 format=$3
    shift 3
    tar -C "$dir" --format="$format" --blocking-factor=1 --owner=0 --group=0 --numeric-owner \
        --mtime=@0 --mode=u=rw,go= --no-recursion -cf "$to" "$@"
}

# ---- fuzz_archive: whole archives ----------------------------------------
a=$work/archive
mkdir -p "$a/checkpoint"
cp "$dump/checkpoint/pstree.img" "$dump/checkpoint/inventory.img" "$a/checkpoint/"
cp "$dump/stats-dump" "$a/"
printf '[]' > "$a/deleted.files"

# Signed by the trusted seed key: the reader's whole path, signature included.
manifest "$a" checkpoint/pstree.img > "$a/ctrmig.manifest"
sig_doc "$a/ctrmig.manifest" > "$a/ctrmig.manifest.sig"
tarball "$a" "$out/fuzz_archive/signed.tar" ustar checkpoint checkpoint/pstree.img \
    ctrmig.manifest ctrmig.manifest.sig

# Unsigned, gzip: more kinds of member; a folder that comes without its entry.
printf 'page' > "$a/checkpoint/pages-1.img"
manifest "$a" checkpoint/inventory.img checkpoint/pages-1.img checkpoint/pstree.img deleted.files \
    stats-dump > "$a/ctrmig.manifest"
tarball "$a" "$work/unsigned.tar" ustar ./stats-dump checkpoint/inventory.img checkpoint/pages-1.img \
    checkpoint/pstree.img ./deleted.files ./ctrmig.manifest
gzip -9n < "$work/unsigned.tar" > "$out/fuzz_archive/unsigned.tar.gz"

# pax, zstd: a name longer than ustar holds, in an extended header.
long=checkpoint/$(printf 'x%.0s' $(seq 1 120)).img
cp "$a/checkpoint/pstree.img" "$a/$long"
manifest "$a" "$long" > "$a/ctrmig.manifest"
tarball "$a" "$work/pax.tar" pax --pax-option=delete=atime,delete=ctime "$long" ctrmig.manifest
zstd -q -19 < "$work/pax.tar" > "$out/fuzz_archive/pax.tar.zst"

# ---- fuzz_manifest: names \0 manifest \0 what was read -------------------
names='config.dump
./checkpoint/core-1.img
checkpoint/
checkpoint/../etc/passwd
/etc/shadow
pre-checkpoint/pages-1.img
checkpoint/a/b
./././ctrmig.manifest.sig
image.tar
.
checkpoint//x'
manifest "$a" checkpoint/inventory.img checkpoint/pstree.img deleted.files stats-dump > "$work/m"
{ printf '%s\0' "$names"; cat "$work/m"; } > "$out/fuzz_manifest/own-list"
{ printf 'stats-dump\0'; cat "$work/m"; printf '\0{"stats-dump": {"size": 46, "sha256": "00"}, "extra": {"size": 1, "sha256": "aa"}}'; } \
    > "$out/fuzz_manifest/mismatch"

# ---- fuzz_json: config.dump \0 spec.dump \0 signature --------------------
jq -c . "$dump/config.dump" > "$work/config.json"
jq -c . "$dump/spec.dump" > "$work/spec.json"
cp "$work/config.json" "$out/fuzz_json/config"
# A config that asks for every grant, its spec, and a signature by the seed key.
jq -c '.ctrmig.record.config += {"privileged": true, "network": "host",
        "cap_add": ["CAP_SYS_ADMIN"], "cap_drop": ["CAP_MKNOD"], "tmpfs": ["/run"],
        "env": ["A=b"], "volumes": [{"source": "/srv", "destination": "/data", "ro": true}],
        "devices": [{"path": "/dev/null", "destination": "/dev/null", "permissions": "rw"}]}' \
    "$dump/config.dump" > "$work/grants.json"
printf '%s' "$(cat "$work/grants.json")" > "$work/grants.data"
{ cat "$work/grants.data"; printf '\0'; cat "$work/spec.json"; printf '\0'; sig_doc "$work/grants.data"; } \
    > "$out/fuzz_json/grants-spec-sig"
{ printf '{}\0'; cat "$work/spec.json"; } > "$out/fuzz_json/spec"

# ---- fuzz_criu_images: u16 len, u16 len, pstree, core-1, core-2 ---------
body() { tail -c +9 "$1"; } # without the two magics, which the fuzzer writes
bytes() { local b; for b in "$@"; do printf '\\x%02x' "$b"; done; } # -> \xNN... for printf
u16() { printf "$(bytes $(($1 & 255)) $(($1 >> 8)))"; }
varint_at() { # array-name index -> "value next-index"
    local -n a=$1
    local i=$2 v=0 s=0 c
    while :; do c=${a[i]}; i=$((i + 1)); v=$((v | (c & 127) << s)); s=$((s + 7)); [ "$c" -lt 128 ] && break; done
    echo "$v $i"
}
# A core image's entry without its field 2, thread_info (the registers, which
# ctrmig does not read), so that the seeds stay small.
core_without_regs() { # body -> body
    local -a b out=()
    read -r -a b <<< "$(od -An -v -tu1 "$1" | tr -s ' \n' '  ')"
    local len=$((b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24)) i=4 start key l
    while [ "$i" -lt $((4 + len)) ]; do
        start=$i
        read -r key i <<< "$(varint_at b "$i")"
        case $((key & 7)) in
            0) read -r l i <<< "$(varint_at b "$i")" ;;
            1) i=$((i + 8)) ;;
            2) read -r l i <<< "$(varint_at b "$i")"; i=$((i + l)) ;;
            5) i=$((i + 4)) ;;
        esac
        [ $((key >> 3)) -eq 2 ] || out+=("${b[@]:start:i-start}")
    done
    l=${#out[@]}
    printf "$(bytes $((l & 255)) $((l >> 8 & 255)) $((l >> 16 & 255)) $((l >> 24)))"
    printf "$(bytes "${out[@]}")"
}
body "$dump/checkpoint/pstree.img" > "$work/pstree"
body "$dump/checkpoint/core-1.img" > "$work/core"
core_without_regs "$work/core" > "$work/small-core"
{ u16 "$(stat -c %s "$work/pstree")"; u16 "$(stat -c %s "$work/core")"; cat "$work/pstree" "$work/core"; } \
    > "$out/fuzz_criu_images/one-task"
# One task with two threads: pid 1, ppid 0, pgid 1, sid 1, threads 1 and 2.
printf '\x0c\x00\x00\x00\x08\x01\x10\x00\x18\x01\x20\x01\x28\x01\x28\x02' > "$work/pstree2"
# Two tasks: pid 1 with thread 1, and its child pid 2 with thread 2.
printf '\x0a\x00\x00\x00\x08\x01\x10\x00\x18\x01\x20\x01\x28\x01' > "$work/pstree3"
printf '\x0a\x00\x00\x00\x08\x02\x10\x01\x18\x01\x20\x01\x28\x02' >> "$work/pstree3"
n=$(stat -c %s "$work/small-core")
{ u16 16; u16 "$n"; cat "$work/pstree2" "$work/small-core" "$work/small-core"; } \
    > "$out/fuzz_criu_images/two-threads"
{ u16 28; u16 "$n"; cat "$work/pstree3" "$work/small-core" "$work/small-core"; } \
    > "$out/fuzz_criu_images/two-tasks"

du -ab "$out" | sort -k2
