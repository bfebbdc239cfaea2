#!/usr/bin/env bash
# ctrmig pull (from a local registry, and unpacking the layers) against
# skopeo copy to an OCI layout + tar -x of each layer, side by side in one
# run, on an image of LAYERS layers of about SIZE_MIB MiB in all (half
# random, half text). Then a second pull of the same image, whose layers are
# all present. Prints medians and the ratio.
#   bench/image.sh [-n RUNS] [SIZE_MIB [LAYERS]]     (default: -n 3 200 5)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
# the tests' registry helpers (start_registry, stop_registry)
need() { echo "bench: $*" >&2; exit 1; }
. "$TOP/tests/e2e/registry.bash"

runs=3
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
size=${1:-200}
layers=${2:-5}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
for t in skopeo umoci docker-registry; do
    command -v "$t" >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/ctrmig-bench-image.XXXXXX)
cleanup() {
    stop_registry 2>/dev/null || true
    "$CTRMIG" --root "$work/store" rm -af >/dev/null 2>&1 || true
    rm -rf "$work"
    forget_state "$work/store"
}
forget_state() { rm -rf "/run/ctrmig/$(printf %s "$1" | sha256sum | cut -c1-12)"; }
trap cleanup EXIT

# The image: busybox, then LAYERS layers of SIZE/LAYERS MiB each.
"$TOP/scripts/busybox-rootfs.sh" "$work/rootfs" >/dev/null
umoci init --layout "$work/layout" >/dev/null
umoci new --image "$work/layout:bench" >/dev/null
umoci insert --image "$work/layout:bench" "$work/rootfs" / >/dev/null
per=$((size / layers))
for i in $(seq "$layers"); do
    mkdir -p "$work/l$i/data$i"
    head -c $((per / 2))M /dev/urandom > "$work/l$i/data$i/random"
    head -c $((per / 2))M < <(yes "layer $i of the ctrmig image benchmark") > "$work/l$i/data$i/text"
    umoci insert --image "$work/layout:bench" "$work/l$i/data$i" "/data$i" >/dev/null
    rm -rf "$work/l$i"
done
umoci config --image "$work/layout:bench" --config.cmd /bin/sh >/dev/null
# written for bats, which does not stop at a failing pipeline
set +eo pipefail
start_registry || exit 1
set -eo pipefail
ref="$REGISTRY/bench/image:latest"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:bench" "docker://$ref"

baseline() { # skopeo copy to an OCI layout, then tar -x of each layer
    set -e
    rm -rf "$work/base"
    mkdir -p "$work/base"
    skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/base/layout:x"
    mkdir -p "$work/base/rootfs"
    local l
    for l in $(jq -r '.layers[].digest' "$work/base/layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$work/base/layout/index.json" | cut -d: -f2)" | cut -d: -f2); do
        tar -C "$work/base/rootfs" -xzf "$work/base/layout/blobs/sha256/$l" 2>/dev/null
    done
}
pull() { "$CTRMIG" --root "$work/store" pull -q --tls-verify=false "$ref"; }
fresh() { "$CTRMIG" --root "$work/store" image rm -f "$ref" >/dev/null 2>&1 || true; rm -rf "$work/store"; forget_state "$work/store"; }

declare -a tb tc tc2
for r in $(seq "$runs"); do
    # alternate the order, so that neither side always goes first
    if [ $((r % 2)) = 1 ]; then
        tb+=("$(time_it baseline)"); rm -rf "$work/base"; sync
        fresh; tc+=("$(time_it pull)")
    else
        fresh; tc+=("$(time_it pull)")
        tb+=("$(time_it baseline)"); rm -rf "$work/base"; sync
    fi
    tc2+=("$(time_it pull)")
done
b=$(printf '%s\n' "${tb[@]}" | median)
c=$(printf '%s\n' "${tc[@]}" | median)
c2=$(printf '%s\n' "${tc2[@]}" | median)
echo "image: $size MiB in $layers layers (+ busybox), $runs runs, medians"
printf '%-44s %8s\n' "skopeo copy + tar -x of each layer" "${b}s"
printf '%-44s %8s   ratio %s\n' "ctrmig pull" "${c}s" "$(ratio "$c" "$b")"
printf '%-44s %8s\n' "ctrmig pull again (layers present)" "${c2}s"
