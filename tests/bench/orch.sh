#!/bin/bash
# What a container costs through the orchestrators: `podman run --rm IMAGE true`
# and `ctr run --rm IMAGE ID true` with gkrun, runc and crun side by side.
#   tests/bench/orch.sh [BUILD_DIR] [ROUNDS]          (as root)
# Runtimes alternate inside each round (so drift hits all alike); prints the
# median wall time of each case and its ratio to runc's.  podman and
# containerd run privately under /tmp/gk-bench-orch.*: storage, state,
# sockets, cgroup parent and namespace are removed on exit.  podman uses
# --network none: this measures the runtime, not netavark.
set -euo pipefail
self=$(realpath "$0")
# crun 1.8 refuses a hybrid host while the empty cgroup2 mount at
# /sys/fs/cgroup/unified is visible: run everything (all runtimes alike) in a
# private mount namespace without it, i.e. on a pure cgroup v1 view.
if [ -z "${GK_BENCH_NS:-}" ] && [ "$(id -u)" -eq 0 ] && mountpoint -q /sys/fs/cgroup/unified; then
        exec env GK_BENCH_NS=1 unshare -m --propagation private \
                sh -c 'umount /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$self" "$@"
fi
cd "$(dirname "$self")/../.."
O=${1:-build}
ROUNDS=${2:-15}
GKRUN=$PWD/$O/gkrun
[ "$(id -u)" -eq 0 ] || { echo "orch.sh: run as root" >&2; exit 1; }
[ -x "$GKRUN" ] || { echo "orch.sh: $GKRUN not built" >&2; exit 1; }

declare -A RT=([gkrun]=$GKRUN)
for r in runc crun; do
        p=$(command -v "$r" || true)
        if [ -n "$p" ]; then RT[$r]=$p; else echo "orch.sh: $r not installed: skipped" >&2; fi
done
runtimes=(gkrun)
for r in runc crun; do [ -n "${RT[$r]:-}" ] && runtimes+=("$r"); done

work=$(mktemp -d /tmp/gk-bench-orch.XXXXXX)
chmod 755 "$work"
name=$(basename "$work" | tr -c 'a-zA-Z0-9\n' -)
image=localhost/gkbench:latest
had_run_containerd=$([ -d /run/containerd ] && echo 1 || echo 0)
shims_before=$(ls /run/containerd/s 2>/dev/null || true)
ctrd_pid=

# podman reads none of the host's configuration (/etc/containers, /etc/cni,
# ~/.config): every file it looks for is ours, under $work/pod.
export CONTAINERS_CONF=$work/pod/containers.conf
export CONTAINERS_STORAGE_CONF=$work/pod/storage.conf
export CONTAINERS_REGISTRIES_CONF=$work/pod/registries.conf
export REGISTRY_AUTH_FILE=$work/pod/auth.json
# The signature policy and registries.d are looked up in $HOME/.config first.
pod=(env HOME="$work/pod/home" XDG_CONFIG_HOME="$work/pod/home/.config"
     podman --root "$work/pod/root" --runroot "$work/pod/run" --cgroup-manager cgroupfs
     --events-backend file --default-mounts-file "$work/pod/mounts.conf")
ctr=(ctr -a "$work/ctrd/containerd.sock" -n "$name")

