/*
 * string: the string type and its commands.
 *
 * Encodings (see core/entry.h): integers that print back identically are
 * kept as an inline int64 ("int"), strings up to 44 bytes inline in the
 * key's entry ("embstr"), longer ones as a kstr the entry points to
 * ("raw"). A value modified in place (APPEND, SETRANGE) becomes raw, as in
 * Redis, since it is likely to be modified again.
 *
 * Memory: every path that creates a value allocates it exactly (SETRANGE
 * or SETBIT on a missing key cost what SET of the same bytes costs); paths
 * that grow one in place reserve about 1/8 of room (strval_reserve_tight),
 * the least slack that keeps repeated APPENDs amortised O(1), and never
 * more than Redis's doubling would leave.
 */
#include "core/propagate.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/strval.h"
#include "types/types.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- type ops (raw strings only: inline ones live in the entry) ---- */

static void string_free_value(int enc, void *ptr) {
    if (enc == ENC_RAW) kstr_free(ptr);
}

static void *string_dup_value(int enc, const void *ptr) {
    (void)enc;
    return kstr_dup((const kstr)ptr);
}

static size_t string_mem_usage(int enc, const void *ptr, size_t samples) {
    (void)samples;
    return enc == ENC_RAW ? kstr_alloc_size((const kstr)ptr) : 0;
}

static size_t string_length(int enc, const void *ptr) {
    (void)enc; (void)ptr;
    return 1;
}

const type_ops string_type_ops = {
    .name = "string",
    .free_value = string_free_value,
    .dup_value = string_dup_value,
    .mem_usage = string_mem_usage,
    .length = string_length,
};

/* ---- helpers ---- */

/* size + append must stay within proto-max-bulk-len; both come from the
 * client (SETRANGE's offset can be near LLONG_MAX), so the sum is formed
 * unsigned and an overflow is rejected like an oversized result. */
static int check_string_length(client *c, long long size, long long append) {
    unsigned long long total = (unsigned long long)size + (unsigned long long)append;
    if (total > (unsigned long long)server.proto_max_bulk_len || total < (unsigned long long)size) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return 0;
    }
    return 1;
}

/* Store a new string value under key, replacing whatever is there. */
static entry *store_string(client *c, const kstr key, const char *val, size_t vlen, long long expire, int keepttl) {
    entry *e = entry_new_string(key, kstr_len(key), val, vlen, expire);
    db_set(c->db, e, keepttl);
    signal_modified_key(c, c->db, key);
    return e;
}

/* ---- expire option parsing shared by SET and GETEX ---- */

enum { EXP_NONE, EXP_EX, EXP_PX, EXP_EXAT, EXP_PXAT };

#define OBJ_NX (1 << 0)
#define OBJ_XX (1 << 1)
#define OBJ_GET (1 << 2)
#define OBJ_KEEPTTL (1 << 3)
#define OBJ_PERSIST (1 << 4)
#define OBJ_EXPIRE (1 << 5)

typedef struct set_opts {
    int flags;
    int unit;
    kstr expire_arg;
} set_opts;

/* Parse [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL] (SET) or
 * [EX|PX|EXAT|PXAT n|PERSIST] (GETEX) from argv[first..]. */
