/* thrifty core — status names. */
#include "thrifty/common.h"

const char *tf_status_str(tf_status status) {
    switch (status) {
    case TF_OK: return "ok";
    case TF_E_NULL: return "null pointer argument";
    case TF_E_ARG: return "argument out of range";
    case TF_E_SIZE: return "storage too small";
    case TF_E_ALIGN: return "storage misaligned";
    case TF_E_FULL: return "full";
    case TF_E_EMPTY: return "empty";
    case TF_E_RANGE: return "index out of range";
    case TF_E_CORRUPT: return "corrupt data";
    case TF_E_VERSION: return "unsupported format version";
    case TF_E_STATE: return "invalid in current state";
    case TF_E_OVERFLOW: return "arithmetic overflow";
    case TF_E_DICT: return "wrong preset dictionary";
    default: return "unknown status";
    }
}
