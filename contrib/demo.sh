#!/bin/sh
# `make demo`: on a fresh Debian/Ubuntu machine, as root or as a user with
# sudo: install what is missing, build, get an image and run a container of
# it with a 64 MiB memory limit, showing each step.  Online it pulls alpine
# from Docker Hub; offline it builds an image from busybox-static, imports
# it, and says so.  As a user, the build stays the user's: install-deps.sh
# asks sudo for apt-get, and the image and container steps (root's: the
# store, the container's cgroups, mounts and namespaces) run under sudo.
# O=DIR builds into DIR (default build), GK_DEMO_DIR=DIR works in DIR
# (default /tmp/gk-demo, removed at the end).
set -eu
cd "$(dirname "$0")/.."
self=$PWD/contrib/demo.sh
step() { printf '\n==> %s\n' "$*"; }
O=${O:-build}
dir=${GK_DEMO_DIR:-/tmp/gk-demo}

# --as-root: the second half, under sudo, once the caller has built.
if [ "${1:-}" != --as-root ]; then
        if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
                echo "demo: run it as root (there is no sudo here)" >&2
                exit 1
        fi
        step "installing build dependencies (only those missing)"
        contrib/install-deps.sh
        step "building gkrun and gkimg"
        make -j"$(nproc)" O="$O" >/dev/null
        if [ "$(id -u)" -ne 0 ]; then
                step "running the container as root: sudo"
                exec sudo env O="$O" GK_DEMO_DIR="$dir" "$self" --as-root
        fi
fi
[ "$(id -u)" -eq 0 ] || { echo "demo: --as-root: not root" >&2; exit 1; }
case $O in /*) export PATH="$O:$PATH" ;; *) export PATH="$PWD/$O:$PATH" ;; esac
store=$dir/store
rm -rf "$dir"
mkdir -p "$dir"
trap 'gkimg --root "$store" unbundle "$dir/bundle" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

step "gkimg --root $store pull alpine"
if timeout 120 gkimg --root "$store" pull alpine; then
        ref=alpine
else
        step "no registry reachable: building an image from busybox-static instead (offline)"
        bundle-spec/mkrootfs.sh "$dir/rootfs"
        contrib/mkimage.sh "$dir/rootfs" gk/busybox:local "$dir/busybox.tar" sh
        gkimg --root "$store" import "$dir/busybox.tar" gk/busybox:local
        ref=gk/busybox:local
fi
gkimg --root "$store" images

tty=""
[ -t 0 ] && [ -t 1 ] && tty=--tty
step "gkimg bundle --mem 64m $tty $ref $dir/bundle"
if [ -n "$tty" ]; then
        gkimg --root "$store" bundle --mem 64m --hostname gk-demo --tty "$ref" "$dir/bundle" -- sh
        echo "starting a shell in the container; leave it with 'exit'"
else
        gkimg --root "$store" bundle --mem 64m --hostname gk-demo "$ref" "$dir/bundle" -- \
                sh -c 'echo "hello from $(hostname), pid $$"; echo "memory limit: $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo see host)"; ls /'
fi
step "gkrun run --bundle $dir/bundle gk-demo"
status=0
gkrun run --bundle "$dir/bundle" gk-demo || status=$?
step "container exited with status $status; cleaning up $dir"
exit "$status"
