/*
 * function_dump: FUNCTION DUMP and FUNCTION RESTORE in Redis 7.0's payload
 * format, so that a dump taken from Redis restores in Keel and the
 * reverse: for each library the FUNCTION2 RDB opcode (245) and its code
 * as an RDB string, then the RDB version (2 bytes, little-endian: 10)
 * and the CRC-64 of everything before it (8 bytes, little-endian).
 * Keel writes its strings uncompressed; it reads Redis's plain, integer
 * and LZF-compressed strings.
 */
#include "script/functions.h"
#include "script/script.h"
#include "core/cmdutil.h"
#include "lib/crc64.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <stdio.h>
#include <string.h>

#define RDB_VERSION 10
#define OPCODE_FUNCTION_PRE_GA 246
#define OPCODE_FUNCTION2 245

/* ---- writing ---- */

static kstr put_len(kstr s, uint64_t len) {
    unsigned char b[9];
    size_t n;
    if (len < 64) {
        b[0] = (unsigned char)len;
        n = 1;
    } else if (len < 16384) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)len;
        n = 2;
    } else if (len <= 0xffffffffULL) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        n = 5;
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        n = 9;
    }
    return kstr_cat_len(s, b, n);
}

void function_dump_command(client *c) {
    kstr p = kstr_empty();
    for (int i = 0; i < functions_library_count(); i++) {
        library *lib = functions_library(i);
        unsigned char op = OPCODE_FUNCTION2;
        p = kstr_cat_len(p, &op, 1);
        p = put_len(p, kstr_len(lib->code));
        p = kstr_cat_len(p, lib->code, kstr_len(lib->code));
    }
    unsigned char footer[10] = {RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff};
    p = kstr_cat_len(p, footer, 2);
    uint64_t crc = crc64(0, p, kstr_len(p));
    for (int i = 0; i < 8; i++) footer[2 + i] = (unsigned char)(crc >> (8 * i));
    p = kstr_cat_len(p, footer + 2, 8);
    reply_bulk(c, p, kstr_len(p));
    kstr_free(p);
}

/* ---- reading ---- */

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static int get_len(reader *r, uint64_t *len, int *encoded) {
    if (r->p >= r->end) return -1;
    unsigned char b = *r->p++;
    *encoded = 0;
    switch (b >> 6) {
    case 0: *len = b & 0x3f; return 0;
    case 1:
        if (r->p >= r->end) return -1;
        *len = ((uint64_t)(b & 0x3f) << 8) | *r->p++;
        return 0;
    case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (!n || r->end - r->p < n) return -1;
        *len = 0;
        for (int i = 0; i < n; i++) *len = (*len << 8) | *r->p++;
        return 0;
    }
    default:
        *encoded = 1;
        *len = b & 0x3f;
        return 0;
    }
}

/* LZF, as Redis compresses RDB strings. Returns -1 on corrupt input. */
static int lzf_expand(const unsigned char *in, size_t inlen, unsigned char *out, size_t outlen) {
    const unsigned char *ip = in, *iend = in + inlen;
    unsigned char *op = out, *oend = out + outlen;
    while (ip < iend) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t n = ctrl + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n) return -1;
            memcpy(op, ip, n);
            op += n;
            ip += n;
        } else {
            size_t n = ctrl >> 5;
            if (n == 7) {
                if (ip >= iend) return -1;
                n += *ip++;
            }
            if (ip >= iend) return -1;
            size_t back = ((ctrl & 0x1f) << 8) + *ip++ + 1;
            n += 2;
            if (back > (size_t)(op - out) || (size_t)(oend - op) < n) return -1;
            for (size_t i = 0; i < n; i++, op++) *op = *(op - back);
        }
    }
    return op == oend ? 0 : -1;
}

static kstr get_string(reader *r) {
    uint64_t len;
    int encoded;
    if (get_len(r, &len, &encoded) < 0) return NULL;
    if (!encoded) {
        if ((uint64_t)(r->end - r->p) < len) return NULL;
        kstr s = kstr_new_len(r->p, (size_t)len);
        r->p += len;
        return s;
    }
    if (len <= 2) { /* integer encodings: 8, 16, 32 bits, little-endian */
        int n = 1 << len;
        if (r->end - r->p < n) return NULL;
        int64_t v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | r->p[i];
        if (n == 1) v = (int8_t)v;
        else if (n == 2) v = (int16_t)v;
        else v = (int32_t)v;
        r->p += n;
        return kstr_from_ll(v);
    }
    if (len != 3) return NULL;
    uint64_t clen, olen;
    if (get_len(r, &clen, &encoded) < 0 || encoded || get_len(r, &olen, &encoded) < 0 || encoded) return NULL;
    if ((uint64_t)(r->end - r->p) < clen || olen > (1ULL << 32)) return NULL;
    kstr s = kstr_new_len(NULL, (size_t)olen);
    if (lzf_expand(r->p, (size_t)clen, (unsigned char *)s, (size_t)olen) < 0) {
        kstr_free(s);
        return NULL;
    }
    r->p += clen;
    return s;
}

static int payload_ok(const unsigned char *p, size_t len) {
    if (len < 10) return 0;
    const unsigned char *f = p + len - 10;
    int ver = f[0] | (f[1] << 8);
    if (ver > RDB_VERSION) return 0;
    uint64_t crc = 0;
    for (int i = 7; i >= 0; i--) crc = (crc << 8) | f[2 + i];
    return crc == 0 || crc64(0, p, len - 8) == crc;
}

