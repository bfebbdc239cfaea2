#!/usr/bin/env bash
# Installs what ctrmig needs to build, run and test on a Debian-like host, as root.
# Idempotent: a second run only checks and says what is already there.
#
# CRIU must pass `criu check` on the running kernel and be new enough for it:
# Linux 6.16 restricted SO_PASSCRED/SO_PASSSEC to unix sockets, and CRIU before
# 4.2 then fails to dump any TCP socket ("Can't get 1:16 opt"). When the
# distribution's CRIU falls short (Debian 12 has 3.17, Debian 13 4.1.1), CRIU and
# checkpointctl come from a newer Debian suite into a private prefix that carries
# its own libc, through a private apt configuration: the system's apt sources are
# only read (for the mirror address), never changed.
set -euo pipefail

# Newer suites to take CRIU from, in order of preference.
SUITES=${CTRMIG_CRIU_SUITES:-forky trixie}
PREFIX=${CTRMIG_CRIU_PREFIX:-/usr/local/lib/ctrmig/criu}
HELPER_DIR=${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}
# skopeo: ctrmig's transport for pull and save; umoci builds the tests' images
# offline; docker-registry is the tests' registry, which each test file starts
# with its own config on 127.0.0.1 (the package's own service and config are
# never used: it listens on :5000 of every interface). clang and
# libclang-rt-14-dev (libFuzzer and the sanitizers' runtimes) build the fuzz targets.
# tmux drives the terminal tests (run -it, exec -it); podman makes the
# foreign archives ctrmig must restore (and is the benches' comparison);
# libc6-dev's libc.a links exec's static helper (and the tests' memhold).
# nftables' nft lifts the network lock CRIU leaves behind after a failed
# lazy page transfer (migrate --lazy).
PACKAGES=(build-essential pkg-config libarchive-dev libzstd-dev libjansson-dev libssl-dev libprotobuf-c-dev
          protobuf-c-compiler runc iptables containernetworking-plugins
          busybox-static bats util-linux iproute2 procps zstd gzip tar jq
          skopeo umoci docker-registry curl clang libclang-rt-14-dev tmux podman libc6-dev
          nftables)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages)"
command -v apt-get >/dev/null || die "needs apt-get (a Debian-like host)"

# openssh-server: migrate's tests start their own sshd on 127.0.0.1 with their
# own config (the package's service and config are never used or changed).
PACKAGES+=(openssh-server openssh-client)

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

install_packages() {
    local missing
    missing=$(missing_packages)
    if [ -z "$missing" ]; then
        say "packages: all present"
        return
    fi
    say "packages: installing" $missing
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    if grep -qw docker-registry <<<"$missing" && command -v systemctl >/dev/null &&
        systemctl is-active -q docker-registry 2>/dev/null; then
        say "note: the docker-registry package started its own service on :5000 (all interfaces);" \
            "ctrmig's tests do not use it: 'systemctl disable --now docker-registry' stops it"
    fi
    if grep -qw openssh-server <<<"$missing" && command -v systemctl >/dev/null &&
        systemctl is-active -q ssh 2>/dev/null; then
        say "note: the openssh-server package started the system's sshd; ctrmig's tests run" \
            "their own on 127.0.0.1 and do not use it"
    fi
}

# The CRIU version this kernel needs.
criu_needed() {
    local k
    k=$(uname -r | cut -d- -f1)
    if dpkg --compare-versions "$k" ge 6.16; then echo 4.2; else echo 3.17; fi
}

criu_version() {
    PATH="$HELPER_DIR:$PATH" criu --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'
}

criu_works() {
    local v
    v=$(criu_version)
    [ -n "$v" ] && dpkg --compare-versions "$v" ge "$(criu_needed)" &&
        PATH="$HELPER_DIR:$PATH" criu check >/dev/null 2>&1
}

# The mirror address comes from the system's own apt sources, at install time.
system_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && u != "" && $0 !~ /security/ {print u; exit}' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    if [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
        [ -n "$uri" ] && { echo "$uri"; return; }
    fi
    return 1
}

