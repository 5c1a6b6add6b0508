#!/bin/bash
# make lint: banned calls, cppcheck, shellcheck, clang-format (when
# LINT_FORMAT is 1).  Prints findings, exits 1 when there are any.
set -u
# clang-format (.clang-format, tests/format.sh): the whole tree is
# formatted, so it is checked; LINT_FORMAT=0 skips it.
LINT_FORMAT=${LINT_FORMAT:-1}
cd "$(dirname "$0")/.." || exit 2
rc=0
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|gets)\s*\('
# recursive: runtime/ is one folder per concern (README.md, "Layout")
if grep -rnE --include='*.[ch]' "$banned" lib runtime imgtool include/gk; then
        echo "lint: banned function above (use snprintf/asprintf/strtok_r)"; rc=1
fi
# runtime/'s folders include each other without a cycle (README, Layout):
# every "folder/x.h" include is an edge for tsort, which refuses a loop.
for d in runtime/*/; do
        d=${d%/}
        d=${d#runtime/}
        grep -ho '^#include "[a-z]*/' runtime/"$d"/*.[ch] | sed 's/#include "//; s|/||' |
                sort -u | grep -vx -e "$d" -e gk | sed "s|^|$d |"
done >"${TMPDIR:-/tmp}/gk-lint-graph.$$"
if ! tsort "${TMPDIR:-/tmp}/gk-lint-graph.$$" >/dev/null 2>&1; then
        tsort "${TMPDIR:-/tmp}/gk-lint-graph.$$" 2>&1 >/dev/null | head -5
        echo "lint: runtime/ folders include each other in a cycle (above)"; rc=1
fi
rm -f "${TMPDIR:-/tmp}/gk-lint-graph.$$"
if command -v cppcheck >/dev/null; then
        # cleanup attributes free what cppcheck thinks leaks: LeakSanitizer checks that.
        cppcheck -q --error-exitcode=1 --enable=warning,portability --inline-suppr \
                --suppress=memleak --suppress=resourceLeak --suppress=leakReturnValNotUsed \
                -Iinclude -Iruntime -D_GNU_SOURCE lib runtime imgtool || rc=1
fi
if command -v shellcheck >/dev/null; then
        shellcheck -S warning .ci/run contrib/*.sh bundle-spec/*.sh tests/*.sh || rc=1
fi
if [ "$LINT_FORMAT" = 1 ]; then
        tests/format.sh --check || rc=1
fi
exit $rc
