/* What tests/unit/stubs_core.c counts (see there). */
#ifndef KEEL_TEST_STUBS_CORE_H
#define KEEL_TEST_STUBS_CORE_H

#include "core/db.h"

typedef struct stub_counts {
    long long created, touched;             /* memory_entry_created / _touched */
    long long entries_freed;                /* memory_free_entry */
    int last_free_reason;                   /* its FREE_* reason */
    long long values_freed;                 /* type_ops free_value (raw strings, listpacks) */
    long long watch_touched, watch_expired; /* multi_touch_key / _expired_key */
    int paused;                             /* what pause_active() answers */
} stub_counts;

extern stub_counts stubs;

#endif
