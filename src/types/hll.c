/*
 * hll: PFADD PFCOUNT PFMERGE PFDEBUG on top of lib/hyperloglog.
 *
 * A HyperLogLog is an ordinary string value holding Redis's HYLL bytes, so
 * TYPE says string, GET returns the bytes, and a value captured from Redis
 * counts the same here (and back). Every command that writes (including
 * PFCOUNT, which caches the cardinality in the header) first turns an
 * inline value into a raw kstr, as Redis unshares its string; OBJECT
 * ENCODING therefore says "raw" afterwards, like Redis.
 *
 * Validity follows Redis: the cheap header check (magic, encoding, exact
 * dense size) decides "not a HyperLogLog" (a WRONGTYPE error); a sparse
 * body that does not decode is found later, by the operation that walks
 * it, and reported as INVALIDOBJ.
 *
 * Memory: a sparse HLL grows a few bytes per new register, for the whole
 * life of the key. Growing its kstr by doubling (the generic policy) leaves
 * on average a third of each value unused, so PFADD reserves room itself,
 * about 1/8 at a time (strval_reserve_tight). With 100k keys of a thousand
 * elements that slack is most of the value.
 *
 * PFMERGE keeps a sparse result when every input is sparse, as Redis does
 * (a merged set of small HLLs stays small); the sparse code is rebuilt
 * from the merged register array by sparse_from_registers below.
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hyperloglog.h"
#include "lib/random.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/strval.h"

#include <stdio.h>
#include <string.h>

static const char *ERR_NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";
static const char *ERR_CORRUPT = "INVALIDOBJ Corrupted HLL object detected";

/* Room a single sparse update may need (an opcode split into three). */
#define HLL_UPDATE_ROOM 8

/* ---- validity ---- */

static int hll_header_ok(const char *p, size_t len) {
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0) return 0;
    if ((uint8_t)p[4] > HLL_SPARSE) return 0;
    return (uint8_t)p[4] != HLL_DENSE || len == HLL_DENSE_SIZE;
}

/* 1 if e is a HyperLogLog; otherwise replies the error and returns 0. An
 * int-encoded value is never one (it is not a byte string in Redis). */
static int check_hll(client *c, const entry *e) {
    if (entry_type(e) != TYPE_STRING) {
        reply_error_wrongtype(c);
        return 0;
    }
    char buf[32];
    size_t len;
    const char *p = entry_string(e, buf, &len);
    if (entry_encoding(e) == ENC_INT || !hll_header_ok(p, len)) {
        reply_error(c, ERR_NOT_HLL);
        return 0;
    }
    return 1;
}

/* ---- building a sparse value from registers ---- */

/* Append the opcodes for a run of `len` registers of value `val`. */
static size_t sparse_emit_run(uint8_t *out, int val, long len) {
    size_t n = 0;
    while (len > 0) {
        if (val == 0 && len > 64) {
            long l = len > HLL_REGISTERS ? HLL_REGISTERS : len;
            out[n++] = (uint8_t)(0x40 | ((l - 1) >> 8));
            out[n++] = (uint8_t)((l - 1) & 0xff);
            len -= l;
        } else if (val == 0) {
            out[n++] = (uint8_t)(len - 1);
            len = 0;
        } else {
            long l = len > 4 ? 4 : len;
            out[n++] = (uint8_t)(0x80 | ((val - 1) << 2) | (l - 1));
            len -= l;
        }
    }
    return n;
}

/* A sparse HLL for regs, or NULL if it needs the dense form (a value over
 * 32, or longer than max_bytes). */
static kstr sparse_from_registers(const uint8_t *regs, size_t max_bytes) {
    /* Worst case: one byte per register, plus the header. */
    uint8_t *body = zmalloc(HLL_REGISTERS + 2);
    size_t n = 0;
    long i = 0;
    kstr h = NULL;
    while (i < HLL_REGISTERS) {
        int v = regs[i];
        if (v > 32) goto out;
        long j = i + 1;
        while (j < HLL_REGISTERS && regs[j] == v) j++;
        n += sparse_emit_run(body + n, v, j - i);
        if (HLL_HDR_SIZE + n > max_bytes) goto out;
        i = j;
    }
    h = hll_create(); /* right header, cache invalid */
    kstr_set_len(h, HLL_HDR_SIZE);
    h = kstr_cat_len(h, body, n);
    h = kstr_shrink_to_fit(h);
out:
    zfree(body);
    return h;
}

/* ---- PFADD ---- */

