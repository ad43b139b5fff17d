# thrifty as a MicroPython user C module (make-based ports: unix, stm32, rp2's make wrapper, bare-arm, ...):
#   make USER_C_MODULES=/path/to/thrifty/micropython
# The binding files are scanned for qstrs; the portable core (core/src) is compiled as a library.
THRIFTY_MOD_DIR := $(USERMOD_DIR)
THRIFTY_CORE := $(THRIFTY_MOD_DIR)/../core

SRC_USERMOD_C += $(addprefix $(THRIFTY_MOD_DIR)/, modthrifty.c ring.c lz.c frozen.c pool.c)
SRC_USERMOD_LIB_C += $(addprefix $(THRIFTY_CORE)/src/, common.c ring.c lz_encode.c lz_encode_init.c lz_encode_filter.c \
  lz_compress.c lz_decode.c lz_frame.c fset.c fset_validate.c pool.c)
CFLAGS_USERMOD += -I$(THRIFTY_CORE)/include -I$(THRIFTY_MOD_DIR)
