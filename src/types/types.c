/* See types.h. */
#include "types/types.h"
#include "core/entry.h"

const type_ops *type_ops_for(int type) {
    switch (type) {
    case TYPE_STRING: return &string_type_ops;
    case TYPE_LIST: return &list_type_ops;
    case TYPE_SET: return &set_type_ops;
    case TYPE_ZSET: return &zset_type_ops;
    case TYPE_HASH: return &hash_type_ops;
    case TYPE_STREAM: return &stream_type_ops;
    default: return NULL;
    }
}
