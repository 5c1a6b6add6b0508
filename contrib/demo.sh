#!/bin/sh
# `make demo`: on a fresh Debian/Ubuntu machine, as root: install what is
# missing, build, assemble a busybox root filesystem, write a bundle with
# `gkrun spec` and run it (a shell on a terminal, else a short script),
# with a 64 MiB memory limit.
set -eu
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

step "installing build dependencies (only those missing)"
contrib/install-deps.sh
step "building"
make -j"$(nproc)" >/dev/null
dir=/tmp/gk-demo
rm -rf "$dir"
mkdir -p "$dir/bundle"
step "assembling a root filesystem from busybox-static (no network needed)"
bundle-spec/mkrootfs.sh "$dir/bundle/rootfs"
step "writing the bundle: build/gkrun spec, plus a memory limit"
build/gkrun spec --bundle "$dir/bundle"
if [ -t 0 ] && [ -t 1 ]; then
        filter='.process.terminal = true | .process.args = ["sh"]'
        echo "starting a shell in the container; leave it with 'exit'"
else
        filter='.process.terminal = false | .process.args = ["sh", "-c",
          "echo hello from $(hostname): pid $$; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; ls /"]'
fi
jq "$filter"' | .hostname = "gk-demo" | .linux.resources.memory.limit = 67108864
    | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "nodev", "noexec"]}]' \
        "$dir/bundle/config.json" > "$dir/config.json"
mv "$dir/config.json" "$dir/bundle/config.json"
step "build/gkrun run --bundle $dir/bundle gk-demo"
status=0
build/gkrun run --bundle "$dir/bundle" gk-demo || status=$?
step "container exited with status $status; removing $dir"
rm -rf "$dir"
exit "$status"
