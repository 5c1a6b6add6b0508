#!/bin/bash
# Runs the OCI runtime validation suite (opencontainers/runtime-tools,
# validation/*) against gkrun, crun and runc, and compares them:
#   tests/conformance/run.sh [BUILD_DIR]        (default: build-conform)
# Not part of `make check`: a full run takes several minutes, as root.
#
# Environment:
#   GK_CONFORM_CACHE     work dir (default /tmp/gk-conform-cache): binaries,
#                        rootfs tarball, per-runtime state roots, logs
#   GK_CONFORM_SUITE     GOPATH tree holding the suite's sources,
#                        src/github.com/opencontainers/runtime-tools/
#                        {validation,cmd/runtimetest} (default
#                        $GK_CONFORM_CACHE/suite). See README.md: Debian's
#                        golang-github-opencontainers-runtime-tools-dev ships
#                        only the library half, not these directories.
#   GK_CONFORM_RUNTIMES  runtimes to compare (default "gkrun crun runc")
#   GK_CONFORM_TESTS     space-separated test names (default: all built)
#   GK_CONFORM_TIMEOUT   seconds per test (default 90)
#
# Each test runs in a private mount namespace with /sys/fs/cgroup/unified
# unmounted, for every runtime alike: crun 1.8 refuses this hybrid host
# ("cgroups in hybrid mode not supported") while the empty cgroup2 mount is
# visible. Each runtime gets its own --root under the cache, each test its
# own TMPDIR (bundles are created there), so cleanup is by path only.
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-conform}
case $build in /*) ;; *) build=$repo/$build ;; esac
cache=${GK_CONFORM_CACHE:-/tmp/gk-conform-cache}
suite=${GK_CONFORM_SUITE:-$cache/suite}
runtimes=${GK_CONFORM_RUNTIMES:-gkrun crun runc}
per_test=${GK_CONFORM_TIMEOUT:-90}
rt_src=/usr/share/gocode/src/github.com/opencontainers/runtime-tools
bin=$cache/bin
logs=$cache/logs

die() { echo "conformance: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$build/gkrun" ] || die "\`$build/gkrun\` not built (make O=$(basename "$build"))"
command -v go >/dev/null || die "go not found (apt-get install golang-go)"
[ -d "$rt_src/generate" ] ||
	die "$rt_src missing (apt-get install golang-github-opencontainers-runtime-tools-dev)"
[ -d "$suite/src/github.com/opencontainers/runtime-tools/validation/util" ] ||
	die "suite sources not found under \`$suite\` (see tests/conformance/README.md)"

# --- build (once; rebuilt when a source is newer than its binary) ---------
build_suite() {
	local gp=$cache/tapgopath/src/github.com/mndrix/tap-go
	mkdir -p "$gp" "$bin" "$logs"
	cmp -s "$repo/tests/conformance/tap/tap.go" "$gp/tap.go" ||
		cp "$repo/tests/conformance/tap/tap.go" "$gp/tap.go"
	export GOPATH=$suite:$cache/tapgopath:/usr/share/gocode
	export GO111MODULE=off GOFLAGS='' GOPROXY=off GOCACHE=$cache/gocache CGO_ENABLED=0
	local pkgroot=$suite/src/github.com/opencontainers/runtime-tools
	local dir name
	for dir in "$pkgroot"/cmd/runtimetest "$pkgroot"/validation/*/; do
		dir=${dir%/}
		name=$(basename "$dir")
		[ "$name" = util ] && continue
		if [ -x "$bin/$name" ] && [ -z "$(find "$dir" "$pkgroot/validation/util" \
			"$gp" -name '*.go' -newer "$bin/$name" | head -1)" ]; then
			continue
		fi
		(cd /tmp && go build -o "$bin/$name" "${dir#"$suite"/src/}") ||
			die "building \`$name\` failed"
	done
	if [ ! -s "$bin/rootfs-amd64.tar.gz" ]; then
		rm -rf "$cache/rootfs"
		sh "$repo/bundle-spec/mkrootfs.sh" "$cache/rootfs" >/dev/null ||
			die "mkrootfs.sh failed"
		tar -C "$cache/rootfs" -czf "$bin/rootfs-amd64.tar.gz" . || die "tar failed"
		rm -rf "$cache/rootfs"
	fi
}

# --- runtimes: a wrapper per runtime pins its state root ---------------------
make_wrapper() { # NAME -> path of wrapper
	local name=$1 real
	case $name in
	gkrun) real=$build/gkrun ;;
	*) real=$(command -v "$name") || return 1 ;;
	esac
	mkdir -p "$cache/wrap" "$cache/state/$name"
	printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$real" "$cache/state/$name" \
		>"$cache/wrap/$name"
	chmod +x "$cache/wrap/$name"
	echo "$cache/wrap/$name"
}

