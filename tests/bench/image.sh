#!/bin/sh
# gkimg pull + bundle of a Debian minbase image against skopeo copy + umoci
# unpack, from a loopback registry; see image.py for what is timed.
#   tests/bench/image.sh [BUILD_DIR] [--rounds N]
# Prints a table and `RESULT image-NAME median_seconds` lines.
set -eu
here=$(dirname "$0")
build=${1:-build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 "$here/image.py" "$build" "$@"
