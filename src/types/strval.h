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
 * allocation by about 1/8 instead of doubling: values such as sparse
 * HyperLogLogs grow a few bytes at a time and live long, so slack left by
 * doubling would be paid by every key. Amortised cost stays O(1) per byte. */
kstr strval_reserve_tight(kstr s, size_t need);

#endif
