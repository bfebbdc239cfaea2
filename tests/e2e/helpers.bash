# Shared set-up for the end-to-end tests: real runc, real CRIU, real overlayfs.
# Each test gets its own --root in a temp folder and removes it afterwards.
# With CI=true or CTRMIG_STRICT=1, a test that would skip fails instead.

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CTRMIG_BIN=${CTRMIG_BIN:-$TOP/ctrmig}

strict() { [ "${CI:-}" = true ] || [ "${CTRMIG_STRICT:-}" = 1 ]; }

# Skips with a reason, or fails in strict mode.
need() {
    if strict; then
        echo "required but missing (strict mode): $*" >&2
        return 1
    fi
    skip "$*"
}

require_root() { [ "$(id -u)" = 0 ] || need "needs root"; }
require_runc() { command -v runc >/dev/null || need "runc not installed (make deps)"; }
require_overlay() { grep -qw overlay /proc/filesystems || need "kernel has no overlayfs"; }
require_criu() {
    local helper=${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}
    PATH="$helper:$PATH" criu check >/dev/null 2>&1 || need "no CRIU that passes 'criu check' (make deps)"
}
require_containers() { require_root && require_runc && require_overlay; }

# The busybox rootfs is built once per test file.
busybox_rootfs() {
    local dir="$BATS_FILE_TMPDIR/busybox"
    [ -d "$dir" ] || "$TOP/scripts/busybox-rootfs.sh" "$dir" >/dev/null
    echo "$dir"
}

ctrmig() { "$CTRMIG_BIN" --root "$CTR_ROOT" "$@"; }

# The busybox rootfs with tests/tools/memhold as /bin/memhold (make e2e builds
# it), imported as image "memhold" by the given ctrmig function (ctrmig, b, ...):
# the same files, so the same image, in every store.
import_memhold_image() { # ctrmig-function
    local tool="$TOP/build/tools/memhold" dir="$BATS_FILE_TMPDIR/memhold-rootfs"
    [ -x "$tool" ] || need "no $tool (make e2e builds it)" || return 1
    if [ ! -d "$dir" ]; then
        cp -a "$(busybox_rootfs)" "$dir.tmp"
        cp "$tool" "$dir.tmp/bin/memhold"
        mv "$dir.tmp" "$dir"
    fi
    "$1" image import "$dir" memhold >/dev/null
}

# Waits until a container's log, as the given ctrmig function reads it, has a
# line starting with word, and prints the rest of its last such line.
log_word() { # ctrmig-function container word
    local i v
    for i in $(seq 100); do
        v=$("$1" logs "$2" 2>/dev/null | sed -n "s/^$3 //p" | tail -n 1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.1
    done
    echo "$2 never logged '$3'" >&2
    return 1
}

# Leaves the store with a "busybox" image; most tests start from there.
setup_store() {
    CTR_ROOT=$(mktemp -d /tmp/ctrmig-e2e.XXXXXX)
    export CTR_ROOT
    # this "host's" keys and policy, not /etc/ctrmig's
    export CTRMIG_CONFIG_DIR="$CTR_ROOT/conf"
    ctrmig image import "$(busybox_rootfs)" busybox >/dev/null
}

# ctrmig keeps a store's runc state in /run/ctrmig/<first 12 hex of sha256(root)>.
forget_runc_state() { # root
    rm -rf "/run/ctrmig/$(printf %s "$1" | sha256sum | cut -c1-12)"
}

teardown_store() {
    [ -n "${CTR_ROOT:-}" ] || return 0
    ctrmig rm -af >/dev/null 2>&1 || true
    # Whatever a failed test left mounted must not block the removal.
    grep -o " $CTR_ROOT/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$CTR_ROOT"
    forget_runc_state "$CTR_ROOT"
}

# A shell loop that counts in memory, a number a line; its state lives only
# in the process, so a restore that loses memory starts again at 1.
COUNTER='i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done'

last_count() { ctrmig logs "$1" | tail -n 1; }

# Waits until the container has printed at least n lines.
wait_for_count() {
    local name=$1 n=$2 tries=100
    while [ "$tries" -gt 0 ]; do
        local c
        c=$(last_count "$name" 2>/dev/null || true)
        [ -n "$c" ] && [ "$c" -ge "$n" ] 2>/dev/null && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    echo "container $name did not count to $n (last: $(last_count "$name"))" >&2
    return 1
}

# For error cases: exit status 125 and exactly one line on stderr.
assert_one_line_error() {
    [ "$status" -eq 125 ] || { echo "expected exit 125, got $status: $output" >&2; return 1; }
    local lines
    lines=$(printf '%s\n' "$output" | grep -c .)
    [ "$lines" -eq 1 ] || { echo "expected one line, got $lines: $output" >&2; return 1; }
    [[ "$output" == Error:* ]] || { echo "expected 'Error: ...', got: $output" >&2; return 1; }
}
