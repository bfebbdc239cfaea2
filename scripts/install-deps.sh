#!/usr/bin/env bash
# Installs what ctrmig needs to build, run and test on a Debian-like host, as root.
# Idempotent: a second run only checks and says what is already there.
#
# CRIU must pass `criu check` on the running kernel. When the distribution's CRIU
# is too old (Debian 12's 3.17 fails on 6.x kernels), CRIU and checkpointctl are
# taken from the next Debian suite into a private prefix that carries its own libc,
# through a private apt configuration: the system's apt sources are only read (for
# the mirror address), never changed.
set -euo pipefail

NEWER_SUITE=${CTRMIG_CRIU_SUITE:-trixie}
PREFIX=${CTRMIG_CRIU_PREFIX:-/usr/local/lib/ctrmig/criu}
HELPER_DIR=${CTRMIG_HELPER_DIR:-/usr/local/libexec/ctrmig}
PACKAGES=(build-essential pkg-config libarchive-dev libjansson-dev libssl-dev runc iptables
          busybox-static bats util-linux iproute2 procps zstd gzip tar)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages)"
command -v apt-get >/dev/null || die "needs apt-get (a Debian-like host)"

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
}

criu_works() {
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

write_wrapper() { # name, path inside the prefix
    cat > "$HELPER_DIR/$1" <<WRAP
#!/bin/sh
# ctrmig: runs $1 from $NEWER_SUITE with its own libc (see scripts/install-deps.sh).
exec "$PREFIX/usr/lib64/ld-linux-x86-64.so.2" --library-path "$PREFIX/usr/lib/x86_64-linux-gnu" "$PREFIX$2" "\$@"
WRAP
    chmod 0755 "$HELPER_DIR/$1"
}

install_private_criu() {
    local mirror apt_dir debs pkgs
    mirror=$(system_mirror) || die "cannot find a Debian mirror in /etc/apt sources"
    apt_dir=$(mktemp -d /tmp/ctrmig-apt.XXXXXX)
    mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,debs}
    : > "$apt_dir/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $NEWER_SUITE main" \
        > "$apt_dir/sources.list"
    cat > "$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/none";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir/cache";
APT::Sandbox::User "root";
CONF
    say "criu: fetching criu and checkpointctl from $NEWER_SUITE into $PREFIX"
    APT_CONFIG="$apt_dir/apt.conf" apt-get update -qq
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
    write_wrapper criu /usr/sbin/criu
    write_wrapper checkpointctl /usr/bin/checkpointctl
    ln -sf "$HELPER_DIR/criu" /usr/local/sbin/criu
    ln -sf "$HELPER_DIR/checkpointctl" /usr/local/bin/checkpointctl
    rm -rf "$apt_dir"
}

install_criu() {
    if criu_works && PATH="$HELPER_DIR:$PATH" command -v checkpointctl >/dev/null; then
        say "criu: $(PATH="$HELPER_DIR:$PATH" criu --version | head -n1) passes 'criu check'"
        return
    fi
    # A distribution CRIU of 4.x or newer is tried first; it needs no private libc.
    local cand
    cand=$(apt-cache policy criu 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -n "$cand" ] && [ "$cand" != "(none)" ] && dpkg --compare-versions "$cand" ge 4; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq criu checkpointctl >/dev/null || true
        if criu_works && command -v checkpointctl >/dev/null; then
            say "criu: distribution criu $cand passes 'criu check'"
            return
        fi
    fi
    say "criu: the distribution's criu (${cand:-none}) is too old or fails 'criu check'"
    install_private_criu
    criu_works || die "criu from $NEWER_SUITE fails 'criu check' too: $(PATH="$HELPER_DIR:$PATH" criu check 2>&1 | tail -n1)"
    say "criu: $(PATH="$HELPER_DIR:$PATH" criu --version | head -n1) from $NEWER_SUITE passes 'criu check' (wrapper in $HELPER_DIR)"
}

install_packages
install_criu
say "done"
