/* See strval.h. */
#include "types/strval.h"

#include "core/db.h"
#include "lib/zmalloc.h"

#include <string.h>

entry *strval_make_raw(client *c, entry *e, kstr *out) {
    if (entry_encoding(e) == ENC_RAW) {
        *out = entry_ptr(e);
        return e;
    }
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    kstr k = kstr_new_len(s, len);
    entry *n = entry_with_ptr(e, TYPE_STRING, ENC_RAW, k);
    db_replace(c->db, e, n, 0);
    *out = k;
    return n;
}

entry *strval_add_raw(client *c, const kstr key, kstr s) {
    entry *e = entry_new_ptr(key, kstr_len(key), TYPE_STRING, ENC_RAW, s, -1);
    db_add(c->db, e);
    return e;
}

kstr strval_reserve_tight(kstr s, size_t need) {
    struct kstr_hdr *h = KSTR_HDR(s);
    if ((size_t)h->alloc - h->len >= need) return s;
    size_t cap = (size_t)h->len + need;
    cap += cap / 8 < STRVAL_GROW_MAX ? cap / 8 : STRVAL_GROW_MAX;
    if (cap > KSTR_MAX_LEN) cap = KSTR_MAX_LEN;
    h = zrealloc(h, sizeof(*h) + cap + 1);
    size_t usable = zmalloc_size(h) - sizeof(*h) - 1;
    h->alloc = (uint32_t)(usable > KSTR_MAX_LEN ? KSTR_MAX_LEN : usable);
    return h->buf;
}

kstr strval_append(kstr s, const void *t, size_t len) {
    s = strval_reserve_tight(s, len);
    memcpy(s + kstr_len(s), t, len);
    kstr_incr_len(s, len);
    return s;
}

kstr strval_grow_zero(kstr s, size_t len) {
    size_t cur = kstr_len(s);
    if (len <= cur) return s;
    s = strval_reserve_tight(s, len - cur);
    memset(s + cur, 0, len - cur);
    kstr_set_len(s, len);
    return s;
}
