# Shared by the benchmarks: a busybox image with memfill, timing, medians.
# Sourced; expects TOP (the repo) to be set.

CTRMIG=${CTRMIG:-$TOP/ctrmig}
HELPER_DIR=${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}
# The same CRIU for bare runc as for ctrmig.
export PATH="$HELPER_DIR:$PATH"

now_ns() { date +%s%N; }

# Runs a command, prints how long it took in seconds (to 3 decimals). The disk
# is synced first, so that no run pays for the writeback of what came before.
time_it() {
    local t0 t1
    sync
    warm_memory
    t0=$(now_ns)
    "$@" > "${TIME_IT_OUT:-/dev/null}"
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

# This VM hands freed memory back to its host (free page reporting; see
# /sys/module/page_reporting/parameters/reported_kib), and the first touch of
# such memory costs a fault in the host: single runs of either side came out
# up to 2x slower at random. Right before each timed step, both sides get the
# same warm-up: WARM_MIB MiB written to a tmpfs and freed again, so that the
# step allocates memory the host already backs.
warm_memory() {
    [ "${WARM_MIB:-0}" -gt 0 ] || return 0
    local f=/dev/shm/ctrmig-bench-warm.$$
    dd if=/dev/zero of="$f" bs=1M count="$WARM_MIB" status=none
    rm -f "$f"
}

# Between measured cycles, for both sides alike: waits until ctrmig's background
# deletions (used-up checkpoints) are done and the kernel has torn down the last
# container's memory, so that no timed step shares the disk or CPUs with that.
settle() {
    local i
    for i in $(seq 200); do
        # shellcheck disable=SC2086 # every store the bench uses
        [ -z "$(find $root ${root_b:-} -maxdepth 3 -name '.trash-*' -print -quit 2>/dev/null)" ] &&
            [ -z "$(mem_stages "$root" ${root_b:-})" ] && break
        sleep 0.05
    done
    sync
    sleep 1
}

# The folders on /dev/shm where restore -i stages the stores' CRIU images
# (src/store/mem_stage.h); a used-up one is deleted in the background.
mem_stages() { # root...
    local r h
    for r in "$@"; do
        h=$(printf %s "$r" | sha256sum | cut -c1-12)
        find /dev/shm -maxdepth 1 -name "ctrmig-$h-*"
    done
}

# A duration in microseconds from --print-stats output, in seconds.
stat_seconds() { # key file
    sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2" | head -n 1 | awk '{ printf "%.3f\n", $1 / 1e6 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'; }

# A rootfs folder with busybox and the memory filler.
make_bench_rootfs() { # dir
    "$TOP/scripts/busybox-rootfs.sh" "$1" >/dev/null
    cc -O2 -static -o "$1/bin/memfill" "$TOP/bench/memfill.c"
}

# Waits until a log file or command output says "ready".
wait_ready() { # command...
    local i
    for i in $(seq 600); do
        "$@" 2>/dev/null | grep -q '^ready' && return 0
        sleep 0.05
    done
    echo "bench: the memory filler never got ready" >&2
    return 1
}

# How long both sides wait after starting the filler before the checkpoint.
# The bare runc container cannot say when it is ready, and a dump right after
# a large fill is slower while the kernel still settles the new pages, so
# both wait the same: filling takes about MiB/1000 s, then a second.
fill_wait() { awk -v m="$1" 'BEGIN { print 1 + m / 400 }'; }

# A bare runc bundle doing the same work: runc spec's defaults, not a terminal.
# With a fourth argument, runc hands that CRIU config file to CRIU, as ctrmig
# does with its own (org.criu.config; see ctrmig-checkpoint(1)).
make_runc_bundle() { # dir rootfs mib [criu-config [netns-path]]
    local dir=$1
    mkdir -p "$dir"
    cp -a "$2" "$dir/rootfs"
    (cd "$dir" && runc spec)
    sed -i -e 's/"terminal": true/"terminal": false/' \
        -e "s|\"sh\"|\"/bin/memfill\", \"$3\"|" "$dir/config.json"
    if [ -n "${4:-}" ]; then
        sed -i "1s|^{|{ \"annotations\": { \"org.criu.config\": \"$4\" },|" "$dir/config.json"
    fi
    if [ -n "${5:-}" ]; then
        jq --arg p "$5" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
            "$dir/config.json" > "$dir/c" && mv "$dir/c" "$dir/config.json"
    fi
}

# A network namespace for the bare runc side, configured as ctrmig
# configures a container's (a veth on a bridge, an address from host-local,
# through the same bridge plugin), once and outside the timings, as someone
# running runc alone would keep one. Prints its path.
BARE_NET='{"cniVersion":"1.0.0","name":"ctrmig-bench","type":"bridge","bridge":"ctrmig-bench0","isGateway":true,"ipMasq":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.99.250.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}'
bare_cni() { # command name
    CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$2 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
        /usr/lib/cni/bridge <<<"$BARE_NET" >/dev/null
}
bare_netns() { # name
    ip netns add "$1"
    ip -n "$1" link set lo up
    bare_cni ADD "$1"
    echo "/run/netns/$1"
}
bare_netns_remove() { # name
    bare_cni DEL "$1" 2>/dev/null || true
    ip netns del "$1" 2>/dev/null || true
    ip link del ctrmig-bench0 2>/dev/null || true
}

# The CRIU config file for the bare runc bundle, by BARE_CRIU_CONF (the
# bench's default when unset): "ctrmig" writes FILE as ctrmig writes a store's
# criu.conf (nftables network locking where CRIU can) and prints its path;
# "default" prints nothing, leaving CRIU's defaults.
bare_criu_conf() { # default-mode file
    [ "${BARE_CRIU_CONF:-$1}" = ctrmig ] || return 0
    if criu check --feature network_lock_nftables >/dev/null 2>&1; then
        echo "network-lock nftables" > "$2"
    else
        : > "$2"
    fi
    echo "$2"
}

# After a checkpoint, the container's monitor releases its address in the
# background; a restore started at once would wait for that. The benches
# time each command on its own, so they wait here, outside the timings.
wait_released() { # ctrmig-function name
    local i
    for i in $(seq 100); do
        [ -n "$("$1" inspect --format '{{.NetworkSettings.IPAddress}}' "$2" 2>/dev/null)" ] || return 0
        sleep 0.02
    done
}
