#!/bin/bash
# Runs the suite's cgroup tests (linux_cgroups_*) inside the pure cgroup-v2
# VM (/work/shared/tools/cgv2-vm, or $CGV2VM), with run.sh:
#   tests/conformance/run-cgv2.sh [BUILD_DIR]     (default: build-conform)
# Build the suite first with a run.sh on the host: the VM sees the host's /
# read-only and a fresh tmpfs on /tmp, except the working directory, so the
# VM is started from the cache dir ($GK_CONFORM_CACHE). State and bundles go
# to the VM's tmpfs (the shared directory is 9p, where mkfifo fails); the
# logs are copied back to $GK_CONFORM_CACHE/logs-cgv2. BUILD_DIR must not be
# under /tmp (the VM would not see it).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${GK_CONFORM_CACHE:-/tmp/gk-conform-cache}
if [ "${1:-}" = --inside ]; then
	build=$2
	mkdir -p /tmp/vmcache && cp -a "$cache/bin" "$cache/tapgopath" /tmp/vmcache/
	tests=${GK_CONFORM_TESTS:-$(cd /tmp/vmcache/bin && echo linux_cgroups_*)}
	GK_CONFORM_CACHE=/tmp/vmcache GK_CONFORM_SUITE=${GK_CONFORM_SUITE:-$cache/suite} \
		GK_CONFORM_TESTS=$tests GK_CONFORM_TIMEOUT=${GK_CONFORM_TIMEOUT:-150} \
		"$repo/tests/conformance/run.sh" "$build"
	rm -rf "$cache/logs-cgv2" && cp -a /tmp/vmcache/logs "$cache/logs-cgv2"
	exit 0
fi
build=${1:-build-conform}
case $build in /*) ;; *) build=$repo/$build ;; esac
[ -x "$cache/bin/runtimetest" ] || { echo "run-cgv2: run tests/conformance/run.sh on the host first" >&2; exit 2; }
cd "$cache" && exec "${CGV2VM:-/work/shared/tools/cgv2-vm}" --timeout 2400 -- \
	"$repo/tests/conformance/run-cgv2.sh" --inside "$build"