static void pfadd_command(client *c) {
    kstr key = c->argv[1];
    entry *e = lookup_write(c, key);
    int updated = 0;
    kstr h;
    if (!e) {
        h = hll_create();
        e = strval_add_raw(c, key, h);
        updated = 1;
    } else {
        if (!check_hll(c, e)) return;
        e = strval_make_raw(c, e, &h);
    }
    for (int j = 2; j < c->argc; j++) {
        int changed;
        if (hll_is_sparse(h)) h = strval_reserve_tight(h, HLL_UPDATE_ROOM);
        h = hll_add(h, c->argv[j], kstr_len(c->argv[j]), &changed, (size_t)server.hll_sparse_max_bytes);
        entry_set_ptr(e, h);
        if (changed < 0) {
            reply_error(c, ERR_CORRUPT);
            return;
        }
        updated |= changed;
    }
    if (updated) signal_modified_key(c, c->db, key);
    if (updated) notify_keyspace_event(NOTIFY_STRING, "pfadd", key, db_id(c->db));
    reply_ll(c, updated);
}

/* ---- PFCOUNT ---- */

static void pfcount_one(client *c) {
    kstr key = c->argv[1];
    entry *e = lookup_write(c, key);
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    if (!check_hll(c, e)) return;
    kstr h;
    e = strval_make_raw(c, e, &h);
    int cached = ((uint8_t)h[15] & 0x80) == 0;
    int invalid;
    uint64_t card = hll_count(h, &invalid);
    if (invalid) {
        reply_error(c, ERR_CORRUPT);
        return;
    }
    if (!cached) signal_modified_key(c, c->db, key);
    reply_ll(c, (long long)card);
}

/* Merge the HLLs at argv[first..] into regs. Missing keys count as empty.
 * Returns 0 after replying an error; *any_dense tells whether an input was
 * dense. */
static int merge_keys(client *c, int first, uint8_t *regs, int *any_dense) {
    *any_dense = 0;
    for (int j = first; j < c->argc; j++) {
        entry *e = lookup_read(c, c->argv[j]);
        if (!e) continue;
        if (!check_hll(c, e)) return 0;
        char buf[32];
        size_t len;
        const char *p = entry_string(e, buf, &len);
        if ((uint8_t)p[4] == HLL_DENSE) *any_dense = 1;
        if (hll_merge_into_registers(regs, p, len) != 0) {
            reply_error(c, ERR_CORRUPT);
            return 0;
        }
    }
    return 1;
}

static void pfcount_command(client *c) {
    if (c->argc == 2) {
        pfcount_one(c);
        return;
    }
    uint8_t *regs = zcalloc(HLL_REGISTERS);
    int any_dense;
    if (merge_keys(c, 1, regs, &any_dense)) reply_ll(c, (long long)hll_count_registers(regs));
    zfree(regs);
}

/* ---- PFMERGE ---- */

static void pfmerge_command(client *c) {
    uint8_t *regs = zcalloc(HLL_REGISTERS);
    int any_dense;
    /* The destination is one of the inputs: its registers are kept. */
    if (!merge_keys(c, 1, regs, &any_dense)) {
        zfree(regs);
        return;
    }
    kstr h = any_dense ? NULL : sparse_from_registers(regs, (size_t)server.hll_sparse_max_bytes);
    if (!h) h = hll_from_registers(regs);
    zfree(regs);
    kstr key = c->argv[1];
    entry *old = lookup_write(c, key);
    if (old) db_replace(c->db, old, entry_with_ptr(old, TYPE_STRING, ENC_RAW, h), 0);
    else strval_add_raw(c, key, h);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_STRING, "pfadd", key, db_id(c->db));
    reply_ok(c);
}

/* ---- PFDEBUG (GETREG, ENCODING, TODENSE, DECODE) ---- */

/* "Z:n XZ:n v:val,n ..." for a sparse body, or NULL if it is corrupt. */
static kstr sparse_decode(const kstr h) {
    const uint8_t *p = (const uint8_t *)h + HLL_HDR_SIZE, *end = (const uint8_t *)h + kstr_len(h);
    kstr out = kstr_empty();
    while (p < end) {
        if ((*p & 0xc0) == 0) {
            out = kstr_cat_printf(out, "z:%d ", (*p & 0x3f) + 1);
            p++;
        } else if ((*p & 0xc0) == 0x40) {
            if (p + 1 >= end) break;
            out = kstr_cat_printf(out, "Z:%d ", (((*p & 0x3f) << 8) | p[1]) + 1);
            p += 2;
        } else {
            out = kstr_cat_printf(out, "v:%d,%d ", ((*p >> 2) & 0x1f) + 1, (*p & 3) + 1);
            p++;
        }
    }
    if (p != end) {
        kstr_free(out);
        return NULL;
    }
    if (kstr_len(out)) kstr_set_len(out, kstr_len(out) - 1);
    return out;
}

