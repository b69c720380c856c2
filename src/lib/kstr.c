/* See kstr.h for the design. */
#include "lib/kstr.h"
#include "lib/zmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define KSTR_PREALLOC_STEP (1024 * 1024)

static kstr kstr_alloc(size_t cap) {
    struct kstr_hdr *h = zmalloc(sizeof(*h) + cap + 1);
    /* Use whatever the allocator rounded up to: it is ours anyway. */
    size_t usable = zmalloc_size(h) - sizeof(*h) - 1;
    if (usable > KSTR_MAX_LEN) usable = KSTR_MAX_LEN;
    h->alloc = (uint32_t)usable;
    h->len = 0;
    h->buf[0] = '\0';
    return h->buf;
}

kstr kstr_new_len(const void *init, size_t len) {
    kstr s = kstr_alloc(len);
    if (len) {
        if (init) memcpy(s, init, len);
        else memset(s, 0, len);
    }
    KSTR_HDR(s)->len = (uint32_t)len;
    s[len] = '\0';
    return s;
}

kstr kstr_new(const char *cstr) { return kstr_new_len(cstr, cstr ? strlen(cstr) : 0); }
kstr kstr_empty(void) { return kstr_alloc(0); }
kstr kstr_empty_cap(size_t cap) { return kstr_alloc(cap); }
kstr kstr_dup(const kstr s) { return kstr_new_len(s, kstr_len(s)); }

kstr kstr_from_ll(long long v) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return kstr_new_len(buf, (size_t)n);
}

void kstr_free(kstr s) {
    if (s) zfree(KSTR_HDR(s));
}

kstr kstr_make_room(kstr s, size_t addlen) {
    struct kstr_hdr *h = KSTR_HDR(s);
    if (h->alloc - h->len >= addlen) return s;
    size_t need = (size_t)h->len + addlen;
    size_t cap = need < KSTR_PREALLOC_STEP ? need * 2 : need + KSTR_PREALLOC_STEP;
    if (cap > KSTR_MAX_LEN) cap = KSTR_MAX_LEN;
    h = zrealloc(h, sizeof(*h) + cap + 1);
    size_t usable = zmalloc_size(h) - sizeof(*h) - 1;
    if (usable > KSTR_MAX_LEN) usable = KSTR_MAX_LEN;
    h->alloc = (uint32_t)usable;
    return h->buf;
}

kstr kstr_cat_len(kstr s, const void *t, size_t len) {
    s = kstr_make_room(s, len);
    memcpy(s + kstr_len(s), t, len);
    KSTR_HDR(s)->len += (uint32_t)len;
    s[kstr_len(s)] = '\0';
    return s;
}

kstr kstr_cat(kstr s, const char *t) { return kstr_cat_len(s, t, strlen(t)); }
kstr kstr_cat_kstr(kstr s, const kstr t) { return kstr_cat_len(s, t, kstr_len(t)); }

kstr kstr_cat_vprintf(kstr s, const char *fmt, va_list ap) {
    char stackbuf[512];
    va_list cpy;
    va_copy(cpy, ap);
    int n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, cpy);
    va_end(cpy);
    if (n < 0) return s;
    if ((size_t)n < sizeof(stackbuf)) return kstr_cat_len(s, stackbuf, (size_t)n);
    s = kstr_make_room(s, (size_t)n + 1);
    va_copy(cpy, ap);
    vsnprintf(s + kstr_len(s), (size_t)n + 1, fmt, cpy);
    va_end(cpy);
    KSTR_HDR(s)->len += (uint32_t)n;
    return s;
}

kstr kstr_cat_printf(kstr s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s = kstr_cat_vprintf(s, fmt, ap);
    va_end(ap);
    return s;
}

kstr kstr_grow_zero(kstr s, size_t len) {
    size_t cur = kstr_len(s);
    if (len <= cur) return s;
    s = kstr_make_room(s, len - cur);
    memset(s + cur, 0, len - cur + 1);
    KSTR_HDR(s)->len = (uint32_t)len;
    return s;
}

kstr kstr_cpy_len(kstr s, const void *t, size_t len) {
    KSTR_HDR(s)->len = 0;
    return kstr_cat_len(s, t, len);
}

kstr kstr_shrink_to_fit(kstr s) {
    struct kstr_hdr *h = KSTR_HDR(s);
    if (h->alloc == h->len) return s;
    h = zrealloc(h, sizeof(*h) + h->len + 1);
    size_t usable = zmalloc_size(h) - sizeof(*h) - 1;
    h->alloc = (uint32_t)(usable > KSTR_MAX_LEN ? KSTR_MAX_LEN : usable);
    return h->buf;
}

