#!/bin/sh
# Assembles a minimal root filesystem from busybox-static into DIR:
#   bundle-spec/mkrootfs.sh DIR [EXTRA_BINARY...]
# Extra binaries (static ones, e.g. gk-probe) are copied into DIR/bin.
set -eu
dir=${1:?usage: mkrootfs.sh DIR [EXTRA_BINARY...]}
shift
bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "mkrootfs.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$bb" >/dev/null 2>&1; then
        echo "mkrootfs.sh: $bb is not static (apt-get install busybox-static)" >&2; exit 1
fi
extras=""
for extra in "$@"; do
        extras="$extras $(readlink -f "$extra")"
done
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp root run var/tmp home
chmod 1777 tmp var/tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list); do
        [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
done
cat > etc/passwd <<PW
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
gkuser:x:1000:1000:gk test user:/home/gkuser:/bin/sh
PW
cat > etc/group <<GR
root:x:0:
daemon:x:1:
wheel:x:10:gkuser
nogroup:x:65534:
gkuser:x:1000:
GR
mkdir -p home/gkuser && chown 1000:1000 home/gkuser 2>/dev/null || true
echo "gk" > etc/hostname
: > etc/resolv.conf
printf '127.0.0.1\tlocalhost\n' > etc/hosts
for extra in $extras; do
        cp "$extra" bin/
done