static int parse_set_options(client *c, int first, int is_getex, set_opts *o) {
    memset(o, 0, sizeof(*o));
    for (int j = first; j < c->argc; j++) {
        kstr a = c->argv[j];
        kstr next = j + 1 < c->argc ? c->argv[j + 1] : NULL;
        int unit = EXP_NONE;
        if (arg_is(a, "ex")) unit = EXP_EX;
        else if (arg_is(a, "px")) unit = EXP_PX;
        else if (arg_is(a, "exat")) unit = EXP_EXAT;
        else if (arg_is(a, "pxat")) unit = EXP_PXAT;
        if (unit != EXP_NONE && next && !(o->flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXPIRE))) {
            o->flags |= OBJ_EXPIRE;
            o->unit = unit;
            o->expire_arg = next;
            j++;
        } else if (!is_getex && arg_is(a, "nx") && !(o->flags & (OBJ_XX | OBJ_NX))) {
            o->flags |= OBJ_NX;
        } else if (!is_getex && arg_is(a, "xx") && !(o->flags & (OBJ_XX | OBJ_NX))) {
            o->flags |= OBJ_XX;
        } else if (!is_getex && arg_is(a, "get") && !(o->flags & OBJ_GET)) {
            o->flags |= OBJ_GET;
        } else if (!is_getex && arg_is(a, "keepttl") && !(o->flags & (OBJ_KEEPTTL | OBJ_EXPIRE))) {
            o->flags |= OBJ_KEEPTTL;
        } else if (is_getex && arg_is(a, "persist") && !(o->flags & (OBJ_PERSIST | OBJ_EXPIRE))) {
            o->flags |= OBJ_PERSIST;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

/* Absolute expire time in ms from the option, or -1 on error (replied). */
static long long expire_from_option(client *c, const set_opts *o, const char *cmdname) {
    long long v;
    if (!string_to_ll(o->expire_arg, kstr_len(o->expire_arg), &v)) {
        reply_error_not_integer(c);
        return -1;
    }
    if (v <= 0 || ((o->unit == EXP_EX || o->unit == EXP_EXAT) && v > LLONG_MAX / 1000)) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", cmdname);
        return -1;
    }
    if (o->unit == EXP_EX || o->unit == EXP_EXAT) v *= 1000;
    if (o->unit == EXP_EX || o->unit == EXP_PX) {
        long long now = db_now_ms();
        if (v > LLONG_MAX - now) {
            reply_errorf(c, "ERR invalid expire time in '%s' command", cmdname);
            return -1;
        }
        v += now;
    }
    return v;
}

/* ---- commands ---- */

static void get_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) reply_null(c);
    else reply_entry_string(c, e);
}

static void set_generic(client *c, const kstr key, const kstr val, const set_opts *o, const char *cmdname) {
    long long expire = -1;
    if (o->flags & OBJ_EXPIRE) {
        expire = expire_from_option(c, o, cmdname);
        if (expire < 0) return;
    }
    entry *old = lookup_write(c, key);
    if (o->flags & OBJ_GET) {
        if (old && entry_type(old) != TYPE_STRING) {
            reply_error_wrongtype(c);
            return;
        }
        if (old) reply_entry_string(c, old);
        else reply_null(c);
    }
    if ((o->flags & OBJ_NX && old) || (o->flags & OBJ_XX && !old)) {
        if (!(o->flags & OBJ_GET)) reply_null(c);
        return;
    }
    if (expire >= 0 && db_ttl_already_past(expire)) {
        /* Already expired: the key ends up deleted. */
        if (old) db_delete(c->db, key, kstr_len(key));
        signal_modified_key(c, c->db, key);
        notify_keyspace_event(NOTIFY_STRING, "set", key, db_id(c->db));
        notify_keyspace_event(NOTIFY_GENERIC, "expire", key, db_id(c->db));
        notify_keyspace_event(NOTIFY_EXPIRED, "expired", key, db_id(c->db));
        server.stat.expiredkeys++;
        propagate_rewritef(c, "sk", server.lazyfree_lazy_server_del ? "UNLINK" : "DEL", key);
        if (!(o->flags & OBJ_GET)) reply_ok(c);
        return;
    }
    store_string(c, key, val, kstr_len(val), expire, o->flags & OBJ_KEEPTTL);
    /* A relative or second-based TTL is replayed as an absolute one, so a
     * reload later does not extend it. */
    if (expire >= 0) propagate_rewritef(c, "skksl", "SET", key, val, "PXAT", expire);
    else if (o->flags & OBJ_GET)
        propagate_rewritef(c, o->flags & OBJ_KEEPTTL ? "skks" : "skk", "SET", key, val, "KEEPTTL");
    notify_keyspace_event(NOTIFY_STRING, "set", key, db_id(c->db));
    if (expire >= 0) notify_keyspace_event(NOTIFY_GENERIC, "expire", key, db_id(c->db));
    if (!(o->flags & OBJ_GET)) reply_ok(c);
}

