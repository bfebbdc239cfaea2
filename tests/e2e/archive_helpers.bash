# Shared by the archive tests: a second store B, archives of a counter, and
# forged archives whose manifest matches (so that only the rule under test breaks).

setup() {
    require_containers
    require_criu
    setup_store
    ROOT_B=$(mktemp -d /tmp/ctrmig-e2e-b.XXXXXX)
    "$CTRMIG_BIN" --root "$ROOT_B" image import "$(busybox_rootfs)" busybox >/dev/null
}

teardown() {
    # what a test file made beyond the stores (networks, say), even after a failure
    if declare -F teardown_more >/dev/null; then teardown_more || true; fi
    umount "$BATS_TEST_TMPDIR/small" 2>/dev/null || true
    "$CTRMIG_BIN" --root "$ROOT_B" rm -af >/dev/null 2>&1 || true
    grep -o " $ROOT_B/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$ROOT_B"
    forget_runc_state "$ROOT_B"
    teardown_store
}

# Store B is another host: its own configuration folder, so its own key.
b() { CTRMIG_CONFIG_DIR="$ROOT_B/conf" "$CTRMIG_BIN" --root "$ROOT_B" "$@"; }

# The folders on /dev/shm where restore -i stages a store's images (mem_stage.h).
mem_stages() { # root
    local hash
    hash=$(printf %s "$1" | sha256sum | cut -c1-12)
    find /dev/shm -maxdepth 1 -name "ctrmig-$hash-*"
}

# Waits until a store has no stage left (a used-up one goes in the background).
no_mem_stages() { # root
    local i
    for i in $(seq 100); do [ -z "$(mem_stages "$1")" ] && return 0; sleep 0.05; done
    echo "left on /dev/shm: $(mem_stages "$1")" >&2
    return 1
}

# Everything under a store but its images and lock: what an import may leave.
store_contents() { (cd "$1" && find containers -mindepth 1 | sort; find images -mindepth 1 -maxdepth 1 | sort); }

# A counter, checkpointed into an archive; echoes the last count.
counter_archive() { # file [extra checkpoint args...]
    local file=$1
    shift
    ctrmig run -d --name web busybox sh -c "echo made > /root/new; rm /etc/group; $COUNTER" >/dev/null
    wait_for_count web 5
    ctrmig checkpoint "$@" -e "$file" web >/dev/null
    last_count web
}

wait_for_line_b() {
    local i
    for i in $(seq 100); do b logs "$1" 2>/dev/null | grep -qx "$2" && return 0; sleep 0.1; done
    echo "$1 never logged $2" >&2
    return 1
}

# A page image's digest in format 2: the sha256 of its 1 MiB chunks' sha256s.
chunked_sha256() { # file
    split -b 1048576 --filter='openssl dgst -sha256 -binary' "$1" | sha256sum | cut -d' ' -f1
}

# Builds a tar.zst from a folder of members, with a manifest that matches them
# (so that only the rule under test is broken), plus extra raw tar arguments.
forge() { # out dir [tar args for extra members...]
    local out=$1 dir=$2
    shift 2
    rm -f "$dir/ctrmig.manifest.sig" # a forger has no trusted key
    (
        cd "$dir"
        printf '{"format": 2, "tool": "forged", "members": {'
        local first=1 f
        for f in $(find . -type f ! -name ctrmig.manifest | sed 's|^\./||' | sort); do
            [ $first = 1 ] || printf ', '
            first=0
            case $f in
            checkpoint/pages-*.img | pre-checkpoint/pages-*.img)
                printf '"%s": {"size": %s, "chunked_sha256": "%s"}' "$f" "$(stat -c %s "$f")" "$(chunked_sha256 "$f")" ;;
            *)
                printf '"%s": {"size": %s, "sha256": "%s"}' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" ;;
            esac
        done
        printf '}}'
    ) > "$dir/ctrmig.manifest"
    tar -C "$dir" -cf "${out%.zst}" $(cd "$dir" && ls -A | grep -vx ctrmig.manifest) "$@"
    tar -C "$dir" -rf "${out%.zst}" ctrmig.manifest
    zstd -q -f --rm "${out%.zst}" -o "$out"
}

# A real archive, unpacked, for forging variants of it.
real_members() { # dir
    counter_archive "$BATS_TEST_TMPDIR/real.tar.zst" >/dev/null
    mkdir -p "$1"
    tar -C "$1" -xf "$BATS_TEST_TMPDIR/real.tar.zst"
    rm "$1/ctrmig.manifest"
}

# The import failed with one line naming the problem, and nothing was left.
assert_rejected() { # archive pattern [more restore args...]
    local before
    before=$(store_contents "$ROOT_B")
    run b restore -i "$1" "${@:3}"
    assert_one_line_error
    [[ "$output" == *$2* ]] || { echo "expected '$2' in: $output" >&2; return 1; }
    [ "$(store_contents "$ROOT_B")" = "$before" ] || { echo "the store changed" >&2; return 1; }
    ! grep -q " $ROOT_B/" /proc/self/mounts
    [ -z "$(mem_stages "$ROOT_B")" ] || { echo "left on /dev/shm: $(mem_stages "$ROOT_B")" >&2; return 1; }
}