write_wrapper() { # name, path inside the prefix, suite
    cat > "$HELPER_DIR/$1" <<WRAP
#!/bin/sh
# ctrmig: runs $1 from Debian $3 with its own libc (see scripts/install-deps.sh).
exec "$PREFIX/usr/lib64/ld-linux-x86-64.so.2" --library-path "$PREFIX/usr/lib/x86_64-linux-gnu" "$PREFIX$2" "\$@"
WRAP
    chmod 0755 "$HELPER_DIR/$1"
}

# Installs CRIU from one suite; fails when that suite's CRIU is not new enough.
install_private_criu() { # suite
    local suite=$1 mirror apt_dir debs pkgs cand
    mirror=$(system_mirror) || die "cannot find a Debian mirror in /etc/apt sources"
    apt_dir=$(mktemp -d /tmp/ctrmig-apt.XXXXXX)
    mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,debs}
    : > "$apt_dir/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
        > "$apt_dir/sources.list"
    cat > "$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/none";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir/cache";
APT::Sandbox::User "root";
CONF
    APT_CONFIG="$apt_dir/apt.conf" apt-get update -qq || { rm -rf "$apt_dir"; return 1; }
    cand=$(APT_CONFIG="$apt_dir/apt.conf" apt-cache policy criu | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ] || ! dpkg --compare-versions "$cand" ge "$(criu_needed)"; then
        say "criu: $suite has criu ${cand:-none}, this kernel needs $(criu_needed) or newer"
        rm -rf "$apt_dir"
        return 1
    fi
    say "criu: fetching criu $cand and checkpointctl from $suite into $PREFIX"
    pkgs=$(APT_CONFIG="$apt_dir/apt.conf" apt-cache depends --recurse --no-recommends \
        --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
        criu checkpointctl | grep -v '^ ' | sort -u)
    # shellcheck disable=SC2086
    (cd "$apt_dir/debs" && APT_CONFIG="$apt_dir/apt.conf" apt-get download -qq $pkgs)
    rm -rf "$PREFIX.new"
    mkdir -p "$PREFIX.new"
    for debs in "$apt_dir"/debs/*.deb; do
        dpkg-deb -x "$debs" "$PREFIX.new"
    done
    rm -rf "$PREFIX"
    mv "$PREFIX.new" "$PREFIX"
    mkdir -p "$HELPER_DIR"
    write_wrapper criu /usr/sbin/criu "$suite"
    write_wrapper checkpointctl /usr/bin/checkpointctl "$suite"
    ln -sf "$HELPER_DIR/criu" /usr/local/sbin/criu
    ln -sf "$HELPER_DIR/checkpointctl" /usr/local/bin/checkpointctl
    rm -rf "$apt_dir"
}

install_criu() {
    if criu_works && PATH="$HELPER_DIR:$PATH" command -v checkpointctl >/dev/null; then
        say "criu: $(criu_version) passes 'criu check' and suits kernel $(uname -r)"
        return
    fi
    # The distribution's CRIU is tried first when new enough: it needs no private libc.
    local cand suite
    cand=$(apt-cache policy criu 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -n "$cand" ] && [ "$cand" != "(none)" ] && dpkg --compare-versions "$cand" ge "$(criu_needed)"; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq criu checkpointctl >/dev/null || true
        if criu_works && command -v checkpointctl >/dev/null; then
            say "criu: distribution criu $cand passes 'criu check'"
            return
        fi
    fi
    say "criu: the distribution's criu (${cand:-none}) is too old for kernel $(uname -r) or fails 'criu check'"
    for suite in $SUITES; do
        install_private_criu "$suite" || continue
        if criu_works; then
            say "criu: $(criu_version) from $suite passes 'criu check' (wrappers in $HELPER_DIR)"
            return
        fi
        say "criu: criu from $suite fails 'criu check': $(PATH="$HELPER_DIR:$PATH" criu check 2>&1 | tail -n1)"
    done
    die "no CRIU for this kernel in: $SUITES"
}

install_packages
install_criu
say "done"