static void set_command(client *c) {
    set_opts o;
    if (!parse_set_options(c, 3, 0, &o)) return;
    set_generic(c, c->argv[1], c->argv[2], &o, "set");
}

static void setnx_command(client *c) {
    if (lookup_write(c, c->argv[1])) {
        reply_ll(c, 0);
        return;
    }
    store_string(c, c->argv[1], c->argv[2], kstr_len(c->argv[2]), -1, 0);
    notify_keyspace_event(NOTIFY_STRING, "set", c->argv[1], db_id(c->db));
    reply_ll(c, 1);
}

static void setex_generic(client *c, int unit, const char *name) {
    set_opts o = {.flags = OBJ_EXPIRE, .unit = unit, .expire_arg = c->argv[2]};
    set_generic(c, c->argv[1], c->argv[3], &o, name);
}

static void setex_command(client *c) { setex_generic(c, EXP_EX, "setex"); }
static void psetex_command(client *c) { setex_generic(c, EXP_PX, "psetex"); }

static void getset_command(client *c) {
    set_opts o = {.flags = OBJ_GET};
    set_generic(c, c->argv[1], c->argv[2], &o, "getset");
}

static void getdel_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        reply_null(c);
        return;
    }
    reply_entry_string(c, e);
    db_delete(c->db, c->argv[1], kstr_len(c->argv[1]));
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], db_id(c->db));
}

static void getex_command(client *c) {
    set_opts o;
    if (!parse_set_options(c, 2, 1, &o)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) { /* as Redis: a missing key is answered before the TTL is checked */
        reply_null(c);
        return;
    }
    long long expire = -1;
    if (o.flags & OBJ_EXPIRE) {
        expire = expire_from_option(c, &o, "getex");
        if (expire < 0) return;
    }
    reply_entry_string(c, e);
    if (expire >= 0 && db_ttl_already_past(expire)) {
        db_delete(c->db, c->argv[1], kstr_len(c->argv[1]));
        server.stat.expiredkeys++;
        signal_modified_key(c, c->db, c->argv[1]);
        propagate_rewritef(c, "sk", server.lazyfree_lazy_server_del ? "UNLINK" : "DEL", c->argv[1]);
        notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], db_id(c->db));
    } else if (expire >= 0) {
        db_set_expire(c->db, e, expire);
        signal_modified_key(c, c->db, c->argv[1]);
        propagate_rewritef(c, "skl", "PEXPIREAT", c->argv[1], expire);
        notify_keyspace_event(NOTIFY_GENERIC, "expire", c->argv[1], db_id(c->db));
    } else if (o.flags & OBJ_PERSIST && entry_has_expire(e)) {
        db_persist(c->db, e);
        signal_modified_key(c, c->db, c->argv[1]);
        propagate_rewritef(c, "sk", "PERSIST", c->argv[1]);
        notify_keyspace_event(NOTIFY_GENERIC, "persist", c->argv[1], db_id(c->db));
    }
}

static void mget_command(client *c) {
    reply_array_len(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        entry *e = lookup_read(c, c->argv[j]);
        if (!e || entry_type(e) != TYPE_STRING) reply_null(c);
        else reply_entry_string(c, e);
    }
}

