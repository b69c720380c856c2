/* See entry.h for the layout and why. */
#include "core/entry.h"
#include "lib/kstr.h"
#include "lib/smallpack.h"
#include "lib/util.h"
#include "lib/varint.h"
#include "lib/zmalloc.h"
#include "types/types.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define META_SIZE 4

/* Offsets inside an entry. */
typedef struct layout {
    size_t keylen;
    size_t key_off;    /* key bytes */
    size_t expire_off; /* 0 when none */
    size_t value_off;
} layout;

#ifndef NDEBUG
/* Which encodings each type's entries may carry (bit per encoding code;
 * for a hash, the int and embstr codes mark its inline forms). */
#define ENC_BIT(enc) (1u << (enc))
static const uint8_t encodings_of_type[8] = {
    [TYPE_STRING] = ENC_BIT(ENC_RAW) | ENC_BIT(ENC_INT) | ENC_BIT(ENC_EMBSTR),
    [TYPE_LIST] = ENC_BIT(ENC_LISTPACK) | ENC_BIT(ENC_QUICKLIST),
    [TYPE_SET] = ENC_BIT(ENC_INTSET) | ENC_BIT(ENC_LISTPACK) | ENC_BIT(ENC_HASHTABLE),
    [TYPE_ZSET] = ENC_BIT(ENC_LISTPACK) | ENC_BIT(ENC_SKIPLIST),
    [TYPE_HASH] = ENC_BIT(ENC_LISTPACK) | ENC_BIT(ENC_HASHTABLE) | ENC_BIT(ENC_INLINE_LISTPACK) |
                  ENC_BIT(ENC_INLINE_SMALLPACK),
    [TYPE_STREAM] = ENC_BIT(ENC_SKIPLIST),
};

/* The meta byte names a type and an encoding that go together: the
 * flags decide how every other byte of the entry is read. */
static inline int meta_is_valid(const entry *e) {
    return (encodings_of_type[entry_type(e)] & ENC_BIT(entry_raw_encoding(e))) != 0;
}
#endif

static layout entry_layout(const entry *e) {
    assert(meta_is_valid(e) && "entry meta byte: type and encoding do not go together");
    const uint8_t *p = (const uint8_t *)e;
    layout l;
    size_t n = varint_get(p + META_SIZE, &l.keylen);
    l.key_off = META_SIZE + n;
    size_t after_key = l.key_off + l.keylen;
    if (entry_has_expire(e)) {
        l.expire_off = after_key;
        l.value_off = after_key + 8;
    } else {
        l.expire_off = 0;
        l.value_off = after_key;
    }
    return l;
}

static size_t value_size(int enc, size_t vlen) {
    switch (enc) {
    case ENC_INT: return 8;
    case ENC_EMBSTR: return varint_size(vlen) + vlen;
    default: return sizeof(void *);
    }
}

/* Values stored as varint length + bytes: embstr strings and inline
 * aggregates in either form. */
static int value_has_length(const entry *e) {
    int enc = entry_raw_encoding(e);
    return enc == ENC_EMBSTR || (enc == ENC_INT && entry_type(e) != TYPE_STRING);
}

/* Bytes of e's value slot as stored (length prefix included). */
static size_t stored_value_size(const entry *e, const layout *l) {
    if (!value_has_length(e)) return value_size(entry_raw_encoding(e), 0);
    size_t vlen;
    return varint_get((const uint8_t *)e + l->value_off, &vlen) + vlen;
}

/* The bytes after an inline value's length prefix. */
static const uint8_t *stored_value_bytes(const entry *e, const layout *l, size_t *len) {
    const uint8_t *v = (const uint8_t *)e + l->value_off;
    return v + varint_get(v, len);
}

#ifndef NDEBUG
/* The value slot that e's flags and length prefix describe lies inside
 * e's block: checked before the value bytes are copied out. */
static int value_fits_block(const entry *e, const layout *l) {
    return l->value_off + stored_value_size(e, l) <= zmalloc_size(e);
}
#endif

