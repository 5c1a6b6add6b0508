#!/bin/sh
# Binds an installed gkrun read-only over itself, so that it runs protected
# from the containers (CVE-2019-5736) without re-executing itself from a
# read-only clone at every create, run and exec (runtime/container/selfclone.c):
#
#   contrib/gkrun-protect.sh on|off|status [PATH]     (as root; PATH: gkrun's)
#
# The bind lives in the host's mount namespace until `off` or a reboot
# (contrib/systemd/gkrun-protect.service makes it at boot).  While it is
# there, gkrun cannot be replaced: run `off` before an upgrade, `on` after.
set -eu
usage() { echo "usage: gkrun-protect.sh on|off|status [PATH]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
path=${2:-$(command -v gkrun || true)}
[ -n "$path" ] || { echo "gkrun-protect.sh: gkrun not found in PATH: give its path" >&2; exit 1; }
bin=$(readlink -f "$path")
[ -f "$bin" ] || { echo "gkrun-protect.sh: $bin: not a file" >&2; exit 1; }
bound() { findmnt -rn -o TARGET --mountpoint "$bin" >/dev/null 2>&1; }
case $1 in
on)
        if bound; then
                echo "$bin is bound read-only already"
                exit 0
        fi
        mount --bind "$bin" "$bin"
        mount -o remount,bind,ro "$bin"
        echo "$bin bound read-only over itself" ;;
off)
        if bound; then
                umount -l "$bin"
        fi
        echo "$bin is a plain file again" ;;
status)
        if bound; then echo "on: $bin"; else echo "off: $bin"; fi ;;
*)
        usage ;;
esac