static void mset_generic(client *c, int nx) {
    if (c->argc % 2 == 0) {
        reply_error_arity(c);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (lookup_write(c, c->argv[j])) {
                reply_ll(c, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        store_string(c, c->argv[j], c->argv[j + 1], kstr_len(c->argv[j + 1]), -1, 0);
        notify_keyspace_event(NOTIFY_STRING, "set", c->argv[j], db_id(c->db));
    }
    if (nx) reply_ll(c, 1);
    else reply_ok(c);
}

static void mset_command(client *c) { mset_generic(c, 0); }
static void msetnx_command(client *c) { mset_generic(c, 1); }

static void append_command(client *c) {
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    kstr add = c->argv[2];
    if (!e) {
        store_string(c, c->argv[1], add, kstr_len(add), -1, 0);
        notify_keyspace_event(NOTIFY_STRING, "append", c->argv[1], db_id(c->db));
        reply_ll(c, (long long)kstr_len(add));
        return;
    }
    char buf[32];
    size_t len;
    entry_string(e, buf, &len);
    if (!check_string_length(c, (long long)len, (long long)kstr_len(add))) return;
    kstr s;
    e = strval_make_raw(c, e, &s);
    s = strval_append(s, add, kstr_len(add));
    entry_set_ptr(e, s);
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "append", c->argv[1], db_id(c->db));
    reply_ll(c, (long long)kstr_len(s));
}

static void strlen_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    char buf[32];
    size_t len;
    entry_string(e, buf, &len);
    reply_ll(c, (long long)len);
}

static void getrange_command(client *c) {
    long long start, end;
    if (!parse_ll(c, c->argv[2], &start) || !parse_ll(c, c->argv[3], &end)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        reply_bulk(c, "", 0);
        return;
    }
    char buf[32];
    size_t len;
    const char *s = entry_string(e, buf, &len);
    long long n = (long long)len;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= n) end = n - 1;
    if (n == 0 || start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    reply_bulk(c, s + start, (size_t)(end - start + 1));
}

static void setrange_command(client *c) {
    long long offset;
    if (!parse_ll(c, c->argv[2], &offset)) return;
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    kstr val = c->argv[3];
    size_t vlen = kstr_len(val);
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        if (vlen == 0) {
            reply_ll(c, 0);
            return;
        }
        if (!check_string_length(c, offset, (long long)vlen)) return;
        kstr s = kstr_new_len(NULL, (size_t)offset + vlen); /* exact, like SET */
        memcpy(s + offset, val, vlen);
        entry *n = entry_new_ptr(c->argv[1], kstr_len(c->argv[1]), TYPE_STRING, ENC_RAW, s, -1);
        db_add(c->db, n);
        signal_modified_key(c, c->db, c->argv[1]);
        notify_keyspace_event(NOTIFY_STRING, "setrange", c->argv[1], db_id(c->db));
        reply_ll(c, (long long)kstr_len(s));
        return;
    }
    char buf[32];
    size_t len;
    entry_string(e, buf, &len);
    if (vlen == 0) {
        reply_ll(c, (long long)len);
        return;
    }
    if (!check_string_length(c, offset, (long long)vlen)) return;
    kstr s;
    e = strval_make_raw(c, e, &s);
    s = strval_grow_zero(s, (size_t)offset + vlen);
    memcpy(s + offset, val, vlen);
    entry_set_ptr(e, s);
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "setrange", c->argv[1], db_id(c->db));
    reply_ll(c, (long long)kstr_len(s));
}

static void incr_generic(client *c, long long incr) {
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    long long value = 0;
    if (e && !entry_string_as_ll(e, &value)) {
        reply_error_not_integer(c);
        return;
    }
    if (ll_add_overflows(value, incr)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    if (e && entry_encoding(e) == ENC_INT) {
        entry_set_int(e, value); /* the common counter case: in place */
    } else if (e) {
        db_replace(c->db, e, entry_with_int(e, value), 0);
    } else {
        db_add(c->db, entry_new_int(c->argv[1], kstr_len(c->argv[1]), value, -1));
    }
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "incrby", c->argv[1], db_id(c->db));
    reply_ll(c, value);
}

static void incr_command(client *c) { incr_generic(c, 1); }
static void decr_command(client *c) { incr_generic(c, -1); }

static void incrby_command(client *c) {
    long long incr;
    if (!parse_ll(c, c->argv[2], &incr)) return;
    incr_generic(c, incr);
}

static void decrby_command(client *c) {
    long long incr;
    if (!parse_ll(c, c->argv[2], &incr)) return;
    if (incr == LLONG_MIN) {
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -incr);
}