/* Allocate and fill everything but the value. Returns the value offset. */
static entry *entry_alloc(const char *key, size_t klen, int type, int enc, long long expire,
                          size_t vsize, size_t *value_off) {
    size_t hdr = META_SIZE + varint_size(klen) + klen + (expire >= 0 ? 8 : 0);
    uint8_t *p = zmalloc(hdr + vsize);
    p[0] = (uint8_t)((type & ENTRY_META_TYPE_MASK) | (enc << ENTRY_META_ENC_SHIFT) |
                     (expire >= 0 ? ENTRY_META_EXPIRE : 0));
    p[1] = p[2] = p[3] = 0;
    size_t off = META_SIZE + varint_put(p + META_SIZE, klen);
    memcpy(p + off, key, klen);
    off += klen;
    if (expire >= 0) {
        memcpy(p + off, &expire, 8);
        off += 8;
    }
    *value_off = off;
    return (entry *)p;
}

const char *entry_key(const entry *e, size_t *len) {
    const uint8_t *p = (const uint8_t *)e;
    size_t n = varint_get(p + META_SIZE, len);
    return (const char *)p + META_SIZE + n;
}

long long entry_expire(const entry *e) {
    if (!entry_has_expire(e)) return -1;
    layout l = entry_layout(e);
    long long when;
    memcpy(&when, (const uint8_t *)e + l.expire_off, 8);
    assert(when >= 0 && "has-expire set on an entry without an expire time");
    return when;
}

/* Readers of a smallpack entry get its listpack decoded into one of these
 * (entry.h, "Inline aggregates"). Per thread, so that no thread can
 * overwrite another's; a listpack bigger than a slot stays a plain inline
 * listpack instead. */
#define DECODE_SLOT_BYTES 512
static _Thread_local _Alignas(16) unsigned char decode_slots[ENTRY_DECODE_SLOTS][DECODE_SLOT_BYTES];
static _Thread_local unsigned decode_next;

static unsigned char *decode_slot(void) {
    unsigned char *slot = decode_slots[decode_next];
    decode_next = (decode_next + 1) % ENTRY_DECODE_SLOTS;
    return slot;
}

static void *smallpack_listpack(const entry *e, const layout *l) {
    size_t len;
    const uint8_t *sp = stored_value_bytes(e, l, &len);
    assert(len < DECODE_SLOT_BYTES && "smallpack longer than any listpack it could come from");
    unsigned char *lp = decode_slot();
    if (!smallpack_decode(lp, DECODE_SLOT_BYTES, sp, len)) {
        /* Only entry_new_inline writes this form, from a listpack it
         * checked: the entry block itself has been overwritten. */
        fprintf(stderr, "entry: corrupt smallpack value (%zu bytes)\n", len);
        abort();
    }
    return lp;
}

entry *entry_new_inline(const char *key, size_t klen, int type, const void *lp, size_t len, long long expire) {
    size_t off, splen;
    unsigned char sp[DECODE_SLOT_BYTES];
    if (len <= DECODE_SLOT_BYTES && smallpack_encode(sp, sizeof(sp), lp, len, &splen)) {
        assert(smallpack_listpack_size(sp, splen) == len && "smallpack does not decode back");
        entry *e = entry_alloc(key, klen, type, ENC_INLINE_SMALLPACK, expire, varint_size(splen) + splen, &off);
        uint8_t *p = (uint8_t *)e + off;
        p += varint_put(p, splen);
        memcpy(p, sp, splen);
        return e;
    }
    entry *e = entry_alloc(key, klen, type, ENC_INLINE_LISTPACK, expire, value_size(ENC_EMBSTR, len), &off);
    uint8_t *p = (uint8_t *)e + off;
    p += varint_put(p, len);
    memcpy(p, lp, len);
    return e;
}

size_t entry_inline_size(size_t klen, size_t lplen, int has_expire) {
    return META_SIZE + varint_size(klen) + klen + (has_expire ? 8 : 0) + varint_size(lplen) + lplen;
}

static entry *new_embstr(const char *key, size_t klen, const char *val, size_t vlen, long long expire) {
    size_t off;
    entry *e = entry_alloc(key, klen, TYPE_STRING, ENC_EMBSTR, expire, value_size(ENC_EMBSTR, vlen), &off);
    uint8_t *p = (uint8_t *)e + off;
    p += varint_put(p, vlen);
    if (vlen) memcpy(p, val, vlen);
    return e;
}

entry *entry_new_int(const char *key, size_t klen, long long v, long long expire) {
    size_t off;
    entry *e = entry_alloc(key, klen, TYPE_STRING, ENC_INT, expire, 8, &off);
    memcpy((uint8_t *)e + off, &v, 8);
    return e;
}

