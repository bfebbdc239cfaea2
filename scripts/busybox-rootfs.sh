#!/usr/bin/env bash
# Makes a minimal root file system from the static busybox package, for the
# demo and the tests: ./scripts/busybox-rootfs.sh DIR
set -euo pipefail
dest=${1:?usage: busybox-rootfs.sh DIR}
bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-rootfs: no busybox; run 'make deps'" >&2; exit 1; }
mkdir -p "$dest"/{bin,sbin,etc,proc,sys,dev,tmp,root,var/log,run}
cp "$bb" "$dest/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dest/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dest/etc/passwd"
echo 'root:x:0:' > "$dest/etc/group"
chmod 1777 "$dest/tmp"
