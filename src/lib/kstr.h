/*
 * kstr: binary-safe growable strings.
 *
 * A kstr is a char pointer to the bytes, preceded in the same allocation by
 * a small header holding the length and the capacity. Passing the bytes
 * pointer around (rather than a struct) lets a kstr go anywhere a C string
 * goes for reading (it is always NUL-terminated), while the length makes it
 * binary-safe and O(1) to measure.
 *
 * Header: two uint32_t. Keel's strings are bounded by proto-max-bulk-len
 * (512 MB by default) and the query buffer limit (1 GB), so 32 bits are
 * enough and save 8 bytes over size_t on every raw string value. Growth
 * doubles up to 1 MB, then adds 1 MB at a time, so appending in a loop is
 * amortised O(1) without overshooting large buffers by half their size.
 *
 * Small string values stored in the keyspace do not use kstr at all: they
 * live inline in the key's entry (see core/entry.h). kstr is for raw values,
 * query buffers and everything transient.
 */
#ifndef KEEL_KSTR_H
#define KEEL_KSTR_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef char *kstr;

#define KSTR_MAX_LEN 0xFFFFFFF0u

struct kstr_hdr {
    uint32_t len;
    uint32_t alloc; /* capacity, not counting the header and the NUL */
    char buf[];
};

#define KSTR_HDR(s) ((struct kstr_hdr *)((s) - sizeof(struct kstr_hdr)))

static inline size_t kstr_len(const kstr s) { return KSTR_HDR(s)->len; }
static inline size_t kstr_avail(const kstr s) { return KSTR_HDR(s)->alloc - KSTR_HDR(s)->len; }

kstr kstr_new_len(const void *init, size_t len); /* init may be NULL: zeroed */
kstr kstr_new(const char *cstr);
kstr kstr_empty(void);
kstr kstr_empty_cap(size_t cap);
kstr kstr_dup(const kstr s);
kstr kstr_from_ll(long long v);
void kstr_free(kstr s);

/* All mutators may move the string: always use the returned pointer. */
kstr kstr_make_room(kstr s, size_t addlen);
kstr kstr_cat_len(kstr s, const void *t, size_t len);
kstr kstr_cat(kstr s, const char *t);
kstr kstr_cat_kstr(kstr s, const kstr t);
kstr kstr_cat_printf(kstr s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
kstr kstr_cat_vprintf(kstr s, const char *fmt, va_list ap);
kstr kstr_grow_zero(kstr s, size_t len); /* extend to len with zero bytes */
kstr kstr_cpy_len(kstr s, const void *t, size_t len);
kstr kstr_shrink_to_fit(kstr s);

void kstr_set_len(kstr s, size_t len);   /* caller guarantees len <= alloc */
void kstr_incr_len(kstr s, size_t incr); /* after writing into kstr_avail() */
void kstr_clear(kstr s);
void kstr_range(kstr s, long start, long end); /* inclusive, negatives from end */
void kstr_consume(kstr s, size_t n); /* drop the first n bytes */
void kstr_tolower(kstr s);
void kstr_toupper(kstr s);

/* Bytes the allocation really uses, header included. */
size_t kstr_alloc_size(const kstr s);

/* Split a config-file line into arguments, with redis.conf quoting rules
 * ("..." with \n \t \xHH escapes, '...' literal). Returns NULL on
 * unbalanced quotes. The vector and its strings are freed by
 * kstr_free_split. */
kstr *kstr_split_args(const char *line, int *argc);
void kstr_free_split(kstr *argv, int argc);

/* Render bytes in a readable quoted form ("a\x00b\n") for logs and
 * CLIENT LIST-like output. */
kstr kstr_cat_repr(kstr s, const char *p, size_t len);

#endif