entry *entry_new_ptr(const char *key, size_t klen, int type, int enc, void *ptr, long long expire) {
    size_t off;
    entry *e = entry_alloc(key, klen, type, enc, expire, sizeof(void *), &off);
    memcpy((uint8_t *)e + off, &ptr, sizeof(void *));
    return e;
}

entry *entry_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire) {
    long long v;
    if (vlen <= 20 && string_to_ll(val, vlen, &v)) return entry_new_int(key, klen, v, expire);
    if (vlen <= EMBSTR_MAX_LEN) return new_embstr(key, klen, val, vlen, expire);
    return entry_new_ptr(key, klen, TYPE_STRING, ENC_RAW, kstr_new_len(val, vlen), expire);
}

entry *entry_new_string_kstr(const char *key, size_t klen, char *val, long long expire) {
    size_t vlen = kstr_len(val);
    long long v;
    if (vlen <= EMBSTR_MAX_LEN || (vlen <= 20 && string_to_ll(val, vlen, &v))) {
        entry *e = entry_new_string(key, klen, val, vlen, expire);
        kstr_free(val);
        return e;
    }
    return entry_new_ptr(key, klen, TYPE_STRING, ENC_RAW, val, expire);
}

static entry *copy_meta(entry *to, const entry *from) {
    entry_set_lru(to, entry_lru(from));
    return to;
}

entry *entry_with_string(const entry *e, const char *val, size_t vlen) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    return copy_meta(entry_new_string(key, klen, val, vlen, entry_expire(e)), e);
}

entry *entry_with_ptr(const entry *e, int type, int enc, void *ptr) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    return copy_meta(entry_new_ptr(key, klen, type, enc, ptr, entry_expire(e)), e);
}

entry *entry_with_inline(const entry *e, int type, const void *lp, size_t len) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    return copy_meta(entry_new_inline(key, klen, type, lp, len, entry_expire(e)), e);
}

entry *entry_with_int(const entry *e, long long v) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    return copy_meta(entry_new_int(key, klen, v, entry_expire(e)), e);
}

void entry_set_int(entry *e, long long v) {
    assert(entry_type(e) == TYPE_STRING && entry_encoding(e) == ENC_INT);
    layout l = entry_layout(e);
    memcpy((uint8_t *)e + l.value_off, &v, 8);
}

/* Rebuild e with or without the expire field, value bytes moved along. */
static entry *rebuild_expire(entry *e, long long when) {
    layout l = entry_layout(e);
    assert(value_fits_block(e, &l));
    int enc = entry_raw_encoding(e);
    size_t vsize = stored_value_size(e, &l);
    size_t newoff;
    size_t klen;
    const char *key = entry_key(e, &klen);
    entry *n = entry_alloc(key, klen, entry_type(e), enc, when, vsize, &newoff);
    memcpy((uint8_t *)n + newoff, (const uint8_t *)e + l.value_off, vsize);
    ((uint8_t *)n)[0] |= (uint8_t)(entry_meta(e) & ENTRY_META_SNAPMARK);
    copy_meta(n, e);
    zfree(e);
    return n;
}

entry *entry_set_expire(entry *e, long long when) {
    assert(when >= 0 && "a negative time would read as no expire");
    if (entry_has_expire(e)) {
        layout l = entry_layout(e);
        memcpy((uint8_t *)e + l.expire_off, &when, 8);
        return e;
    }
    return rebuild_expire(e, when);
}

entry *entry_clear_expire(entry *e) {
    if (!entry_has_expire(e)) return e;
    return rebuild_expire(e, -1);
}

const unsigned char *entry_smallpack(const entry *e, size_t *len) {
    if (!entry_is_inline_aggregate(e) || entry_raw_encoding(e) != ENC_INLINE_SMALLPACK) return NULL;
    layout l = entry_layout(e);
    return stored_value_bytes(e, &l, len);
}

void *entry_ptr(const entry *e) {
    layout l = entry_layout(e);
    if (entry_is_inline_aggregate(e)) {
        if (entry_raw_encoding(e) == ENC_INLINE_SMALLPACK) return smallpack_listpack(e, &l);
        size_t len;
        return (void *)stored_value_bytes(e, &l, &len);
    }
    void *ptr;
    memcpy(&ptr, (const uint8_t *)e + l.value_off, sizeof(void *));
    return ptr;
}

void entry_set_ptr(entry *e, void *ptr) {
    assert(!entry_value_inline(e));
    layout l = entry_layout(e);
    memcpy((uint8_t *)e + l.value_off, &ptr, sizeof(void *));
}