void kstr_set_len(kstr s, size_t len) {
    KSTR_HDR(s)->len = (uint32_t)len;
    s[len] = '\0';
}

void kstr_incr_len(kstr s, size_t incr) { kstr_set_len(s, kstr_len(s) + incr); }
void kstr_clear(kstr s) { kstr_set_len(s, 0); }

void kstr_range(kstr s, long start, long end) {
    long len = (long)kstr_len(s);
    if (len == 0) return;
    if (start < 0) { start += len; if (start < 0) start = 0; }
    if (end < 0) { end += len; if (end < 0) end = 0; }
    long newlen = (start > end) ? 0 : (end - start) + 1;
    if (newlen != 0) {
        if (start >= len) newlen = 0;
        else if (end >= len) { end = len - 1; newlen = (end - start) + 1; }
    }
    if (start && newlen) memmove(s, s + start, (size_t)newlen);
    kstr_set_len(s, (size_t)newlen);
}

void kstr_consume(kstr s, size_t n) {
    size_t len = kstr_len(s);
    if (n >= len) { kstr_clear(s); return; }
    memmove(s, s + n, len - n);
    kstr_set_len(s, len - n);
}

void kstr_tolower(kstr s) {
    for (size_t i = 0, n = kstr_len(s); i < n; i++) s[i] = (char)tolower((unsigned char)s[i]);
}

void kstr_toupper(kstr s) {
    for (size_t i = 0, n = kstr_len(s); i < n; i++) s[i] = (char)toupper((unsigned char)s[i]);
}

size_t kstr_alloc_size(const kstr s) { return zmalloc_size(KSTR_HDR(s)); }

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Parse one quoted argument starting at *pp (pointing at the quote).
 * Appends to *cur; returns 0 on unbalanced quotes. */
static int split_quoted(const char **pp, kstr *cur) {
    const char *p = *pp;
    char q = *p++;
    for (;;) {
        if (!*p) return 0;
        if (q == '"' && p[0] == '\\' && p[1] == 'x' && hexval((unsigned char)p[2]) >= 0 &&
            hexval((unsigned char)p[3]) >= 0) {
            char c = (char)(hexval((unsigned char)p[2]) * 16 + hexval((unsigned char)p[3]));
            *cur = kstr_cat_len(*cur, &c, 1);
            p += 4;
        } else if (q == '"' && p[0] == '\\' && p[1]) {
            char c;
            switch (p[1]) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: c = p[1]; break;
            }
            *cur = kstr_cat_len(*cur, &c, 1);
            p += 2;
        } else if (q == '\'' && p[0] == '\\' && p[1] == '\'') {
            *cur = kstr_cat_len(*cur, "'", 1);
            p += 2;
        } else if (*p == q) {
            /* A closing quote must be followed by a space or the end. */
            if (p[1] && !isspace((unsigned char)p[1])) return 0;
            *pp = p + 1;
            return 1;
        } else {
            *cur = kstr_cat_len(*cur, p, 1);
            p++;
        }
    }
}

kstr *kstr_split_args(const char *line, int *argc) {
    const char *p = line;
    kstr *vec = NULL;
    *argc = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) return vec ? vec : zcalloc(sizeof(kstr));
        kstr cur = kstr_empty();
        if (*p == '"' || *p == '\'') {
            if (!split_quoted(&p, &cur)) {
                kstr_free(cur);
                kstr_free_split(vec, *argc);
                *argc = 0;
                return NULL;
            }
        } else {
            while (*p && !isspace((unsigned char)*p)) cur = kstr_cat_len(cur, p++, 1);
        }
        vec = zrealloc(vec, sizeof(kstr) * (size_t)(*argc + 1));
        vec[(*argc)++] = cur;
    }
}

void kstr_free_split(kstr *argv, int argc) {
    if (!argv) return;
    for (int i = 0; i < argc; i++) kstr_free(argv[i]);
    zfree(argv);
}

kstr kstr_cat_repr(kstr s, const char *p, size_t len) {
    s = kstr_cat_len(s, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\': case '"': s = kstr_cat_printf(s, "\\%c", c); break;
        case '\n': s = kstr_cat(s, "\\n"); break;
        case '\r': s = kstr_cat(s, "\\r"); break;
        case '\t': s = kstr_cat(s, "\\t"); break;
        case '\a': s = kstr_cat(s, "\\a"); break;
        case '\b': s = kstr_cat(s, "\\b"); break;
        default:
            if (isprint(c)) s = kstr_cat_len(s, p + i, 1);
            else s = kstr_cat_printf(s, "\\x%02x", c);
        }
    }
    return kstr_cat_len(s, "\"", 1);
}