static void pfdebug_getreg(client *c, entry *e, kstr h, int reply_regs) {
    int was_sparse = hll_is_sparse(h);
    kstr d = hll_to_dense(h);
    if (hll_is_sparse(d)) {
        reply_error(c, ERR_CORRUPT);
        return;
    }
    entry_set_ptr(e, d);
    if (was_sparse) signal_modified_key(c, c->db, c->argv[2]);
    if (!reply_regs) {
        reply_ll(c, was_sparse);
        return;
    }
    uint8_t *regs = zcalloc(HLL_REGISTERS);
    hll_merge_into_registers(regs, d, kstr_len(d));
    reply_array_len(c, HLL_REGISTERS);
    for (long i = 0; i < HLL_REGISTERS; i++) reply_ll(c, regs[i]);
    zfree(regs);
}

/* ---- PFSELFTEST ----
 * Keel's own checks of its HyperLogLog code (Redis's command name and
 * replies, Keel's tests): registers survive the dense encoding, the sparse
 * and dense forms of one set of elements count alike, and counts stay
 * within five standard errors (1.04/sqrt(16384), 0.81%) of the truth. */
static const char *selftest_registers(void) {
    uint8_t *regs = zmalloc(HLL_REGISTERS), *back = zcalloc(HLL_REGISTERS);
    for (long i = 0; i < HLL_REGISTERS; i++) regs[i] = (uint8_t)random_below(64);
    kstr d = hll_from_registers(regs);
    hll_merge_into_registers(back, d, kstr_len(d));
    int same = !memcmp(regs, back, HLL_REGISTERS);
    kstr_free(d);
    zfree(regs);
    zfree(back);
    return same ? NULL : "TESTFAILED Register error";
}

static const char *selftest_counts(void) {
    const char *fail = NULL;
    kstr sparse = hll_create(), dense = hll_to_dense(hll_create());
    uint64_t seed = random_u64();
    for (long n = 1; n <= 100000 && !fail; n++) {
        char ele[32];
        int len = snprintf(ele, sizeof(ele), "%llu:%ld", (unsigned long long)seed, n), changed;
        sparse = hll_add(sparse, ele, (size_t)len, &changed, 12000); /* sparse for the first few thousand */
        dense = hll_add(dense, ele, (size_t)len, &changed, 0);
        if (n % 1000) continue;
        int bad = 0;
        uint64_t a = hll_count(sparse, &bad), b = hll_count(dense, &bad);
        double err = ((double)b - (double)n) / (double)n;
        if (bad || a != b) fail = "TESTFAILED sparse and dense counts differ";
        else if (err > 0.0405 || err < -0.0405) fail = "TESTFAILED Too big error";
    }
    kstr_free(sparse);
    kstr_free(dense);
    return fail;
}

static void pfselftest_command(client *c) {
    const char *fail = selftest_registers();
    if (!fail) fail = selftest_counts();
    if (fail) reply_error(c, fail);
    else reply_ok(c);
}

static void pfdebug_command(client *c) {
    kstr sub = c->argv[1];
    entry *e = lookup_write(c, c->argv[2]);
    if (!e) {
        reply_error(c, "ERR The specified key does not exist");
        return;
    }
    if (!check_hll(c, e)) return;
    kstr h;
    e = strval_make_raw(c, e, &h);
    if (arg_is(sub, "getreg")) {
        pfdebug_getreg(c, e, h, 1);
    } else if (arg_is(sub, "todense")) {
        pfdebug_getreg(c, e, h, 0);
    } else if (arg_is(sub, "encoding")) {
        reply_status(c, hll_is_sparse(h) ? "sparse" : "dense");
    } else if (arg_is(sub, "decode")) {
        if (!hll_is_sparse(h)) {
            reply_error(c, "ERR HLL encoding is not sparse");
            return;
        }
        kstr d = sparse_decode(h);
        if (!d) {
            reply_error(c, ERR_CORRUPT);
            return;
        }
        reply_status(c, d);
        kstr_free(d);
    } else {
        reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%s'", sub);
    }
}

command hll_commands[] = {
    {"pfadd", pfadd_command, -2, "write denyoom fast", 1, 1, 1, "hyperloglog", "2.8.9", "Adds the specified elements to the specified HyperLogLog.", NULL},
    {"pfcount", pfcount_command, -2, "readonly may_replicate", 1, -1, 1, "hyperloglog", "2.8.9", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", NULL},
    {"pfmerge", pfmerge_command, -2, "write denyoom", 1, -1, 1, "hyperloglog", "2.8.9", "Merge N different HyperLogLogs into a single one.", NULL},
    {"pfselftest", pfselftest_command, 1, "admin", 0, 0, 0, "hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values", NULL},
    {"pfdebug", pfdebug_command, 3, "write denyoom admin", 2, 2, 1, "hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values", NULL},
    {0},
};