void entry_set_encoding(entry *e, int enc) {
    uint8_t *p = (uint8_t *)e;
    assert(value_size(enc, 0) == sizeof(void *) && !entry_value_inline(e));
    p[0] = (uint8_t)((p[0] & ~ENTRY_META_ENC_MASK) | (enc << ENTRY_META_ENC_SHIFT));
}

const char *entry_string(const entry *e, char *buf, size_t *len) {
    layout l = entry_layout(e);
    const uint8_t *v = (const uint8_t *)e + l.value_off;
    switch (entry_encoding(e)) {
    case ENC_INT: {
        long long x;
        memcpy(&x, v, 8);
        *len = (size_t)ll_to_string(buf, 32, x);
        return buf;
    }
    case ENC_EMBSTR: {
        size_t n = varint_get(v, len);
        assert(*len <= EMBSTR_MAX_LEN && "embstr length prefix corrupt");
        return (const char *)v + n;
    }
    default: {
        char *s;
        memcpy(&s, v, sizeof(void *));
        *len = kstr_len(s);
        return s;
    }
    }
}

int entry_string_as_ll(const entry *e, long long *out) {
    if (entry_encoding(e) == ENC_INT) {
        layout l = entry_layout(e);
        memcpy(out, (const uint8_t *)e + l.value_off, 8);
        return 1;
    }
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    return string_to_ll(s, len, out);
}

static int is_ptr_encoding(const entry *e) { return !entry_value_inline(e); }

void entry_free(entry *e) {
    if (!e) return;
    if (is_ptr_encoding(e)) {
        const type_ops *ops = type_ops_for(entry_type(e));
        if (ops && ops->free_value) ops->free_value(entry_encoding(e), entry_ptr(e));
    }
    zfree(e);
}

void entry_free_shell(entry *e) { zfree(e); }

entry *entry_dup(const entry *e, const char *newkey, size_t newklen) {
    long long expire = entry_expire(e);
    entry *n;
    if (is_ptr_encoding(e)) {
        const type_ops *ops = type_ops_for(entry_type(e));
        void *dup = ops->dup_value(entry_encoding(e), entry_ptr(e));
        n = entry_new_ptr(newkey, newklen, entry_type(e), entry_encoding(e), dup, expire);
    } else if (entry_is_inline_aggregate(e)) {
        /* The stored form is copied as is: no decode, no re-encode. */
        layout l = entry_layout(e);
        assert(value_fits_block(e, &l));
        size_t vsize = stored_value_size(e, &l), off;
        n = entry_alloc(newkey, newklen, entry_type(e), entry_raw_encoding(e), expire, vsize, &off);
        memcpy((uint8_t *)n + off, (const uint8_t *)e + l.value_off, vsize);
    } else {
        char buf[32];
        size_t len;
        const char *s = entry_string(e, buf, &len);
        n = entry_new_string(newkey, newklen, s, len, expire);
    }
    return copy_meta(n, e);
}

size_t entry_alloc_size(const entry *e) { return zmalloc_size(e); }

const char *entry_type_name(int type) {
    switch (type) {
    case TYPE_STRING: return "string";
    case TYPE_LIST: return "list";
    case TYPE_SET: return "set";
    case TYPE_ZSET: return "zset";
    case TYPE_HASH: return "hash";
    case TYPE_STREAM: return "stream";
    default: return "unknown";
    }
}

const char *entry_encoding_name(const entry *e) {
    int t = entry_type(e);
    switch (entry_encoding(e)) {
    case ENC_RAW: return "raw";
    case ENC_INT: return "int";
    case ENC_EMBSTR: return "embstr";
    case ENC_LISTPACK: return "listpack";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_HASHTABLE: return "hashtable";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return t == TYPE_STREAM ? "stream" : "skiplist";
    default: return "unknown";
    }
}

entry *entry_rekey(entry *e, const char *newkey, size_t newklen) {
    layout l = entry_layout(e);
    assert(value_fits_block(e, &l));
    size_t vsize = stored_value_size(e, &l);
    int enc = entry_raw_encoding(e);
    size_t off;
    entry *n = entry_alloc(newkey, newklen, entry_type(e), enc, entry_expire(e), vsize, &off);
    memcpy((uint8_t *)n + off, (const uint8_t *)e + l.value_off, vsize);
    copy_meta(n, e);
    zfree(e);
    return n;
}
