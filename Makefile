# thrifty — every developer and CI command. `make test` on a fresh clone sets everything up itself.
#
#   make test    .venv + package + test extras, then the C core tests (ASan+UBSan; also in the variant builds of
#                test-c-variants: -Os, portable C99, knobs off; and the core compiled, not run, as a device build:
#                -Os and -O2, no sanitizer, -Werror), fuzz-corpus replay (the C
#                corpora here; the Python-API corpora in tests/fuzz/corpus by pytest's test_fuzz_corpora.py),
#                typecheck (mypy --strict, stubtest), pytest, and the doctor's HTML report in headless Chromium
#   make test-py313 / test-py314   the pytest suite on CPython 3.13 (Debian 13) / 3.14 (Debian unstable), each in a
#                debootstrap root cached under build/roots (tools/debian-leg.sh); both run in `make test`
#   make test-py312  the pytest suite on CPython 3.12 (pyenv's 3.12.1 in this machine image; PY312=... names another) in
#                its own venv, build/py312; part of `make test`, and a one-line skip where that interpreter is missing.
#                Measured: 781 passed, 6 skipped, 1 xfailed; 9 min from no venv, 7 min 52 s of it pytest (loaded machine)
#   make test-arch  the C tests and the whole pytest suite on armhf and arm64 (Debian 12 roots under qemu-user)
#   make test-c-cross  the C core tests on i386 (32-bit, x87) and s390x (64-bit big-endian, under qemu-user), with
#                Debian's cross compilers (installed when missing); part of `make test`
#   make test-asan  the extension built with ASan+UBSan in build/asan, the whole pytest suite run against it
#   make bench   side-by-side benchmarks; writes docs/benchmarks.md
#   make bench-watch  only `thrifty watch` on long runs beside memray and tracemalloc (~80 min; part of make bench)
#   make fuzz    each libFuzzer target for FUZZ_SECONDS (clang installed when missing), then each Python-API target
#                in tests/fuzz/ under atheris against the ASan build (fuzz-c, fuzz-py run one half)
#   make cross   core/ freestanding for a Cortex-M4, code size per part (arm-none-eabi-gcc installed when missing)
#   make micropython MICROPY_DIR=...  the MicroPython module (micropython/) in MicroPython's unix port, its tests,
#                then the same tests against the natmod thrifty.mpy (x64) imported by that port
#   make micropython-sizes MICROPY_DIR=...  flash each part adds to MicroPython's bare-arm (Cortex-M4) firmware, and
#                thrifty.mpy's size per part for armv7emsp
#   make micropython-qemu MICROPY_DIR=...  the same tests against thrifty.mpy (armv7m) in MicroPython's qemu port
#                (Cortex-M3) under qemu-system-arm (installed when missing)
#   make bench-lz-small  decode speed of the small-flash lz build (TF_LZ_SMALL) beside the fast one
#   make bench-lz-stream the streaming encoder's instructions beside one-shot compression's (callgrind), same frames
#   make lint    clang-format in check mode over every C file (part of `make test`)
#   make demo    the doctor on the naive sensor logger and on its thrifty rewrite, side by side (thrifty diff)

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BUILD := build/core
FUZZ_SECONDS ?= 60

