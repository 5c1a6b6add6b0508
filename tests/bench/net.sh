#!/bin/bash
# What bridge networking adds to a container's start: `gkrun run /bin/true`
# with no network annotation vs org.gk.net.mode=bridge (with a published
# port), and, when podman is installed, `podman run --rootfs` with
# --network none vs --network bridge on the same machine.
#   tests/bench/net.sh [BUILD_DIR] [RUNS]          (as root)
# Uses its own bridge (gkb<pid>) and a free 10.x.y.0/24; podman uses its
# default network (podman0, 10.88.0.0/16).  Prints one line per case, then
# the difference bridge - none for each runtime.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${1:-build}
RUNS=${2:-30}
GKRUN=$PWD/$O/gkrun
[ "$(id -u)" -eq 0 ] || { echo "net.sh: run as root" >&2; exit 1; }
[ -x "$GKRUN" ] || { echo "net.sh: $GKRUN not built" >&2; exit 1; }

work=$(mktemp -d /tmp/gk-bench-net.XXXXXX)
root=$work/state
cleanup() {
        for d in "$root"/*/; do
                [ -d "$d" ] && "$GKRUN" --root "$root" delete --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$work"
}
trap cleanup EXIT

bundle-spec/mkrootfs.sh "$work/rootfs" >/dev/null

# a /24 no route or address on this machine uses
used=$(ip -4 route show table all; ip -4 addr)
for _ in $(seq 100); do
        prefix=10.$((200 + RANDOM % 55)).$((RANDOM % 256))
        grep -qF "$prefix." <<<"$used" || break
done
bridge=gkb$$

make_bundle() { # DIR JQ-FILTER
        mkdir -p "$1"
        (cd "$1" && "$GKRUN" spec)
        jq --arg root "$work/rootfs" \
                '.root.path = $root | .process.terminal = false | .process.args = ["/bin/true"] | '"$2" \
                "$1/config.json" >"$1/config.json.new"
        mv "$1/config.json.new" "$1/config.json"
}
make_bundle "$work/none" '.'
make_bundle "$work/bridge" '.annotations = {"org.gk.net.mode": "bridge",
        "org.gk.net.bridge": "'"$bridge"'", "org.gk.net.subnet": "'"$prefix"'.0/24",
        "org.gk.net.ports": "'$((20000 + RANDOM % 20000))':80"}'

now_ns() { date +%s%N; }

# time_runs NAME CMD...: RUNS runs of CMD (with the run number appended
# as the last argument when the command contains @ID@).
time_runs() {
        local name=$1 start end i
        shift
        local -a ms=()
        for i in $(seq "$RUNS"); do
                local -a cmd=("${@/@ID@/gkb-$$-$i}")
                start=$(now_ns)
                "${cmd[@]}" >/dev/null
                end=$(now_ns)
                ms+=($(((end - start) / 1000)))
        done
        printf '%s\n' "${ms[@]}" | sort -n | awk -v name="$name" '
                { v[NR] = $1; s += $1 }
                END { printf "%-22s mean %7.2f ms  median %7.2f ms  (%d runs)\n",
                      name, s / NR / 1000, v[int((NR + 1) / 2)] / 1000, NR }'
}

median() { awk '{ for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1) }' <<<"$1"; }

gk_none=$(time_runs "gkrun none" "$GKRUN" --root "$root" run --bundle "$work/none" @ID@)
gk_bridge=$(time_runs "gkrun bridge" "$GKRUN" --root "$root" run --bundle "$work/bridge" @ID@)
echo "$gk_none"
echo "$gk_bridge"
# The same with another container on the bridge: the bridge and the nft
# table already exist and stay, only the container's own part is timed.
make_bundle "$work/keeper" '.process.args = ["/bin/sleep", "1000"] | .annotations = {
        "org.gk.net.mode": "bridge", "org.gk.net.bridge": "'"$bridge"'",
        "org.gk.net.subnet": "'"$prefix"'.0/24"}'
"$GKRUN" --root "$root" create --bundle "$work/keeper" gkb-$$-keeper
gk_warm=$(time_runs "gkrun bridge (warm)" "$GKRUN" --root "$root" run --bundle "$work/bridge" @ID@)
"$GKRUN" --root "$root" delete --force gkb-$$-keeper
echo "$gk_warm"

if command -v podman >/dev/null; then
        # crun refuses this VM's hybrid cgroups; runc does not.  The default
        # rlimits are above this machine's hard limits.
        rt=()
        command -v runc >/dev/null && rt=(--runtime runc)
        cp -a "$work/rootfs" "$work/podman-rootfs"
        pod() {
                podman "${rt[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
                        --network "$1" --rootfs "$work/podman-rootfs" /bin/true
        }
        if pod none >/dev/null 2>&1; then
                p_none=$(time_runs "podman none" pod none)
                p_bridge=$(time_runs "podman bridge" pod bridge)
                echo "$p_none"
                echo "$p_bridge"
        else
                echo "podman: cannot run a container here: skipped"
        fi
else
        echo "podman: not installed: skipped"
fi

awk -v a="$(median "$gk_bridge")" -v w="$(median "$gk_warm")" -v b="$(median "$gk_none")" \
        'BEGIN { printf "gkrun:  bridge adds %7.2f ms (median), %7.2f ms with the bridge up\n", a - b, w - b }'
if [ -n "${p_none:-}" ]; then
        awk -v a="$(median "$p_bridge")" -v b="$(median "$p_none")" \
                'BEGIN { printf "podman: bridge adds %7.2f ms (median)\n", a - b }'
fi
