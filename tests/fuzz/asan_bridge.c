/* Lets atheris's libFuzzer see coverage while gcc's ASan runtime is loaded.
 *
 * The ASan build of the extension needs libasan preloaded, and libasan defines the __sanitizer_cov_* entry points
 * (as no-ops), so they win over atheris's: libFuzzer then never learns of atheris's counters and fuzzes blind.
 * Preloaded ahead of libasan (ASAN_OPTIONS=verify_asan_link_order=0), this library owns the entry points atheris's
 * libFuzzer-less core imports, and forwards each to atheris's own libFuzzer build, loaded privately (RTLD_LOCAL)
 * from the path in THRIFTY_ATHERIS_CORE. atheris then reports "Using preloaded libfuzzer". Test tooling only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void *core;

static void *forward(const char *name) {
    if (core == NULL) {
        const char *path = getenv("THRIFTY_ATHERIS_CORE");
        /* an empty path would give the main program's handle, whose lookup finds these very functions */
        core = path && *path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
        if (core == NULL) {
            fprintf(stderr, "asan_bridge: cannot load THRIFTY_ATHERIS_CORE (%s): %s\n", path ? path : "unset",
                    dlerror());
            abort();
        }
    }
    void *fn = dlsym(core, name);
    if (fn == NULL) {
        fprintf(stderr, "asan_bridge: %s not in %s\n", name, getenv("THRIFTY_ATHERIS_CORE"));
        abort();
    }
    return fn;
}

/* Each entry point looks its target up once; the casts are between function pointer types of the same signature. */
#define BRIDGE(ret, name, params, args)                                                                                \
    ret name params {                                                                                                  \
        static ret(*fn) params;                                                                                        \
        if (fn == NULL)                                                                                                \
            *(void **)&fn = forward(#name);                                                                            \
        return fn args;                                                                                                \
    }

typedef int (*test_one_input)(const uint8_t *, size_t);

BRIDGE(int, LLVMFuzzerRunDriver, (int *argc, char ***argv, test_one_input cb), (argc, argv, cb))
BRIDGE(size_t, LLVMFuzzerMutate, (uint8_t * data, size_t size, size_t max), (data, size, max))
BRIDGE(void, __sanitizer_cov_8bit_counters_init, (uint8_t * start, uint8_t *stop), (start, stop))
BRIDGE(void, __sanitizer_cov_pcs_init, (const uintptr_t *start, const uintptr_t *stop), (start, stop))
BRIDGE(void, __sanitizer_cov_trace_cmp8, (uint64_t a, uint64_t b), (a, b))
BRIDGE(void, __sanitizer_cov_trace_const_cmp8, (uint64_t a, uint64_t b), (a, b))
/* libFuzzer's memcmp hook compares with memcmp, which libasan intercepts and reports to this hook again. */
void __sanitizer_weak_hook_memcmp(void *pc, const void *a, const void *b, size_t n, int result) {
    static void (*fn)(void *, const void *, const void *, size_t, int);
    static __thread int inside;
    if (inside)
        return;
    inside = 1;
    if (fn == NULL)
        *(void **)&fn = forward("__sanitizer_weak_hook_memcmp");
    fn(pc, a, b, n, result);
    inside = 0;
}
