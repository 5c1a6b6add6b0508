#!/bin/bash
# clang-format with the top-level .clang-format over gk's C sources.
#   tests/format.sh --check [FILE...]   lists the files it would change (and
#                                       how many lines), exits 1 if any
#   tests/format.sh --fix [FILE...]     formats them in place
# Without FILEs: every .c and .h under runtime/ lib/ imgtool/ include/ tests/.
# The output depends on clang-format's version: .clang-format was measured
# with clang-format 14 (Debian 12, contrib/install-deps.sh --test).
set -u
cd "$(dirname "$0")/.." || exit 2
mode=${1:-}
case $mode in
--check | --fix) shift ;;
*)
        echo "usage: tests/format.sh --check | --fix [FILE...]" >&2
        exit 2
        ;;
esac
if ! command -v clang-format >/dev/null; then
        echo "format: clang-format not found (contrib/install-deps.sh --test installs it)" >&2
        exit 2
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
        mapfile -t files < <(find runtime lib imgtool include tests -name '*.[ch]' -type f | sort)
fi
if [ "$mode" = --fix ]; then
        exec clang-format -i --style=file "${files[@]}"
fi
rc=0
for f in "${files[@]}"; do
        # lines of F that clang-format would change
        n=$(clang-format --style=file "$f" | diff -U0 "$f" - | grep -c '^-[^-]')
        if [ "$n" -gt 0 ]; then
                echo "$f: $n lines differ from .clang-format (tests/format.sh --fix)"
                rc=1
        fi
done
exit $rc