CORE_SRC := $(wildcard core/src/*.c)
CORE_HDR := $(wildcard core/include/thrifty/*.h)
CORE_SRC_HDR := $(wildcard core/src/*.h)
CORE_TESTS := $(wildcard core/tests/test_*.c)
FUZZ_TARGETS := $(wildcard core/fuzz/fuzz_*.c)
C_FILES := $(CORE_SRC) $(CORE_HDR) $(CORE_TESTS) $(FUZZ_TARGETS) $(wildcard cpython/*.c cpython/*.h tests/fuzz/*.c)

WARN := -std=c99 -Wall -Wextra -Wconversion -Wsign-conversion -pedantic -Werror
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
CFLAGS_TEST := $(WARN) $(SAN) -D_POSIX_C_SOURCE=200809L -DTF_DEBUG=1 -Icore/include -pthread

.PHONY: test typecheck test-asan asan-ext test-c test-c-small test-c-variants test-c-cross cross-toolchains test-py312 test-py313 test-py314 test-arch test-fuzz-replay py312-suite test-py test-html install bench bench-watch bench-lz-small bench-lz-stream fuzz fuzz-c fuzz-py cross lint demo micropython micropython-sizes micropython-qemu clean apt-%

# ---- set-up -----------------------------------------------------------------------------------------------
$(VENV)/.stamp: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip setuptools wheel
	$(VPY) -m pip install -q -e '.[test]' --no-build-isolation
	touch $@

# Rebuild the extension in place after any C change (editable install: src/thrifty is what is imported).
install: $(VENV)/.stamp
	$(VPY) setup.py -q build_ext --inplace

# apt-<pkg>: install a Debian package when its command is missing (CI and developer machines run as root).
apt-%:
	@command -v $(APT_CMD) >/dev/null 2>&1 || { \
	  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $* || sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $*) >/dev/null; }

# ---- tests ------------------------------------------------------------------------------------------------
test: lint test-c test-c-variants test-c-cross test-fuzz-replay typecheck test-py test-html test-py312 test-py313 test-py314

$(BUILD)/%: core/tests/%.c $(CORE_SRC) $(CORE_HDR) $(CORE_SRC_HDR) core/tests/tf_test.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_TEST) $< $(CORE_SRC) -o $@ -lm

test-c: $(patsubst core/tests/%.c,$(BUILD)/%,$(CORE_TESTS)) test-c-small
	@set -e; for t in $(filter $(BUILD)/%,$^); do echo "== $$t"; ./$$t; done

# ---- the small-flash lz build (TF_LZ_SMALL, config.h) -------------------------------------------------------
# test_lz and the lz fuzz corpora replayed against the small build, and a transcript of both builds over the corpora
# (frames one-shot compression writes, what the decoder makes of each input and of corrupted and cut copies of each
# frame, in one call and streamed): identical.
SMALL := build/core-small
LZ_CORPORA = $(shell find core/fuzz/corpus/fuzz_lz_decode core/fuzz/corpus/fuzz_lz_roundtrip -type f 2>/dev/null)
$(SMALL)/%: core/tests/%.c $(CORE_SRC) $(CORE_HDR) core/tests/tf_test.h
	@mkdir -p $(SMALL)
	$(CC) $(CFLAGS_TEST) -DTF_LZ_SMALL=1 $< $(CORE_SRC) -o $@ -lm
$(SMALL)/replay_%: core/fuzz/%.c core/fuzz/replay.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(SMALL)
	$(CC) $(filter-out -std=c99 -pedantic,$(CFLAGS_TEST)) -DTF_LZ_SMALL=1 $< core/fuzz/replay.c $(CORE_SRC) -o $@
$(BUILD)/lz_transcript_%: core/tests/lz_transcript.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_TEST) -DTF_LZ_SMALL=$* -DTF_LZ_FILTERS=1 -DTF_LZ_DICTIONARY=1 $< $(CORE_SRC) -o $@ -lm # filters, dictionaries in both

test-c-small: $(SMALL)/test_lz $(SMALL)/replay_fuzz_lz_decode $(SMALL)/replay_fuzz_lz_roundtrip \
              $(BUILD)/lz_transcript_0 $(BUILD)/lz_transcript_1
	@echo "== $(SMALL)/test_lz (TF_LZ_SMALL=1)" && $(SMALL)/test_lz
	@set -e; for n in fuzz_lz_decode fuzz_lz_roundtrip; do echo "== replay $$n (TF_LZ_SMALL=1)"; \
	  $(SMALL)/replay_$$n $$(find core/fuzz/corpus/$$n -type f); done
	@$(BUILD)/lz_transcript_0 $(LZ_CORPORA) README.md > $(BUILD)/lz_transcript_0.txt
	@$(BUILD)/lz_transcript_1 $(LZ_CORPORA) README.md > $(BUILD)/lz_transcript_1.txt
	@cmp $(BUILD)/lz_transcript_0.txt $(BUILD)/lz_transcript_1.txt && \
	  c=$$(grep -c '^  W=' $(BUILD)/lz_transcript_0.txt) && i=$$(grep -c 'as a frame' $(BUILD)/lz_transcript_0.txt) && \
	  m=$$(grep -c '^    ' $(BUILD)/lz_transcript_0.txt) && \
	  echo "== lz fast and small builds: the same frames and decode results ($$c compressions, $$i inputs, $$m corrupted or cut frames)"

# Decode speed of the small build beside the fast one, on the same input (Python sources and a shared library).
LZ_SPEED_INPUT ?= $(shell $(PYTHON) -c 'import sysconfig, pathlib; s = pathlib.Path(sysconfig.get_paths()["stdlib"]); \
  print(" ".join(str(p) for p in sorted((s / "asyncio").glob("*.py"))[:24]), sysconfig.get_config_var("LIBDIR") + "/" + (sysconfig.get_config_var("LDLIBRARY") or ""))')
bench-lz-small:
	@mkdir -p $(BUILD)
	@for m in 0 1; do $(CC) -std=c99 -O2 -D_POSIX_C_SOURCE=200809L -Icore/include -DTF_LZ_SMALL=$$m \
	  bench/lz_small_speed.c $(CORE_SRC) -o $(BUILD)/lz_speed_$$m -lm || exit 1; \
	  nice $(BUILD)/lz_speed_$$m $(LZ_SPEED_INPUT) || exit 1; done

# The streaming encoder (sink / poll, feeding 256 B and 4 KiB, polling 1 KiB) beside one-shot compression on the same
# MiB of LZ_SPEED_INPUT, in instructions (callgrind counts each side's own calls), at the run-file writer's settings
# (W=9 L=4 level 1), W=8 level 1 and W=12 level 6. The driver also checks that every frame is the same bytes.
bench-lz-stream:
	@mkdir -p $(BUILD)
	@cat $(LZ_SPEED_INPUT) | head -c 1048576 > $(BUILD)/lz_stream_input
	@$(CC) -std=c99 -O2 -D_POSIX_C_SOURCE=200809L -Icore/include bench/lz_stream_speed.c $(CORE_SRC) \
	  -o $(BUILD)/lz_stream_speed -lm
	@for cfg in "9 4 1" "8 4 1" "12 4 6"; do $(BUILD)/lz_stream_speed $(BUILD)/lz_stream_input $$cfg 256 4096 || exit 1; \
	  one=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=run_oneshot \
	    $(BUILD)/lz_stream_speed $(BUILD)/lz_stream_input $$cfg 2>&1 >/dev/null | sed -n 's/.*Collected : //p'); \
	  for feed in 256 4096; do s=$$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=run_stream \
	    $(BUILD)/lz_stream_speed $(BUILD)/lz_stream_input $$cfg $$feed 2>&1 >/dev/null | sed -n 's/.*Collected : //p'); \
	  echo "  W/L/level $$cfg, feed $$feed: streaming $$s instructions, one-shot $$one: $$(echo "scale=3; $$s / $$one" | bc)x"; \
	  done; done

$(BUILD)/replay_%: core/fuzz/%.c core/fuzz/replay.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(filter-out -std=c99 -pedantic,$(CFLAGS_TEST)) $< core/fuzz/replay.c $(CORE_SRC) -o $@

test-fuzz-replay: $(patsubst core/fuzz/%.c,$(BUILD)/replay_%,$(FUZZ_TARGETS))
	@set -e; for t in $^; do n=$${t#$(BUILD)/replay_}; \
	  echo "== replay $$n"; ./$$t $$(find core/fuzz/corpus/$$n -type f 2>/dev/null); done

# ---- C core variants (test-c-variants) --------------------------------------------------------------------
# Every #if branch in core/ runs in some build: the default test-c build above takes the GCC/Clang, TF_DEBUG=1,
# atomics, SIMD, reductions and canary branches; these builds take the others, each under ASan+UBSan and only with
# the tests its knobs touch. The core sources are compiled once per variant.
#   os        -Os, TF_DEBUG=0: the __OPTIMIZE_SIZE__ branches of lz.c (the device build) and TF_ASSERT off
#   portable  TF_GNUC=0: standard C99 only, as IAR/Keil/MSVC get it; its defaults turn atomics and SIMD off too
#   knobsoff  GCC, with TF_RING_ATOMICS=0, TF_LINES_SIMD=0, TF_RING_REDUCTIONS=0, TF_POOL_CANARY=0, TF_FSET_SIMD=0
# (Other targets, e.g. 32-bit or big-endian builds, go in a block of their own.)
C_VARIANTS := os portable knobsoff
C_VARIANT_FLAGS_os := -Os
C_VARIANT_TESTS_os := $(CORE_TESTS)
C_VARIANT_FLAGS_portable := -O1 -DTF_DEBUG=1 -DTF_GNUC=0
C_VARIANT_TESTS_portable := $(CORE_TESTS)
C_VARIANT_FLAGS_knobsoff := -O1 -DTF_DEBUG=1 -DTF_RING_ATOMICS=0 -DTF_LINES_SIMD=0 -DTF_RING_REDUCTIONS=0 \
  -DTF_POOL_CANARY=0 -DTF_FSET_SIMD=0
C_VARIANT_TESTS_knobsoff := core/tests/test_ring.c core/tests/test_lines.c core/tests/test_pool.c core/tests/test_fset.c
C_VARIANT_CFLAGS := $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g \
  -D_POSIX_C_SOURCE=200809L -Icore/include -pthread

define c_variant_rules
$(BUILD)/variants/$(1)/%.o: core/src/%.c $(CORE_HDR) $(CORE_SRC_HDR)
	@mkdir -p $$(@D)
	$(CC) $(C_VARIANT_CFLAGS) $(C_VARIANT_FLAGS_$(1)) -c $$< -o $$@
$(BUILD)/variants/$(1)/test_%: core/tests/test_%.c core/tests/tf_test.h \
    $(patsubst core/src/%.c,$(BUILD)/variants/$(1)/%.o,$(CORE_SRC))
	$(CC) $(C_VARIANT_CFLAGS) $(C_VARIANT_FLAGS_$(1)) $$< $$(filter %.o,$$^) -o $$@ -lm
endef
$(foreach v,$(C_VARIANTS),$(eval $(call c_variant_rules,$(v))))
.SECONDARY: $(foreach v,$(C_VARIANTS),$(patsubst core/src/%.c,$(BUILD)/variants/$(v)/%.o,$(CORE_SRC)))
C_VARIANT_BINS := $(foreach v,$(C_VARIANTS),$(patsubst core/tests/%.c,$(BUILD)/variants/$(v)/%,$(C_VARIANT_TESTS_$(v))))

# The sanitizers change what GCC's flow analysis sees: -Wmaybe-uninitialized fired in fset.c at -Os without them
# (MicroPython's unix build, -Werror) while every sanitized build above passed. So the core is also compiled, not
# run, as a device build compiles it: no sanitizer, -Os and -O2, -Wdouble-promotion as MicroPython adds.
C_DEVICE_OPTS := Os O2
C_DEVICE_OBJS := $(foreach o,$(C_DEVICE_OPTS),$(patsubst core/src/%.c,$(BUILD)/device-$(o)/%.o,$(CORE_SRC)))
define c_device_rule
$(BUILD)/device-$(1)/%.o: core/src/%.c $(CORE_HDR) $(wildcard core/src/*.h)
	@mkdir -p $$(@D)
	$(CC) $(WARN) -Wdouble-promotion -$(1) -DTF_DEBUG=0 -D_POSIX_C_SOURCE=200809L -Icore/include -c $$< -o $$@
endef
$(foreach o,$(C_DEVICE_OPTS),$(eval $(call c_device_rule,$(o))))

test-c-variants: $(C_VARIANT_BINS) $(C_DEVICE_OBJS)
	@set -e; for t in $(C_VARIANT_BINS); do printf '== %s: ' $$t; ./$$t > $$t.log 2>&1 || { cat $$t.log; exit 1; }; tail -1 $$t.log; done
	@echo "== core compiled as a device build (no sanitizer; $(C_DEVICE_OPTS); -Werror): $(words $(C_DEVICE_OBJS)) objects"

# The package under mypy --strict, and the extension's stub against the built module (mypy.stubtest; the allowlist
# gives a reason per entry). Both come with the `test` extra.
typecheck: install
	$(VPY) -m mypy --strict src/thrifty
	$(VPY) -m mypy.stubtest thrifty._ext --allowlist tests/stubtest-allowlist.txt

# timeout: a hung test fails the run rather than running into CI's limit
test-py: install
	timeout -k 30 1500 $(VPY) -m pytest -q tests

# The extension itself under ASan+UBSan, built apart (build/asan) so the in-place build `make test` uses stays
# clean. The sanitizer runtime must be loaded before the interpreter, hence LD_PRELOAD; PYTHONMALLOC=malloc lets
# ASan see every object allocation; leak checking is off because the interpreter keeps memory at exit.
ASAN_BUILD := build/asan
ASAN_RUN := LD_PRELOAD="$$($(CC) -print-file-name=libasan.so)" PYTHONMALLOC=malloc \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
  PYTHONPATH=$(CURDIR)/$(ASAN_BUILD)/lib
asan-ext: $(VENV)/.stamp
	@mkdir -p $(ASAN_BUILD)/lib/thrifty
	CFLAGS="$(SAN)" $(VPY) setup.py -q build_ext \
	  --build-lib $(ASAN_BUILD)/lib --build-temp $(ASAN_BUILD)/tmp
	cp src/thrifty/*.py src/thrifty/*.pyi src/thrifty/py.typed $(ASAN_BUILD)/lib/thrifty/
	rm -rf $(ASAN_BUILD)/lib/thrifty/doctor && cp -r src/thrifty/doctor $(ASAN_BUILD)/lib/thrifty/doctor
	$(ASAN_RUN) $(VPY) -c 'import thrifty._ext as e, sys; \
	    sys.exit(0 if e.__file__.startswith("$(CURDIR)/$(ASAN_BUILD)") else "not the ASan build: " + e.__file__)'

test-asan: asan-ext
	$(ASAN_RUN) $(VPY) -m pytest -q -p no:cacheprovider $(or $(PYTEST_ARGS),tests)

# ---- other architectures ----------------------------------------------------------------------------------
# The core's C tests built for a 32-bit x87 target and a big-endian one, statically, with the same warnings wall; the
# i386 binaries run natively, the s390x ones under qemu-user. Sanitizers are the native build's job (test-c).
CROSS := build/cross-tests
CFLAGS_CROSS := $(WARN) -O1 -D_POSIX_C_SOURCE=200809L -DTF_DEBUG=1 -Icore/include -pthread -static
$(CROSS)/i686/%: core/tests/%.c $(CORE_SRC) $(CORE_HDR) core/tests/tf_test.h
	@mkdir -p $(@D)
	i686-linux-gnu-gcc $(CFLAGS_CROSS) $< $(CORE_SRC) -o $@ -lm
$(CROSS)/s390x/%: core/tests/%.c $(CORE_SRC) $(CORE_HDR) core/tests/tf_test.h
	@mkdir -p $(@D)
	s390x-linux-gnu-gcc $(CFLAGS_CROSS) $< $(CORE_SRC) -o $@ -lm

cross-toolchains:
	@command -v i686-linux-gnu-gcc >/dev/null && command -v s390x-linux-gnu-gcc >/dev/null && \
	  command -v qemu-s390x-static >/dev/null || { \
	  (apt-get update -qq || sudo apt-get update -qq) >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-i686-linux-gnu libc6-dev-i386-cross \
	    gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user-static || sudo DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq gcc-i686-linux-gnu libc6-dev-i386-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross \
	    qemu-user-static) >/dev/null; }

test-c-cross: cross-toolchains
	@$(MAKE) --no-print-directory $(patsubst core/tests/%.c,$(CROSS)/i686/%,$(CORE_TESTS)) \
	  $(patsubst core/tests/%.c,$(CROSS)/s390x/%,$(CORE_TESTS))
	@set -e; for t in $(patsubst core/tests/%.c,%,$(CORE_TESTS)); do \
	  out=$$($(CROSS)/i686/$$t 2>&1) || { echo "$$out"; echo "== i386 $$t FAILED"; exit 1; }; \
	  echo "== i386 $$t: $$(echo "$$out" | tail -1)"; \
	  out=$$(qemu-s390x-static $(CROSS)/s390x/$$t 2>&1) || { echo "$$out"; echo "== s390x $$t FAILED"; exit 1; }; \
	  echo "== s390x (big-endian) $$t: $$(echo "$$out" | tail -1)"; done

# ---- other Pythons ---------------------------------------------------------------------------------------
# CPython 3.12, which no Debian release ships: pyenv's build in this project's machine image, with its headers, in a
# venv of its own (build/py312, test extras from PyPI). Its extension is built in place beside the host's (another ABI
# tag, so neither build replaces the other). Where the interpreter is missing the leg says so and passes: the other
# legs do not depend on it.
PY312 ?= /root/.pyenv/versions/3.12.1/bin/python3.12
PY312_VENV := build/py312
test-py312:
	@if command -v "$(PY312)" >/dev/null 2>&1; then $(MAKE) --no-print-directory py312-suite; \
	else echo "== test-py312 skipped: no CPython 3.12 at $(PY312) (pyenv's 3.12.1 of this project's machine image; PY312=/path/to/python3.12 runs the leg on another)"; fi

$(PY312_VENV)/.stamp: pyproject.toml setup.py
	$(PY312) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else "PY312 is not CPython 3.12: " + sys.version)'
	$(PY312) -m venv $(PY312_VENV)
	$(PY312_VENV)/bin/python -m pip install -q --upgrade pip setuptools wheel
	$(PY312_VENV)/bin/python -m pip install -q -e '.[test]' --no-build-isolation
	touch $@

# timeout: as test-py's
py312-suite: $(PY312_VENV)/.stamp
	$(PY312_VENV)/bin/python setup.py -q build_ext --inplace
	timeout -k 30 1500 $(PY312_VENV)/bin/python -m pytest -q -p no:cacheprovider $(or $(PYTEST_ARGS),tests)

# The same suite on the CPythons Debian ships beyond this machine's 3.11, built and run inside a Debian root.
test-py313:
	tools/debian-leg.sh trixie amd64 python3.13 $(PYTEST_ARGS)

test-py314:
	tools/debian-leg.sh sid amd64 python3.14 $(PYTEST_ARGS)

# ARM boards: 32-bit armv7 (armhf, as Raspberry Pi OS) and aarch64, each a Debian 12 root run under qemu-user;
# the C tests first, then the pytest suite. Slow (emulated): not part of `make test`.
test-arch: test-c-cross
	tools/debian-leg.sh bookworm armhf python3.11 $(PYTEST_ARGS)
	tools/debian-leg.sh bookworm arm64 python3.11 $(PYTEST_ARGS)

# The doctor's HTML report in headless Chromium (installed when missing); the screenshot lands in test-artifacts/.
test-html: APT_CMD = chromium
test-html: install apt-chromium
	THRIFTY_REQUIRE_CHROMIUM=1 $(VPY) -m pytest -q tests/test_html_report.py

# ---- demo -------------------------------------------------------------------------------------------------
# The doctor on a naive device program, then on the same program written with thrifty; `thrifty diff` puts the two
# runs side by side (peak, import bill, sites, findings).
DEMO := build/demo
demo: install
	@mkdir -p $(DEMO)
	@echo "== thrifty doctor examples/sensor_logger.py   (the naive version)"
	$(VPY) -m thrifty doctor --out $(DEMO)/naive.run --json $(DEMO)/naive.json --html $(DEMO)/naive.html \
	  examples/sensor_logger.py > $(DEMO)/naive.out
	@echo "== thrifty doctor examples/sensor_logger_lean.py   (the same program with thrifty; report in $(DEMO)/lean.txt)"
	$(VPY) -m thrifty doctor --out $(DEMO)/lean.run --json $(DEMO)/lean.json --html $(DEMO)/lean.html \
	  examples/sensor_logger_lean.py > $(DEMO)/lean.out 2> $(DEMO)/lean.txt
	@cmp -s $(DEMO)/naive.out $(DEMO)/lean.out && echo "both programs printed the same output" \
	  || { echo "the two programs' outputs differ:"; diff $(DEMO)/naive.out $(DEMO)/lean.out; exit 1; }
	$(VPY) -m thrifty diff $(DEMO)/naive.run $(DEMO)/lean.run
	@echo "HTML reports: $(DEMO)/naive.html $(DEMO)/lean.html; run files: $(DEMO)/naive.run $(DEMO)/lean.run"

# ---- fuzzing ----------------------------------------------------------------------------------------------
fuzz: fuzz-c fuzz-py

# New inputs go to build/core/corpus/<target> (the first corpus directory is the one libFuzzer writes); the committed
# corpus in core/fuzz/corpus is read, never rewritten. To keep what a run found, minimise it into the committed one:
#   build/core/<target> -merge=1 core/fuzz/corpus/<target> build/core/corpus/<target>
fuzz-c: APT_CMD = clang
fuzz-c: apt-clang
	@mkdir -p $(BUILD)
	@set -e; for f in $(FUZZ_TARGETS); do n=$$(basename $$f .c); \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore/include $$f $(CORE_SRC) -o $(BUILD)/$$n; \
	  mkdir -p core/fuzz/corpus/$$n $(BUILD)/corpus/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
	  seeds=$$(test -d core/fuzz/seeds/$$n && echo core/fuzz/seeds/$$n); \
	  $(BUILD)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/corpus/$$n core/fuzz/corpus/$$n $$seeds \
	    >$(BUILD)/$$n.log 2>&1 || { tail -40 $(BUILD)/$$n.log; echo "== $$n FAILED (log: $(BUILD)/$$n.log)"; exit 1; }; \
	  tail -3 $(BUILD)/$$n.log; done

# The Python API under atheris (the `fuzz` extra), against the ASan build: tests/fuzz/fuzz_<part>.py each drive a
# thrifty type and its stdlib counterpart with the same operations and fail on any difference. libasan must be
# preloaded for the ASan build, and it defines the coverage entry points as no-ops; tests/fuzz/asan_bridge.c, preloaded
# ahead of it, hands them to atheris's libFuzzer, so the run is guided by the targets' Python coverage (the extension
# itself is built by gcc, without libFuzzer's counters) while ASan+UBSan watch the C.
# New inputs go to build/pyfuzz/corpus/<target>, the committed corpus is tests/fuzz/corpus/<target> (replayed by
# `make test` through tests/test_fuzz_corpora.py). To keep what a run found, minimise it into the committed one: run
# the same command as below with `-merge=1 tests/fuzz/corpus/<target> build/pyfuzz/corpus/<target>`.
PY_FUZZ_TARGETS := $(wildcard tests/fuzz/fuzz_*.py)
PYFUZZ := build/pyfuzz
# Evaluated when a recipe runs, after $(VENV)/.fuzz-stamp installed atheris.
ATHERIS_CORE = $(shell $(VPY) -c 'import atheris, glob, os; \
  print(glob.glob(os.path.join(os.path.dirname(atheris.__file__), "core_with_libfuzzer*.so"))[0])')
PYFUZZ_RUN = LD_PRELOAD="$(CURDIR)/$(PYFUZZ)/asan_bridge.so:$$($(CC) -print-file-name=libasan.so)" \
  THRIFTY_ATHERIS_CORE="$(ATHERIS_CORE)" PYTHONMALLOC=malloc UBSAN_OPTIONS=print_stacktrace=1 \
  ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:quarantine_size_mb=64 \
  PYTHONPATH=$(CURDIR)/$(ASAN_BUILD)/lib
$(PYFUZZ)/asan_bridge.so: tests/fuzz/asan_bridge.c
	@mkdir -p $(PYFUZZ)
	$(CC) -shared -fPIC -O1 -Wall -Wextra -o $@ $< -ldl

$(VENV)/.fuzz-stamp: $(VENV)/.stamp
	$(VPY) -m pip install -q -e '.[fuzz]' --no-build-isolation
	touch $@

fuzz-py: asan-ext $(PYFUZZ)/asan_bridge.so $(VENV)/.fuzz-stamp
	@set -e; for f in $(PY_FUZZ_TARGETS); do n=$$(basename $$f .py); \
	  mkdir -p tests/fuzz/corpus/$$n $(PYFUZZ)/corpus/$$n; \
	  echo "== fuzz $$n (Python API, ASan) for $(FUZZ_SECONDS)s"; \
	  $(PYFUZZ_RUN) $(VPY) $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=4096 -timeout=120 \
	    -artifact_prefix=$(PYFUZZ)/$$n- $(PYFUZZ)/corpus/$$n tests/fuzz/corpus/$$n >$(PYFUZZ)/$$n.log 2>&1 \
	    || { tail -60 $(PYFUZZ)/$$n.log; echo "== $$n FAILED (log: $(PYFUZZ)/$$n.log)"; exit 1; }; \
	  tail -3 $(PYFUZZ)/$$n.log; done

# ---- cross build ------------------------------------------------------------------------------------------
# What a device that only decompresses (or only compresses) links; lz_train.c is neither.
LZ_DECODER := lz_decode lz_frame
LZ_ENCODER := lz_encode lz_encode_init lz_encode_filter lz_compress
CROSS_CC := arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffreestanding \
  -ffunction-sections $(WARN) -Icore/include
cross: APT_CMD = arm-none-eabi-gcc
cross: apt-gcc-arm-none-eabi
	@mkdir -p build/cross build/cross-fast
	@set -e; for f in $(CORE_SRC); do $(CROSS_CC) -c $$f -o build/cross/$$(basename $$f .c).o; done
	@echo "code size per part (Cortex-M4, -Os, bytes; lz as the size build's default, TF_LZ_SMALL=1):"
	@arm-none-eabi-size -t build/cross/*.o
	@for p in $(LZ_ENCODER) $(LZ_DECODER); do $(CROSS_CC) -DTF_LZ_SMALL=0 -c core/src/$$p.c -o build/cross-fast/$$p.o; done
	@! arm-none-eabi-nm -u build/cross/lz_*.o | grep -v ' mem\(cpy\|move\|set\)$$' | grep ' U ' | grep -v ' U tf_' \
	  || { echo "lz needs a libgcc/libc helper beyond memcpy/memmove/memset (above)"; exit 1; }
	@size() { arm-none-eabi-size $$(for p in $$2; do echo $$1/$$p.o; done) | awk 'NR>1 {s += $$1 + $$2} END {print s}'; }; \
	  echo "thrifty.lz flash (text + data, Cortex-M4 -Os, bytes; tables included):"; \
	  echo "  decoder  small $$(size build/cross '$(LZ_DECODER)')   fast $$(size build/cross-fast '$(LZ_DECODER)')"; \
	  echo "  encoder  small $$(size build/cross '$(LZ_ENCODER)')   fast $$(size build/cross-fast '$(LZ_ENCODER)')"; \
	  echo "  for comparison (not built here; the figures issue 18 quotes): heatshrink decoder 574 B,"; \
	  echo "  LZ4_decompress_safe 704 B"

# ---- MicroPython (micropython/, issue 18) ------------------------------------------------------------------
# The MicroPython module built into MicroPython's unix port from a MicroPython tree kept outside this repository
# (MICROPY_DIR), then micropython/tests/test_thrifty.py run under it and the frames it wrote checked by CPython
# thrifty. Then the same for the natmod, thrifty.mpy (micropython/natmod.mk) built for x64 and imported from a
# temporary directory on MICROPYPATH by that same unix port. Not part of `make test` (it needs that tree).
# Submodule-backed features are switched off so a plain clone builds; the build goes to build/micropython.
MPY_BUILD := $(CURDIR)/build/micropython
# MicroPython's natmod linker (tools/mpy_ld.py) needs pyelftools, and ar to read libgcc.a on ARM: from PyPI into .venv
$(VENV)/.natmod-stamp: $(VENV)/.stamp
	$(VPY) -m pip install -q pyelftools ar
	touch $@
MPY_NATMOD = nice $(MAKE) --no-print-directory -f $(CURDIR)/micropython/natmod.mk MPY_DIR="$(MICROPY_DIR)" \
  PYTHON=$(CURDIR)/$(VPY)
MPY_UNIX_FLAGS := VARIANT=standard FROZEN_MANIFEST= MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 MICROPY_SSL_AXTLS=0 \
  MICROPY_PY_SSL=0 USER_C_MODULES=$(CURDIR)/micropython BUILD=$(MPY_BUILD)/unix PROG=micropython-thrifty
micropython: APT_CMD = pkg-config
micropython: install apt-pkg-config
	@test -n "$(MICROPY_DIR)" && test -f "$(MICROPY_DIR)/py/mkrules.mk" || { \
	  echo "make micropython needs a MicroPython source tree: MICROPY_DIR=/path/to/micropython"; \
	  echo "  git clone https://github.com/micropython/micropython /path/to/micropython   (docs/micropython.md"; \
	  echo "  names the commit this was tested with; submodules are not needed)"; exit 1; }
	@$(MAKE) --no-print-directory $(VENV)/.natmod-stamp
	$(MAKE) -C "$(MICROPY_DIR)/mpy-cross" -j2 >/dev/null
	nice $(MAKE) -C "$(MICROPY_DIR)/ports/unix" -j2 $(MPY_UNIX_FLAGS)
	@rm -rf $(MPY_BUILD)/out && mkdir -p $(MPY_BUILD)/out
	$(MPY_BUILD)/unix/micropython-thrifty micropython/tests/test_thrifty.py micropython/tests/fixtures $(MPY_BUILD)/out
	cd micropython/tests && $(CURDIR)/$(VPY) check_from_micropython.py fixtures $(MPY_BUILD)/out
	@test "$$(uname -m)" = x86_64 || { echo "natmod: the unix port here is not x64, the one natmod arch tested"; exit 1; }
	@mkdir -p $(MPY_BUILD)/natmod-x64 && $(MPY_NATMOD) -C $(MPY_BUILD)/natmod-x64 ARCH=x64 \
	  >$(MPY_BUILD)/natmod-x64.log 2>&1 || { tail -30 $(MPY_BUILD)/natmod-x64.log; exit 1; }
	@echo "thrifty.mpy (x64): $$(stat -c %s $(MPY_BUILD)/natmod-x64/thrifty.mpy) bytes"
	@rm -rf $(MPY_BUILD)/out-natmod && mkdir -p $(MPY_BUILD)/out-natmod
	@# the firmware's built-in thrifty would win over a thrifty.mpy, so the natmod is imported as thrifty_natmod
	d=$$(mktemp -d) && cp $(MPY_BUILD)/natmod-x64/thrifty.mpy $$d/thrifty_natmod.mpy && \
	  MICROPYPATH=$$d $(MPY_BUILD)/unix/micropython-thrifty micropython/tests/test_thrifty.py \
	    micropython/tests/fixtures $(MPY_BUILD)/out-natmod thrifty_natmod; rc=$$?; rm -rf $$d; exit $$rc
	cd micropython/tests && $(CURDIR)/$(VPY) check_from_micropython.py fixtures $(MPY_BUILD)/out-natmod
	@# the ports build for size, which leaves lz's numeric filters out: a natmod with them reads filtered frames
	@mkdir -p $(MPY_BUILD)/natmod-x64-filters && $(MPY_NATMOD) -C $(MPY_BUILD)/natmod-x64-filters ARCH=x64 \
	  THRIFTY_CFLAGS=-DTF_LZ_FILTERS=1 >$(MPY_BUILD)/natmod-x64-filters.log 2>&1 \
	  || { tail -30 $(MPY_BUILD)/natmod-x64-filters.log; exit 1; }
	@rm -rf $(MPY_BUILD)/out-filters && mkdir -p $(MPY_BUILD)/out-filters
	d=$$(mktemp -d) && cp $(MPY_BUILD)/natmod-x64-filters/thrifty.mpy $$d/thrifty_natmod.mpy && \
	  MICROPYPATH=$$d $(MPY_BUILD)/unix/micropython-thrifty micropython/tests/test_thrifty.py \
	    micropython/tests/fixtures $(MPY_BUILD)/out-filters thrifty_natmod filters; rc=$$?; rm -rf $$d; exit $$rc

# The natmod on an ARM core: thrifty.mpy for armv7m imported by MicroPython's qemu port (Cortex-M3, MPS2-AN385) under
# qemu-system-arm, through its raw REPL (micropython/tests/run_on_board.py, over MicroPython's tools/pyboard.py,
# which needs pyserial); the same test_thrifty.py, then CPython thrifty decodes the frames it wrote. The port's
# frozen test modules need a submodule, so none are frozen; its heap is raised to hold the natmod and the fixtures.
MPY_QEMU_FLAGS := BOARD=MPS2_AN385 FROZEN_MANIFEST= MICROPY_HEAP_SIZE=524288 BUILD=$(MPY_BUILD)/qemu
MPY_QEMU_RUN := qemu-system-arm -machine mps2-an385 -nographic -monitor null -semihosting -serial pty \
  -kernel $(MPY_BUILD)/qemu/firmware.elf
$(VENV)/.board-stamp: $(VENV)/.stamp
	$(VPY) -m pip install -q pyserial
	touch $@
micropython-qemu: APT_CMD = qemu-system-arm
micropython-qemu: install apt-qemu-system-arm
	@test -n "$(MICROPY_DIR)" && test -f "$(MICROPY_DIR)/py/mkrules.mk" || { \
	  echo "make micropython-qemu needs MICROPY_DIR=/path/to/micropython (see make micropython)"; exit 1; }
	@$(MAKE) --no-print-directory apt-gcc-arm-none-eabi APT_CMD=arm-none-eabi-gcc
	@$(MAKE) --no-print-directory $(VENV)/.natmod-stamp $(VENV)/.board-stamp
	@$(MAKE) -C "$(MICROPY_DIR)/mpy-cross" -j2 >/dev/null
	@mkdir -p $(MPY_BUILD)
	nice $(MAKE) -C "$(MICROPY_DIR)/ports/qemu" -j2 $(MPY_QEMU_FLAGS) >$(MPY_BUILD)/qemu.log 2>&1 \
	  || { tail -30 $(MPY_BUILD)/qemu.log; exit 1; }
	@mkdir -p $(MPY_BUILD)/natmod-armv7m && $(MPY_NATMOD) -C $(MPY_BUILD)/natmod-armv7m ARCH=armv7m \
	  >$(MPY_BUILD)/natmod-armv7m.log 2>&1 || { tail -30 $(MPY_BUILD)/natmod-armv7m.log; exit 1; }
	@rm -rf $(MPY_BUILD)/out-qemu
	$(VPY) micropython/tests/run_on_board.py "$(MICROPY_DIR)" 'execpty:$(MPY_QEMU_RUN)' \
	  $(MPY_BUILD)/natmod-armv7m/thrifty.mpy micropython/tests/fixtures $(MPY_BUILD)/out-qemu
	cd micropython/tests && $(CURDIR)/$(VPY) check_from_micropython.py fixtures $(MPY_BUILD)/out-qemu

# Firmware size per part: MicroPython's bare-arm port (Cortex-M4, -Os) without thrifty, then with each part alone
# and with all of them (micropython/bare-arm.mk); prints the flash each adds (text + data, bytes). Then the natmod,
# thrifty.mpy, for the same core (armv7emsp) with each part alone and all of them.
MPY_PARTS := "lz:-DTHRIFTY_MP_RING=0 -DTHRIFTY_MP_FROZEN=0 -DTHRIFTY_MP_POOL=0" \
  "lz (TF_LZ_SMALL=0):-DTHRIFTY_MP_RING=0 -DTHRIFTY_MP_FROZEN=0 -DTHRIFTY_MP_POOL=0 -DTF_LZ_SMALL=0" \
  "Ring:-DTHRIFTY_MP_LZ=0 -DTHRIFTY_MP_FROZEN=0 -DTHRIFTY_MP_POOL=0" \
  "Ring (TF_RING_REDUCTIONS=0):-DTHRIFTY_MP_LZ=0 -DTHRIFTY_MP_FROZEN=0 -DTHRIFTY_MP_POOL=0 -DTF_RING_REDUCTIONS=0" \
  "FrozenSet/FrozenMap:-DTHRIFTY_MP_RING=0 -DTHRIFTY_MP_LZ=0 -DTHRIFTY_MP_POOL=0" \
  "Pool:-DTHRIFTY_MP_RING=0 -DTHRIFTY_MP_LZ=0 -DTHRIFTY_MP_FROZEN=0" \
  "Pool (TF_POOL_CANARY=0):-DTHRIFTY_MP_RING=0 -DTHRIFTY_MP_LZ=0 -DTHRIFTY_MP_FROZEN=0 -DTF_POOL_CANARY=0" "all:"
MPY_NATMOD_PARTS := "lz:lz" "Ring:ring" "FrozenSet/FrozenMap:frozen" "Pool:pool" "all:ring lz frozen pool"
micropython-sizes: APT_CMD = arm-none-eabi-gcc
micropython-sizes: apt-gcc-arm-none-eabi
	@test -n "$(MICROPY_DIR)" && test -f "$(MICROPY_DIR)/py/mkrules.mk" || { \
	  echo "make micropython-sizes needs MICROPY_DIR=/path/to/micropython (see make micropython)"; exit 1; }
	@$(MAKE) --no-print-directory $(VENV)/.natmod-stamp
	@$(MAKE) -C "$(MICROPY_DIR)/mpy-cross" -j2 >/dev/null
	@nice $(MAKE) -C "$(MICROPY_DIR)/ports/bare-arm" -j2 BUILD=$(MPY_BUILD)/bare-arm/base >/dev/null
	@size() { arm-none-eabi-size $$1 | awk 'NR==2 {print $$1 + $$2}'; }; base=$$(size $(MPY_BUILD)/bare-arm/base/firmware.elf); \
	  echo "bare-arm firmware without thrifty: $$base bytes of flash; added by:"; i=0; \
	  for part in $(MPY_PARTS); do i=$$((i + 1)); name=$${part%%:*}; \
	    nice $(MAKE) -C "$(MICROPY_DIR)/ports/bare-arm" -f $(CURDIR)/micropython/bare-arm.mk -j2 \
	      USER_C_MODULES=$(CURDIR)/micropython BUILD=$(MPY_BUILD)/bare-arm/$$i THRIFTY_CFLAGS="$${part#*:}" \
	      >$(MPY_BUILD)/bare-arm/$$i.log 2>&1 || { tail $(MPY_BUILD)/bare-arm/$$i.log; exit 1; }; \
	    echo "  $$name: $$(( $$(size $(MPY_BUILD)/bare-arm/$$i/firmware.elf) - base ))"; done
	@echo "thrifty.mpy for armv7emsp (Cortex-M4F), per part: file bytes; text + bss, the RAM it takes once imported"
	@echo "  on ports that load native code into the heap (all but esp8266, esp32, nrf):"
	@i=0; for part in $(MPY_NATMOD_PARTS); do i=$$((i + 1)); name=$${part%%:*}; d=$(MPY_BUILD)/natmod-armv7emsp/$$i; \
	  rm -rf $$d && mkdir -p $$d && $(MPY_NATMOD) -C $$d ARCH=armv7emsp PARTS="$${part#*:}" >$$d.log 2>&1 \
	    || { tail -30 $$d.log; exit 1; }; \
	  text=$$(awk '/^text size:/ {print $$3}' $$d.log); bss=$$(awk '/^bss size:/ {print $$3}' $$d.log); \
	  echo "  $$name: $$(stat -c %s $$d/thrifty.mpy) bytes; text $$text + bss $$bss = $$((text + bss))"; done

# ---- lint -------------------------------------------------------------------------------------------------
lint: APT_CMD = clang-format
lint: apt-clang-format
	clang-format --dry-run --Werror $(C_FILES)

# ---- benchmarks -------------------------------------------------------------------------------------------
bench: install
	$(VENV)/bin/pip install -q -e '.[bench]' --no-build-isolation
	$(VPY) bench/run.py --out docs/benchmarks.md $(BENCH_ARGS)

# `thrifty watch` left on long runs beside memray and tracemalloc (bench/bench_watch.py, also part of `make bench`):
# 4 pyperformance workloads x 6 sides x 60 s x 3 rounds, about 80 minutes. BENCH_ARGS=--quick: 8 s a side, 1 round;
# THRIFTY_BENCH_WATCH_SECONDS=N and THRIFTY_BENCH_WATCH_ROUNDS=N set them either way.
bench-watch: install
	$(VENV)/bin/pip install -q -e '.[bench]' --no-build-isolation
	$(VPY) bench/run.py --only watch --out docs/benchmarks.md $(BENCH_ARGS)

clean:
	rm -rf build $(VENV) src/thrifty/*.so src/thrifty/_ext*.so *.egg-info src/*.egg-info
