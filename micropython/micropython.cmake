# thrifty as a MicroPython user C module (CMake-based ports: esp32, rp2):
#   make USER_C_MODULES=/path/to/thrifty/micropython/micropython.cmake
add_library(usermod_thrifty INTERFACE)
set(THRIFTY_CORE ${CMAKE_CURRENT_LIST_DIR}/../core)
target_sources(usermod_thrifty INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modthrifty.c
    ${CMAKE_CURRENT_LIST_DIR}/ring.c
    ${CMAKE_CURRENT_LIST_DIR}/lz.c
    ${CMAKE_CURRENT_LIST_DIR}/frozen.c
    ${CMAKE_CURRENT_LIST_DIR}/pool.c
    ${THRIFTY_CORE}/src/common.c
    ${THRIFTY_CORE}/src/ring.c
    ${THRIFTY_CORE}/src/lz_encode.c
    ${THRIFTY_CORE}/src/lz_encode_init.c
    ${THRIFTY_CORE}/src/lz_encode_filter.c
    ${THRIFTY_CORE}/src/lz_compress.c
    ${THRIFTY_CORE}/src/lz_decode.c
    ${THRIFTY_CORE}/src/lz_frame.c
    ${THRIFTY_CORE}/src/fset.c
    ${THRIFTY_CORE}/src/fset_validate.c
    ${THRIFTY_CORE}/src/pool.c
)
target_include_directories(usermod_thrifty INTERFACE ${CMAKE_CURRENT_LIST_DIR} ${THRIFTY_CORE}/include)
target_link_libraries(usermod INTERFACE usermod_thrifty)