static void incrbyfloat_command(client *c) {
    long double incr, value = 0;
    int wrong;
    entry *e = lookup_write_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (e) {
        char buf[32];
        size_t len;
        const char *s = entry_string(e, buf, &len);
        if (!string_to_long_double(s, len, &value)) {
            reply_error_not_float(c);
            return;
        }
    }
    if (!parse_long_double(c, c->argv[2], &incr)) return;
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char out[5120];
    int n = long_double_to_string(out, sizeof(out), value);
    store_string(c, c->argv[1], out, (size_t)n, -1, 1);
    /* The stream carries the result, not the float arithmetic, so every
     * reader ends with the same bytes. */
    kstr v[4] = {kstr_new("SET"), kstr_dup(c->argv[1]), kstr_new_len(out, (size_t)n), kstr_new("KEEPTTL")};
    propagate_rewrite(c, 4, v);
    notify_keyspace_event(NOTIFY_STRING, "incrbyfloat", c->argv[1], db_id(c->db));
    reply_bulk(c, out, (size_t)n);
}

/* ---- LCS ---- */

static void lcs_emit(client *c, long long as, long long ae, long long bs, long long be, long long minlen,
                     int withlen, long *count) {
    long long len = ae - as + 1;
    if (minlen && len < minlen) return;
    reply_array_len(c, 2 + withlen);
    reply_array_len(c, 2);
    reply_ll(c, as);
    reply_ll(c, ae);
    reply_array_len(c, 2);
    reply_ll(c, bs);
    reply_ll(c, be);
    if (withlen) reply_ll(c, len);
    (*count)++;
}

static void lcs_command(client *c) {
    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (arg_is(a, "idx")) getidx = 1;
        else if (arg_is(a, "len")) getlen = 1;
        else if (arg_is(a, "withmatchlen")) withmatchlen = 1;
        else if (arg_is(a, "minmatchlen") && j + 1 < c->argc) {
            if (!parse_ll(c, c->argv[++j], &minmatchlen)) return;
            if (minmatchlen < 0) minmatchlen = 0;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    const char *a = "", *b = "";
    size_t alen = 0, blen = 0;
    char abuf[32], bbuf[32];
    entry *ea = lookup_read(c, c->argv[1]);
    entry *eb = lookup_read(c, c->argv[2]);
    if ((ea && entry_type(ea) != TYPE_STRING) || (eb && entry_type(eb) != TYPE_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    if (getidx && getlen) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (ea) a = entry_string(ea, abuf, &alen);
    if (eb) b = entry_string(eb, bbuf, &blen);
    /* Classic dynamic programming table, (alen+1) x (blen+1) uint32. */
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells > (unsigned long long)server.proto_max_bulk_len / sizeof(uint32_t) ||
        cells > SIZE_MAX / sizeof(uint32_t)) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *dp = zmalloc((size_t)cells * sizeof(uint32_t));
#define LCS(i, j) dp[(size_t)(i) * (blen + 1) + (j)]
    for (size_t i = 0; i <= alen; i++) {
        for (size_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) LCS(i, j) = 0;
            else if (a[i - 1] == b[j - 1]) LCS(i, j) = LCS(i - 1, j - 1) + 1;
            else LCS(i, j) = LCS(i - 1, j) > LCS(i, j - 1) ? LCS(i - 1, j) : LCS(i, j - 1);
        }
    }
    uint32_t idx = LCS(alen, blen);
    kstr result = NULL;
    if (!getlen && !getidx) result = kstr_grow_zero(kstr_empty(), idx);
    void *arraylen = NULL;
    long arrays = 0;
    if (getidx) {
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "matches");
        arraylen = reply_deferred_len(c);
    }
    /* Walk back from the end of the table. Matched characters form the
     * LCS; runs of matches adjacent in both strings form one range. */
    size_t i = alen, j = blen;
    int have_range = 0;
    long long as = 0, ae = 0, bs = 0, be = 0;
    int computelcs = getidx || !getlen;
    while (computelcs && i > 0 && j > 0) {
        if (a[i - 1] == b[j - 1]) {
            if (result) result[idx - 1] = a[i - 1];
            idx--;
            if (have_range && as == (long long)i && bs == (long long)j) {
                as--;
                bs--;
            } else {
                if (have_range && getidx) lcs_emit(c, as, ae, bs, be, minmatchlen, withmatchlen, &arrays);
                have_range = 1;
                as = ae = (long long)i - 1;
                bs = be = (long long)j - 1;
            }
            i--;
            j--;
        } else if (LCS(i - 1, j) > LCS(i, j - 1)) {
            i--;
        } else {
            j--;
        }
    }
    if (have_range && getidx) lcs_emit(c, as, ae, bs, be, minmatchlen, withmatchlen, &arrays);
    uint32_t total = LCS(alen, blen);
#undef LCS
    zfree(dp);
    if (getidx) {
        reply_set_deferred_array_len(c, arraylen, arrays);
        reply_bulk_cstr(c, "len");
        reply_ll(c, total);
    } else if (getlen) {
        reply_ll(c, total);
    } else {
        reply_bulk(c, result, kstr_len(result));
    }
    kstr_free(result);
}

