# thrifty as a dynamic native module, thrifty.mpy, built with MicroPython's own natmod tooling (py/dynruntime.mk,
# and tools/mpy_ld.py, which needs the PyPI packages pyelftools and ar) from the same binding files as the user C
# module:
#     make -f /path/to/thrifty/micropython/natmod.mk MPY_DIR=/path/to/micropython ARCH=armv7emsp [PARTS="lz ring"]
# writes thrifty.mpy (and build-ARCH/) in the current directory. ARCH is one of dynruntime.mk's (x64, armv7m,
# armv7emsp, ...); PARTS picks from ring lz frozen pool (all by default); THRIFTY_CFLAGS passes core knobs
# (-DTF_LZ_SMALL=0, ...). Copy thrifty.mpy to the board and `import thrifty`; docs/micropython.md says what the
# natmod has and lacks next to a firmware with the user C module.
THRIFTY_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
MOD = thrifty
ARCH ?= x64
PARTS ?= ring lz frozen pool

# Sources are named from the thrifty checkout and found there (vpath), so objects go to build-ARCH/micropython/ and
# build-ARCH/core/src/ and the two ring.c do not meet. natmod.h is listed only for mpy_ld's qstr scan, which reads
# the listed files as text: a part left out leaves its names out too (but for its one name in modthrifty.c).
THRIFTY_SRC_ring := micropython/ring.c core/src/ring.c
THRIFTY_SRC_lz := micropython/lz.c core/src/lz_encode.c core/src/lz_encode_init.c core/src/lz_encode_filter.c core/src/lz_compress.c \
  core/src/lz_decode.c core/src/lz_frame.c
THRIFTY_SRC_frozen := micropython/frozen.c core/src/fset.c core/src/fset_validate.c
THRIFTY_SRC_pool := micropython/pool.c core/src/pool.c
THRIFTY_OFF_ring := -DTHRIFTY_MP_RING=0
THRIFTY_OFF_lz := -DTHRIFTY_MP_LZ=0
THRIFTY_OFF_frozen := -DTHRIFTY_MP_FROZEN=0
THRIFTY_OFF_pool := -DTHRIFTY_MP_POOL=0
$(foreach p,$(PARTS),$(if $(THRIFTY_SRC_$(p)),,$(error PARTS: unknown part '$(p)' (ring lz frozen pool))))
# modthrifty.c first: it has mpy_init, which must start the text (mpy_ld's trampoline to an mpy_init further in
# gave an x64 .mpy that failed to import with this MicroPython tree)
SRC = micropython/modthrifty.c micropython/natmod.c micropython/natmod.h core/src/common.c \
  $(foreach p,$(PARTS),$(THRIFTY_SRC_$(p)))
vpath %.c $(THRIFTY_DIR)
vpath %.h $(THRIFTY_DIR)
# dynruntime.mk's compile rule depends on a Makefile in the current directory: the checkout's top one stands in
vpath Makefile $(THRIFTY_DIR)

CFLAGS_EXTRA += -I$(THRIFTY_DIR)/core/include -I$(THRIFTY_DIR)/micropython $(THRIFTY_CFLAGS) \
  $(foreach p,ring lz frozen pool,$(if $(filter $(p),$(PARTS)),,$(THRIFTY_OFF_$(p))))
# On ARM, libgcc for the float arithmetic the FPU lacks (mpy_ld reads libgcc.a with the PyPI package ar)
ifneq ($(filter arm%,$(ARCH)),)
LINK_RUNTIME = 1
endif

$(if $(wildcard $(MPY_DIR)/py/dynruntime.mk),,$(error MPY_DIR=/path/to/micropython (a MicroPython source tree) is needed))
include $(MPY_DIR)/py/dynruntime.mk

# One section per function and datum, and the link through natmod_ld.py: ld --gc-sections before mpy_ld, which has
# none, so the core's functions the binding never calls stay out of the .mpy.
CFLAGS += -ffunction-sections -fdata-sections
$(BUILD)/$(MOD).mpy: MPY_LD = $(PYTHON) $(THRIFTY_DIR)/micropython/natmod_ld.py $(CROSS)ld $(MPY_DIR)/tools/mpy_ld.py