cleanup() {
        set +e
        if command -v podman >/dev/null && [ -d "$work/pod" ]; then
                for r in "${runtimes[@]}"; do
                        mapfile -t ids < <("${pod[@]}" --runtime "${RT[$r]}" ps -aq)
                        [ "${#ids[@]}" -gt 0 ] && "${pod[@]}" --runtime "${RT[$r]}" rm -f -t 0 "${ids[@]}"
                done >/dev/null 2>&1
                "${pod[@]}" system reset -f >/dev/null 2>&1
        fi
        if [ -n "$ctrd_pid" ]; then
                for c in $("${ctr[@]}" containers ls -q 2>/dev/null); do
                        "${ctr[@]}" task kill -s SIGKILL "$c"; "${ctr[@]}" task rm -f "$c"
                        "${ctr[@]}" containers rm "$c"
                done >/dev/null 2>&1
                "${ctr[@]}" images rm "$image" >/dev/null 2>&1
                kill "$ctrd_pid"; wait "$ctrd_pid" 2>/dev/null
        fi
        # The shims our containerd started name its socket on their command line.
        for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $work/ctrd/containerd.sock"); do
                kill -9 "$p"
        done
        grep -F "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount -l
        for top in /sys/fs/cgroup/*/"$name"; do
                [ -d "$top" ] && find "$top" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        # with the cgroup2 mount gone, crun's v2 directories are plain
        # tmpfs ones (files in them): not cgroups, rmdir cannot remove them
        if [ -d "/sys/fs/cgroup/unified/$name" ] && ! mountpoint -q /sys/fs/cgroup/unified; then
                rm -rf "/sys/fs/cgroup/unified/${name:?}"
        fi
        for s in /run/containerd/s/*; do
                [ -e "$s" ] || continue
                grep -qxF "$(basename "$s")" <<<"$shims_before" || rm -f "$s"
        done
        if [ "$had_run_containerd" = 0 ]; then
                rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc \
                        /run/containerd 2>/dev/null
        fi
        rm -rf "$work"
}
trap cleanup EXIT

# One image: a busybox rootfs, as a plain tar for podman import and as a
# docker archive (config + manifest.json) for ctr import.
bundle-spec/mkrootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" --numeric-owner -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$layer"
cp "$work/layer.tar" "$work/archive/$layer/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$layer" >"$work/archive/config.json"
printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
        "$image" "$layer" >"$work/archive/manifest.json"
tar -C "$work/archive" -cf "$work/image.tar" .

now() { date +%s%N; }
declare -A T
# time_case KEY CMD...: appends the wall time in ms to T[KEY]
time_case() {
        local key=$1 t0 t1
        shift
        t0=$(now)
        "$@" >/dev/null 2>"$work/last-err" || { cat "$work/last-err" >&2; return 1; }
        t1=$(now)
        T[$key]+=" $(((t1 - t0) / 1000))"
}

cases=()
if command -v podman >/dev/null && command -v conmon >/dev/null; then
        mkdir -p "$work/pod/tmp" "$work/pod/netcfg" "$work/pod/hooks.d" \
                "$work/pod/home/.config/containers/registries.d"
        cat >"$CONTAINERS_CONF" <<CONF
[containers]
seccomp_profile = "/usr/share/containers/seccomp.json"
[network]
network_backend = "netavark"
network_config_dir = "$work/pod/netcfg"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$work/pod/tmp"
hooks_dir = ["$work/pod/hooks.d"]
runtime_supports_json = ["crun", "runc", "gkrun"]
CONF
        printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
                "$work/pod/root" "$work/pod/run" >"$CONTAINERS_STORAGE_CONF"
        echo 'unqualified-search-registries = []' >"$CONTAINERS_REGISTRIES_CONF"
        echo '{"auths": {}}' >"$REGISTRY_AUTH_FILE"
        : >"$work/pod/mounts.conf"
        echo '{"default": [{"type": "insecureAcceptAnything"}]}' \
                >"$work/pod/home/.config/containers/policy.json"
        "${pod[@]}" import "$work/layer.tar" "$image" >/dev/null
        cases+=(podman)
else
        echo "orch.sh: podman/conmon not installed: skipped" >&2
fi
if command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
        mkdir -p "$work/ctrd"
        cat >"$work/ctrd/config.toml" <<EOF
version = 2
root = "$work/ctrd/root"
state = "$work/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.restart"]
[grpc]
  address = "$work/ctrd/containerd.sock"
[ttrpc]
  address = "$work/ctrd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/ctrd/opt"
EOF
        containerd --config "$work/ctrd/config.toml" >"$work/ctrd/log" 2>&1 &
        ctrd_pid=$!
        for _ in $(seq 100); do "${ctr[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
        "${ctr[@]}" images import "$work/image.tar" >/dev/null
        cases+=(ctr)
else
        echo "orch.sh: containerd not installed: skipped" >&2
fi

run_case() { # CASE RUNTIME KEY-SUFFIX
        local c=$1 r=$2
        case $c in
        podman) time_case "$c/$r" "${pod[@]}" --runtime "${RT[$r]}" run --rm --network none \
                        --cgroup-parent "/$name" --ulimit nofile=1024:1024 \
                        --ulimit nproc=1024:1024 "$image" true ;;
        ctr) time_case "$c/$r" "${ctr[@]}" run --runtime io.containerd.runc.v2 \
                        --runc-binary "${RT[$r]}" --runc-root "$work/ctrd/runc-$r" \
                        --fifo-dir "$work/ctrd/fifo" --rm "$image" "bench-$r-$RANDOM" true ;;
        esac
}

# One warm-up each (page cache, podman's first-run setup), not counted; a
# runtime that cannot run here (crun 1.8 refuses hybrid cgroup hosts) is
# left out of that case with its error.
declare -A OK
for c in "${cases[@]}"; do
        for r in "${runtimes[@]}"; do
                if run_case "$c" "$r" 2>"$work/err"; then
                        OK[$c/$r]=1
                else
                        echo "orch.sh: $c with $r does not run here: $(tail -c 300 "$work/err")" >&2
                fi
        done
done
T=()
for _ in $(seq "$ROUNDS"); do
        for c in "${cases[@]}"; do
                for r in "${runtimes[@]}"; do
                        [ -n "${OK[$c/$r]:-}" ] && run_case "$c" "$r"
                done
        done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "rounds: $ROUNDS (median wall time per container, ms)"
printf '%-8s %-7s %10s %10s\n' case runtime median_ms vs_runc
for c in "${cases[@]}"; do
        base=
        [ -n "${OK[$c/runc]:-}" ] && base=$(median <<<"${T[$c/runc]}")
        for r in "${runtimes[@]}"; do
                [ -n "${OK[$c/$r]:-}" ] || { printf '%-8s %-7s %10s %10s\n' "$c" "$r" - -; continue; }
                m=$(median <<<"${T[$c/$r]}")
                ratio=-
                [ -n "$base" ] && ratio=$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
                printf '%-8s %-7s %10.1f %10s\n' "$c" "$r" "$(awk -v m="$m" 'BEGIN {print m / 1000}')" "$ratio"
        done
done
