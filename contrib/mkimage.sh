#!/bin/sh
# Makes a one-layer image of a root filesystem directory as a docker-archive
# (what `docker save` writes), for `gkimg import` without a registry:
#   contrib/mkimage.sh ROOTFS REF ARCHIVE [CMD [ARG...]]
# e.g.  bundle-spec/mkrootfs.sh /tmp/rootfs
#       contrib/mkimage.sh /tmp/rootfs gk/busybox:local /tmp/busybox.tar sh
#       gkimg import /tmp/busybox.tar
# Needs tar, sha256sum and jq.
set -eu
[ $# -ge 3 ] || { echo "usage: mkimage.sh ROOTFS REF ARCHIVE [CMD [ARG...]]" >&2; exit 2; }
rootfs=$1 ref=$2 out=$3
shift 3
case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac
work=$(mktemp -d /tmp/gk-mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar --numeric-owner --xattrs --sort=name -C "$rootfs" -cf "$work/layer.tar" .
diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$diff"
mv "$work/layer.tar" "$work/$diff/layer.tar"
# One argument a line (jq would take "-c" in the arguments for its own).
cmd=$(for a in "$@"; do printf '%s\n' "$a"; done | jq -R . | jq -cs .)
jq -cn --arg arch "$arch" --arg diff "sha256:$diff" --argjson cmd "$cmd" '{
        architecture: $arch, os: "linux", created: "1970-01-01T00:00:00Z",
        config: {Cmd: $cmd,
                 Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        rootfs: {type: "layers", diff_ids: [$diff]},
        history: [{created_by: "contrib/mkimage.sh"}]}' > "$work/config"
cfg=$(sha256sum "$work/config" | cut -d' ' -f1)
mv "$work/config" "$work/$cfg.json"
jq -cn --arg c "$cfg.json" --arg r "$ref" --arg l "$diff/layer.tar" \
        '[{Config: $c, RepoTags: [$r], Layers: [$l]}]' > "$work/manifest.json"
tar -C "$work" -cf "$out" manifest.json "$cfg.json" "$diff"
