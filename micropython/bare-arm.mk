# Builds MicroPython's bare-arm port (Cortex-M4, -Os, -nostdlib) with thrifty, for `make micropython-sizes`:
#     make -C $MICROPY_DIR/ports/bare-arm -f /path/to/thrifty/micropython/bare-arm.mk \
#          USER_C_MODULES=/path/to/thrifty/micropython BUILD=... THRIFTY_CFLAGS="-DTHRIFTY_MP_RING=0 ..."
# That port's Makefile links only the interpreter's own objects (PY_CORE_O), so the module's objects are added to
# the firmware's inputs here, with libgcc for the soft-float compares of Ring's float reductions (the port links
# nothing else). THRIFTY_CFLAGS picks the parts (thrifty_mp.h) and core knobs (config.h), for the compiler and for the
# qstr extraction alike.
include Makefile
CFLAGS += $(THRIFTY_CFLAGS)
# qstr extraction took its flags when mkrules.mk was read (:=): it must see the parts left out too, or their names
# would be in every firmware
QSTR_GEN_CFLAGS += $(THRIFTY_CFLAGS)
THRIFTY_USER_O = $(filter-out $(PY_CORE_O), $(filter $(BUILD)/micropython/% $(BUILD)/core/%,$(PY_O)))
THRIFTY_LIBGCC := $(shell $(CC) -mthumb -mcpu=cortex-m4 -msoft-float -print-libgcc-file-name)
$(BUILD)/firmware.elf: $(THRIFTY_USER_O) $(THRIFTY_LIBGCC)
$(THRIFTY_USER_O): | $(HEADER_BUILD)/qstrdefs.generated.h $(HEADER_BUILD)/mpversion.h $(HEADER_BUILD)/moduledefs.h \
  $(HEADER_BUILD)/root_pointers.h
$(shell mkdir -p $(sort $(dir $(THRIFTY_USER_O))))