# Kill processes whose root is inside DIR (containers a test leaked), by PID.
kill_rooted_in() {
	local dir=$1 p root
	for p in /proc/[0-9]*; do
		root=$(readlink "$p/root" 2>/dev/null) || continue
		case $root in "$dir"/*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
}

# Remove what a test may leave: containers in the runtime's private root,
# processes rooted in the test's TMPDIR, the suite's fixed cgroup names, the
# TMPDIR itself (never across a mount point).
cleanup_after() { # WRAPPER TMPDIR
	local wrap=$1 tmp=$2 id d
	for id in $("$wrap" list -q 2>/dev/null); do
		timeout 20 "$wrap" delete --force "$id" >/dev/null 2>&1
	done
	kill_rooted_in "$tmp"
	# the suite's fixed cgroup names: cgroups.AbsCgroupPath (/cgrouptest),
	# RelCgroupPath (testdir/cgrouptest/container, under the caller's cgroup)
	# and delete_only_create_resources's pids/cgrouptest; deepest first
	find /sys/fs/cgroup -maxdepth 7 -type d -name cgrouptest 2>/dev/null |
		while read -r d; do
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
			case $d in */testdir/cgrouptest) rmdir "${d%/cgrouptest}" 2>/dev/null ;; esac
		done
	if grep -q " $tmp" /proc/self/mountinfo; then
		echo "conformance: mounts left under $tmp, not removing it" >&2
	else
		rm -rf "$tmp"
	fi
}

# Runs one test; prints "VERDICT OK NOTOK TODO" (VERDICT: P, F or T).
run_one() { # WRAPPER TEST LOGFILE
	local wrap=$1 test=$2 log=$3 tmp rc ok notok todo verdict
	tmp=$(mktemp -d "$cache/tmp.XXXXXX") && chmod 755 "$tmp"
	# shellcheck disable=SC2016
	TMPDIR=$tmp RUNTIME=$wrap T=$per_test TEST=$test BIN=$bin \
		unshare -m --propagation private sh -c '
		umount /sys/fs/cgroup/unified 2>/dev/null
		cd "$BIN" && exec timeout -k 5 "$T" "./$TEST"' >"$log" 2>"$log.err"
	rc=$?
	cleanup_after "$wrap" "$tmp"
	ok=$(grep -Ec '^ok [0-9]+' "$log")
	notok=$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# TODO')
	todo=$(grep -E '^not ok [0-9]+' "$log" | grep -c '# TODO')
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		verdict=T
	elif [ $rc -ne 0 ] || [ "$notok" -gt 0 ]; then
		verdict=F
	elif [ "$ok" -eq 0 ] && grep -q '"error":' "$log"; then
		# hook tests emit no test point, only an error diagnostic on failure
		verdict=F
	else
		verdict=P
	fi
	echo "$verdict $ok $notok $todo"
}

build_suite
tests=${GK_CONFORM_TESTS:-}
if [ -z "$tests" ]; then
	for f in "$bin"/*; do
		case ${f##*/} in runtimetest | *.tar.gz) continue ;; esac
		tests="$tests ${f##*/}"
	done
fi

declare -A res
for rt in $runtimes; do
	wrap=$(make_wrapper "$rt") || { echo "conformance: $rt not installed, skipped" >&2; continue; }
	mkdir -p "$logs/$rt"
	for t in $tests; do
		res[$rt,$t]=$(run_one "$wrap" "$t" "$logs/$rt/$t.tap")
	done
	rm -rf "${cache:?}/state/$rt"
done

# --- report ------------------------------------------------------------------
cell() { # "V OK NOTOK TODO" -> "P 12/0"
	[ -n "${1:-}" ] || { echo "-"; return; }
	local v o n
	read -r v o n _ <<<"$1"
	echo "$v $o/$n"
}
printf '%-34s' test
for rt in $runtimes; do printf ' %-12s' "$rt"; done
echo
for t in $tests; do
	printf '%-34s' "$t"
	for rt in $runtimes; do printf ' %-12s' "$(cell "${res[$rt,$t]:-}")"; done
	echo
done
echo "(cells: verdict ok/not-ok; P pass, F fail, T timeout; logs in $logs/RUNTIME/TEST.tap)"
echo
for rt in $runtimes; do
	p=0 f=0 to=0 oks=0 noks=0
	for t in $tests; do
		[ -n "${res[$rt,$t]:-}" ] || continue
		read -r v o n _ <<<"${res[$rt,$t]}"
		case $v in P) p=$((p + 1)) ;; F) f=$((f + 1)) ;; T) to=$((to + 1)) ;; esac
		oks=$((oks + o))
		noks=$((noks + n))
	done
	echo "$rt: $p passed, $f failed, $to timed out; test points $oks ok, $noks not ok"
done
if [[ " $runtimes " == *" gkrun "* && " $runtimes " == *" crun "* ]]; then
	echo
	echo "gkrun worse than crun:"
	worse=0
	for t in $tests; do
		read -r gv _ gn _ <<<"${res[gkrun,$t]:-x 0 0 0}"
		read -r cv _ cn _ <<<"${res[crun,$t]:-x 0 0 0}"
		if { [ "$cv" = P ] && [ "$gv" != P ]; } || [ "$gn" -gt "$cn" ]; then
			echo "  $t (gkrun $gv, $gn not ok; crun $cv, $cn not ok)"
			worse=$((worse + 1))
		fi
	done
	[ $worse -eq 0 ] && echo "  none"
fi
exit 0