command string_commands[] = {
    {"get", get_command, 2, "readonly fast", 1, 1, 1, "string", "1.0.0", "Returns the string value of a key.", NULL},
    {"set", set_command, -3, "write denyoom", 1, 1, 1, "string", "1.0.0", "Sets the string value of a key.", NULL},
    {"setnx", setnx_command, 3, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Set the value of a key only if it does not exist.", NULL},
    {"setex", setex_command, 4, "write denyoom", 1, 1, 1, "string", "2.0.0", "Set the value and expiration in seconds.", NULL},
    {"psetex", psetex_command, 4, "write denyoom", 1, 1, 1, "string", "2.6.0", "Set the value and expiration in milliseconds.", NULL},
    {"getset", getset_command, 3, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Set a new value and return the old one.", NULL},
    {"getdel", getdel_command, 2, "write fast", 1, 1, 1, "string", "6.2.0", "Get the value and delete the key.", NULL},
    {"getex", getex_command, -2, "write fast", 1, 1, 1, "string", "6.2.0", "Get the value and optionally set its expiration.", NULL},
    {"mget", mget_command, -2, "readonly fast", 1, -1, 1, "string", "1.0.0", "Get the values of several keys.", NULL},
    {"mset", mset_command, -3, "write denyoom", 1, -1, 2, "string", "1.0.1", "Set several keys.", NULL},
    {"msetnx", msetnx_command, -3, "write denyoom", 1, -1, 2, "string", "1.0.1", "Set several keys only if none exists.", NULL},
    {"append", append_command, 3, "write denyoom fast", 1, 1, 1, "string", "2.0.0", "Append to the value of a key.", NULL},
    {"strlen", strlen_command, 2, "readonly fast", 1, 1, 1, "string", "2.2.0", "Length of the value of a key.", NULL},
    {"getrange", getrange_command, 4, "readonly", 1, 1, 1, "string", "2.4.0", "Substring of the value of a key.", NULL},
    {"substr", getrange_command, 4, "readonly", 1, 1, 1, "string", "1.0.0", "Substring of the value of a key.", NULL},
    {"setrange", setrange_command, 4, "write denyoom", 1, 1, 1, "string", "2.2.0", "Overwrite part of the value of a key.", NULL},
    {"incr", incr_command, 2, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key by one.", NULL},
    {"decr", decr_command, 2, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key by one.", NULL},
    {"incrby", incrby_command, 3, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key.", NULL},
    {"decrby", decrby_command, 3, "write denyoom fast", 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key.", NULL},
    {"incrbyfloat", incrbyfloat_command, 3, "write denyoom fast", 1, 1, 1, "string", "2.6.0", "Increment the float value of a key.", NULL},
    {"lcs", lcs_command, -3, "readonly", 1, 2, 1, "string", "7.0.0", "Longest common subsequence of two strings.", NULL},
    {0},
};
