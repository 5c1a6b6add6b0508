/* libFuzzer target for the config.json model: whatever parses must emit,
 * parse back and emit the same text again (parse(emit(x)) == x), and the
 * process and resources entry points must cope with any input.
 * Seeds: tests/fuzz/corpus/spec/; dictionary: tests/fuzz/spec.dict. */
// clang -fsanitize=fuzzer,address,undefined -Iinclude -D_GNU_SOURCE
//       tests/fuzz/fuzz_spec.c lib/*.c $(pkg-config --libs yajl)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const gk_spec *s)
{
        gk_spec *back = NULL;
        gk_error *err = NULL;
        char *t1 = NULL, *t2 = NULL;
        size_t l1, l2;

        if (gk_spec_emit(s, &t1, &l1, &err) < 0) {
                fprintf(stderr, "emit failed: %s\n", err->msg);
                abort();
        }
        if (gk_spec_parse(t1, l1, "emitted", &back, &err) < 0) {
                fprintf(stderr, "emitted spec refused: %s\n%s\n", err->msg, t1);
                abort();
        }
        if (gk_spec_emit(back, &t2, &l2, &err) < 0 || l1 != l2 || memcmp(t1, t2, l1) != 0) {
                fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", t1, t2 ? t2 : "(none)");
                abort();
        }
        gk_spec_free(back);
        free(t1);
        free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        gk_spec *s = NULL;
        gk_process *p = NULL;
        gk_resources r;
        gk_error *err = NULL;

        if (gk_spec_parse((const char *) data, size, "config.json", &s, &err) == 0) {
                round_trip(s);
                gk_spec_free(s);
        } else {
                gk_error_free(err);
                err = NULL;
        }
        if (gk_process_parse((const char *) data, size, "process.json", &p, &err) == 0)
                gk_process_free(p);
        else
                gk_error_free(err);
        err = NULL;
        if (gk_resources_parse((const char *) data, size, "resources.json", &r, &err) == 0)
                gk_resources_clear(&r);
        else
                gk_error_free(err);
        return 0;
}
