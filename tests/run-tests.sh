#!/bin/bash
# Runs gk's tests and ends with one closing line "N passed, N failed, N skipped".
#   tests/run-tests.sh [--unit-only | --cgroup-only | --numa-only | --criu-only |
#                       --criu-orch-only | --cgroup-v1] [BUILD_DIR]
# Unit tests (cmocka, TAP output) need no root; integration tests (pytest,
# real containers) run as root (through sudo for a user who has it) and are
# skipped with a reason otherwise.
# --numa-only runs the tests that need two NUMA nodes (`make check-numa`
# runs them in a two-node VM).
# --criu-only runs the checkpoint/restore tests (CRIU 3.17 starts in the
# cgroup-v2 VM, not on a 6.18 kernel: make check-criu runs them there);
# --criu-orch-only the same driven by podman and containerd (a VM run of
# its own: podman is slow there).
# --cgroup-v1 runs the cgroup, lifecycle and crash tests on cgroup v1
# alone: on a hybrid host (v1 hierarchies plus cgroup2 on
# /sys/fs/cgroup/unified) in a private mount namespace without the
# cgroup2 mount; a full run does that too.
set -u
cd "$(dirname "$0")/.." || exit 2
mode=all
case ${1:-} in
--unit-only) mode=unit; shift ;;
--cgroup-only) mode=cgroup; shift ;;
--numa-only) mode=numa; shift ;;
--criu-only) mode=criu; shift ;;
--criu-orch-only) mode=criu_orch; shift ;;
--cgroup-v1) mode=cgv1; shift ;;
esac
O=${1:-build}
export GK_BUILD=$PWD/$O
passed=0 failed=0 skipped=0

if [ "$mode" = all ] || [ "$mode" = unit ]; then
        for t in "$O"/tests/test_*; do
                [ -x "$t" ] || continue
                out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
                rc=$?
                p=$(grep -cE '^ok [0-9]+' <<<"$out" | head -1)
                s=$(grep -cE '^ok [0-9]+.*# ?SKIP' <<<"$out")
                f=$(grep -cE '^not ok [0-9]+' <<<"$out")
                p=$((p - s))
                if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
                [ "$f" -gt 0 ] && printf '%s\n' "$out" | grep -vE '^ok ' >&2
                printf 'unit %-28s %d passed, %d failed\n' "$(basename "$t")" "$p" "$f"
                passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        done
fi

# The fuzz targets once through their committed seeds (tests/fuzz/corpus;
# `make fuzz` runs them for longer): what made a crash once stays tested.
# Each target counts as one test; without a clang that links libFuzzer
# they are skipped, with the reason.
if [ "$mode" = all ] || [ "$mode" = unit ]; then
        probe=$(mktemp -d /tmp/gk-fuzzprobe.XXXXXX)
        printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' \
                >"$probe/p.c"
        if ! command -v clang >/dev/null ||
                ! clang -fsanitize=fuzzer,address -o "$probe/p" "$probe/p.c" 2>/dev/null; then
                echo "fuzz seeds skipped: clang with libFuzzer not found (contrib/install-deps.sh --test)"
                skipped=$((skipped + 1))
        else
                for src in tests/fuzz/fuzz_*.c; do
                        if out=$(tests/fuzz/run.sh 0 "$src" 2>&1); then
                                passed=$((passed + 1))
                        else
                                failed=$((failed + 1))
                        fi
                        printf '%s\n' "$out" | head -40
                done
        fi
        rm -rf "$probe"
fi

# Integration tests run real containers: as root, or for a user who has
# sudo through it (the build and the tree stay the user's: no bytecode
# written there).
as_root=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
        as_root=(sudo env GK_BUILD="$GK_BUILD" PYTHONDONTWRITEBYTECODE=1)
        for v in GK_FAULT_BUILD GK_TEST_CACHE; do
                [ -n "${!v:-}" ] && as_root+=("$v=${!v}")
        done
fi

# pytest [ARGS...]: runs the integration tests, adds their counts.  With
# GK_V1_VIEW set, in a mount namespace without the host's cgroup2 mount.
run_pytest() {
        local xml rc t f e s
        local -a wrap=()
        xml=$(mktemp /tmp/gk-junit.XXXXXX)
        [ -n "${GK_V1_VIEW:-}" ] && wrap=(unshare -m --propagation private sh -c \
                'umount /sys/fs/cgroup/unified && exec "$@"' sh)
        "${as_root[@]}" "${wrap[@]}" /usr/bin/python3 -m pytest -p no:cacheprovider -q -rfEs \
                --junitxml="$xml" "$@" ${PYTEST_ARGS:-}
        rc=$?
        # no process substitution: the cgroup-v2 VM has no /dev/fd
        read -r t f e s <<<"$(/usr/bin/python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    print(s.get("tests", 0), s.get("failures", 0), s.get("errors", 0), s.get("skipped", 0))
except Exception:
    print(0, 0, 1, 0)
PY
)"
        rm -f "$xml"
        # pytest exit 5 = nothing collected; anything else non-zero
        # without a counted failure is a harness failure.
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ $((f + e)) -eq 0 ]; then e=1; fi
        passed=$((passed + t - f - e - s)) failed=$((failed + f + e)) skipped=$((skipped + s))
}

# hybrid: v1 hierarchies on a tmpfs, cgroup2 beside them
fstype() { stat -f -c %T "$1" 2>/dev/null; }
hybrid() { [ "$(fstype /sys/fs/cgroup)" = tmpfs ] && [ "$(fstype /sys/fs/cgroup/unified)" = cgroup2fs ]; }

if [ "$mode" != unit ]; then
        if [ "$(id -u)" -ne 0 ] && [ "${#as_root[@]}" -eq 0 ]; then
                echo "integration tests skipped: they run real containers and need root (or sudo)"
                skipped=$((skipped + 1))
        elif [ "$mode" = cgv1 ] && [ "$(fstype /sys/fs/cgroup)" = cgroup2fs ]; then
                echo "cgroup v1 tests skipped: this host is pure cgroup v2"
                skipped=$((skipped + 1))
        else
                case $mode in
                all) run_pytest tests/integration ;;
                cgroup) run_pytest tests/integration -m cgroup ;;
                numa) run_pytest tests/integration -m numa ;;
                criu) run_pytest tests/integration/test_checkpoint.py ;;
                criu_orch) run_pytest tests/integration/test_checkpoint_orch.py ;;
                esac
                if [ "$mode" = cgv1 ] || { [ "$mode" = all ] && hybrid; }; then
                        # create makes and saves the cgroup in another order
                        # when no cgroup2 directory is made before the clone
                        echo "cgroup, lifecycle and crash tests again on cgroup v1 alone (cgroup2 mount hidden):"
                        GK_V1_VIEW=$(hybrid && echo 1) run_pytest tests/integration/test_cgroup.py \
                                tests/integration/test_lifecycle.py tests/integration/test_crash.py
                fi
        fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
