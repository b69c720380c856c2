/*
 * strval: in-place access to string values for the commands that treat a
 * string as a data structure (bitmaps, BITFIELD, HyperLogLog).
 *
 * string.c keeps its make-raw helper private; these commands need the same
 * thing from outside it: the value as a kstr they may modify, with the
 * inline encodings (int, embstr) converted to raw first, as Redis's
 * dbUnshareStringValue does. A value written in place is likely to be
 * written again, so it stays raw afterwards (OBJECT ENCODING says "raw",
 * like Redis).
 */
#ifndef KEEL_STRVAL_H
#define KEEL_STRVAL_H

#include "core/entry.h"
#include "lib/kstr.h"
#include "net/client.h"

/* The value of the string entry e as a writable raw kstr (*out). Inline
 * values are converted; the returned entry replaces e (e may be freed). */
entry *strval_make_raw(client *c, entry *e, kstr *out);

/* Add a new raw string key holding s (ownership taken); returns the entry. */
entry *strval_add_raw(client *c, const kstr key, kstr s);

/* Grow s so that it has at least `need` bytes of free room, growing the
 * allocation by about 1/8 (at most STRVAL_GROW_MAX) instead of doubling:
 * a value grown by APPEND, SETRANGE, SETBIT or PFADD lives in the
 * keyspace, where slack left by doubling would stay after the command and
 * be paid by every key (Redis 7.0 doubles up to 1 MB, then adds 1 MB; this
 * never leaves more). Growth stays geometric up to 8 MB, so appending in a
 * loop is amortised O(1) per byte. */
#define STRVAL_GROW_MAX (1024 * 1024)
kstr strval_reserve_tight(kstr s, size_t need);

/* The keyspace's versions of kstr_cat_len and kstr_grow_zero: the same
 * result, with room reserved by strval_reserve_tight. */
kstr strval_append(kstr s, const void *t, size_t len);
kstr strval_grow_zero(kstr s, size_t len);

#endif
