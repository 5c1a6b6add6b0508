#!/bin/bash
# make fuzz: builds each libFuzzer target with ASan+UBSan and runs it for
# SECONDS, from its seed corpus in tests/fuzz/corpus/NAME/.
#   tests/fuzz/run.sh SECONDS tests/fuzz/fuzz_NAME.c...
# A target names what it needs in its first lines:
#   /* fuzz-sources: imgtool/reference.c */   (lib/*.c is always linked)
#   /* fuzz-libs: yajl libcrypto */          (pkg-config names)
# each on one line (clang-format's column limit): a long list is split into
# several fuzz-sources lines, all of them taken.
# A dictionary tests/fuzz/NAME.dict is used when there is one.
# Crashes are saved in build-fuzz/NAME/ and fail the run.
# SECONDS=0 only replays the committed seeds once through each target (make
# check does this: every crash found stays fixed).
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:?usage: run.sh SECONDS TARGET.c...}
shift
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang)"; exit 1; }
rc=0
for src in "$@"; do
        name=$(basename "$src" .c)
        name=${name#fuzz_}
        out=build-fuzz/$name
        mkdir -p "$out/corpus"
        extra=$(sed -n 's|.*fuzz-sources: *\(.*\) *\*/.*|\1|p' "$src" | tr '\n' ' ')
        libs=$(sed -n 's|.*fuzz-libs: *\(.*\) *\*/.*|\1|p' "$src" | head -1)
        # shellcheck disable=SC2086
        if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -D_GNU_SOURCE -DGK_VERSION='"fuzz"' -Iinclude -iquote imgtool -iquote runtime \
                -o "$out/fuzzer" "$src" lib/*.c $extra $(pkg-config --libs ${libs:-yajl}); then
                echo "fuzz: $name: build failed"; rc=1; continue
        fi
        seeds=tests/fuzz/corpus/$name
        [ -d "$seeds" ] || seeds=
        dict=
        [ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
        if [ "$secs" = 0 ]; then
                n=$(find $seeds -type f 2>/dev/null | wc -l)
                # shellcheck disable=SC2086
                if ! "$out/fuzzer" -runs=0 -artifact_prefix="$out/" $seeds > "$out/log" 2>&1; then
                        echo "fuzz: $name: a seed crashes (see $out/log)"; rc=1
                        tail -30 "$out/log"
                else
                        echo "fuzz: $name: $n seeds replayed"
                fi
                continue
        fi
        echo "fuzz: $name for ${secs}s"
        # shellcheck disable=SC2086
        if ! "$out/fuzzer" -max_total_time="$secs" -artifact_prefix="$out/" -print_final_stats=1 \
                $dict "$out/corpus" $seeds > "$out/log" 2>&1; then
                echo "fuzz: $name: FOUND A CRASH (see $out/log and $out/crash-*)"; rc=1
                tail -30 "$out/log"
        else
                grep -E 'stat::number_of_executed_units|cov:' "$out/log" | tail -2
        fi
done
exit $rc