/* The libraries' code in the payload; -1 with *err on a bad payload. */
static int parse_payload(const kstr payload, kstr **codes, int *n, kstr *err) {
    reader r = {(const unsigned char *)payload, (const unsigned char *)payload + kstr_len(payload) - 10};
    *codes = NULL;
    *n = 0;
    while (r.p < r.end) {
        unsigned char type = *r.p++;
        if (type == OPCODE_FUNCTION_PRE_GA) {
            *err = kstr_new("Pre-GA function format not supported");
            return -1;
        }
        if (type != OPCODE_FUNCTION2) {
            *err = kstr_new("given type is not a function");
            return -1;
        }
        kstr code = get_string(&r);
        if (!code) {
            *err = kstr_new("failed loading the given functions payload");
            return -1;
        }
        *codes = zrealloc(*codes, sizeof(kstr) * (size_t)(*n + 1));
        (*codes)[(*n)++] = code;
    }
    return 0;
}

static void free_codes(kstr *codes, int n) {
    for (int i = 0; i < n; i++) kstr_free(codes[i]);
    zfree(codes);
}

/* Undo: drop what was loaded, put the previous libraries back. */
static void roll_back(library **saved, int nsaved) {
    while (functions_library_count()) functions_delete_library(functions_library(0));
    functions_reattach_all(saved, nsaved, 0);
}

/* Join the saved libraries with the loaded ones under the policy. */
static int join_saved(library **saved, int nsaved, int replace, kstr *err) {
    for (int i = 0; i < nsaved; i++) {
        if (!saved[i]) continue;
        if (functions_find_library(saved[i]->name)) {
            if (!replace) {
                *err = kstr_cat_printf(kstr_empty(), "Library %s already exists", saved[i]->name);
                return -1;
            }
            continue;
        }
        for (int j = 0; j < saved[i]->nfns; j++) {
            kstr fname = saved[i]->fns[j].name;
            for (int k = 0; k < functions_library_count(); k++) {
                library *lib = functions_library(k);
                for (int m = 0; m < lib->nfns; m++) {
                    if (!strcmp(lib->fns[m].name, fname)) {
                        *err = kstr_cat_printf(kstr_empty(), "Function %s already exists", fname);
                        return -1;
                    }
                }
            }
        }
    }
    return 0;
}

void function_restore_command(client *c) {
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    if (c->argc > 4) {
        reply_error_subcommand_args(c);
        return;
    }
    if (c->argc == 4) {
        if (arg_is(c->argv[3], "append")) policy = APPEND;
        else if (arg_is(c->argv[3], "replace")) policy = REPLACE;
        else if (arg_is(c->argv[3], "flush")) policy = FLUSH;
        else {
            reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    kstr payload = c->argv[2];
    if (!payload_ok((const unsigned char *)payload, kstr_len(payload))) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    kstr *codes, err = NULL;
    int n;
    if (parse_payload(payload, &codes, &n, &err) < 0) {
        free_codes(codes, n);
        reply_errorf(c, "ERR %s", err);
        kstr_free(err);
        return;
    }
    int nsaved;
    library **saved = functions_detach_all(&nsaved);
    for (int i = 0; i < n; i++) {
        kstr name = functions_create_library(codes[i], kstr_len(codes[i]), 0, &err);
        if (!name) break;
        kstr_free(name);
    }
    free_codes(codes, n);
    if (!err && policy != FLUSH) join_saved(saved, nsaved, policy == REPLACE, &err);
    if (err) {
        roll_back(saved, nsaved);
        reply_errorf(c, "ERR %s", err);
        kstr_free(err);
        return;
    }
    /* Keep the saved libraries not replaced by a restored one. */
    library **keep = zmalloc(sizeof(library *) * (size_t)(nsaved ? nsaved : 1));
    library **drop = zmalloc(sizeof(library *) * (size_t)(nsaved ? nsaved : 1));
    int nkeep = 0, ndrop = 0;
    for (int i = 0; i < nsaved; i++) {
        if (policy == FLUSH || functions_find_library(saved[i]->name)) drop[ndrop++] = saved[i];
        else keep[nkeep++] = saved[i];
    }
    zfree(saved);
    functions_reattach_all(keep, nkeep, 0);
    functions_reattach_all(drop, ndrop, 1);
    reply_ok(c);
}

/* ---- libraries in RDB files and AOF bases (script.h) ---- */

struct script_libraries {
    library **all;
    int n;
};

int script_library_count(void) { return functions_library_count(); }

const char *script_library_code(int i, size_t *len) {
    library *lib = functions_library(i);
    *len = kstr_len(lib->code);
    return lib->code;
}

int script_library_load(const char *code, size_t len, int replace, char *err, size_t errlen) {
    kstr why = NULL;
    kstr name = functions_create_library(code, len, replace, &why);
    if (!name) {
        snprintf(err, errlen, "%s", why ? why : "unknown error");
        kstr_free(why);
        return -1;
    }
    kstr_free(name);
    return 0;
}

script_libraries *script_libraries_detach(void) {
    script_libraries *saved = zmalloc(sizeof(*saved));
    saved->all = functions_detach_all(&saved->n);
    return saved;
}

void script_libraries_restore(script_libraries *saved) {
    int n;
    library **loaded = functions_detach_all(&n);
    functions_reattach_all(loaded, n, 1);
    functions_reattach_all(saved->all, saved->n, 0);
    zfree(saved);
}

void script_libraries_free(script_libraries *saved) {
    functions_reattach_all(saved->all, saved->n, 1);
    zfree(saved);
}
