/*
 * bitmap: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
 *
 * A bitmap is an ordinary string value; bit 0 is the most significant bit
 * of the first byte, as in Redis, so values move between the two servers
 * unchanged. Reads work on any string encoding (an int-encoded value is
 * read through its digits); writes turn the value raw and modify the kstr
 * in place (see strval.h), growing it with zero bytes when a write reaches
 * past its end.
 *
 * Ranges (BITCOUNT, BITPOS) are converted once into an inclusive range of
 * bit positions; the scanning code then only deals with "bits sbit..ebit"
 * and handles the partial first and last bytes with masks and the middle
 * 8 bytes at a time (popcount for counting, "all 0x00/0xff" skips for
 * searching). That keeps BYTE and BIT ranges on one code path.
 *
 * BITFIELD arithmetic is done in 128 bits, so overflow detection is a plain
 * range comparison for every width from 1 to 64 instead of per-case tricks.
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/strval.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

static const char *ERR_OFFSET = "ERR bit offset is not an integer or out of range";
static const char *ERR_BIT = "ERR bit is not an integer or out of range";
static const char *ERR_BFTYPE =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/* ---- argument parsing ---- */

/* A bit offset; with allow_hash, "#n" means n * bits (BITFIELD). */
static int parse_bit_offset(client *c, const kstr arg, int allow_hash, int bits, uint64_t *out) {
    const char *p = arg;
    size_t len = kstr_len(arg);
    int hash = allow_hash && len > 0 && p[0] == '#';
    long long v;
    if (!string_to_ll(p + hash, len - (size_t)hash, &v) || v < 0) goto bad;
    if (hash) {
        if (v > LLONG_MAX / bits) goto bad;
        v *= bits;
    }
    if ((v >> 3) >= server.proto_max_bulk_len) goto bad;
    *out = (uint64_t)v;
    return 1;
bad:
    reply_error(c, ERR_OFFSET);
    return 0;
}

/* "i1".."i64" or "u1".."u63". */
static int parse_bitfield_type(client *c, const kstr arg, int *is_signed, int *bits) {
    size_t len = kstr_len(arg);
    long long n;
    if (len < 2 || (arg[0] != 'i' && arg[0] != 'I' && arg[0] != 'u' && arg[0] != 'U')) goto bad;
    *is_signed = arg[0] == 'i' || arg[0] == 'I';
    if (!string_to_ll(arg + 1, len - 1, &n) || n < 1 || n > (*is_signed ? 64 : 63)) goto bad;
    *bits = (int)n;
    return 1;
bad:
    reply_error(c, ERR_BFTYPE);
    return 0;
}

/* ---- bit access ---- */

static inline int bit_at(const uint8_t *p, size_t len, uint64_t pos) {
    uint64_t byte = pos >> 3;
    if (byte >= len) return 0;
    return (p[byte] >> (7 - (pos & 7))) & 1;
}

static inline void bit_put(uint8_t *p, uint64_t pos, int on) {
    uint8_t mask = (uint8_t)(1u << (7 - (pos & 7)));
    if (on) p[pos >> 3] |= mask;
    else p[pos >> 3] &= (uint8_t)~mask;
}

/* Unsigned value of `bits` bits at `pos`, bits past the end reading 0. */
static uint64_t field_get(const uint8_t *p, size_t len, uint64_t pos, int bits) {
    uint64_t v = 0;
    for (int i = 0; i < bits; i++) v = (v << 1) | (uint64_t)bit_at(p, len, pos + (uint64_t)i);
    return v;
}

static void field_put(uint8_t *p, uint64_t pos, int bits, uint64_t v) {
    for (int i = 0; i < bits; i++) bit_put(p, pos + (uint64_t)i, (int)((v >> (bits - 1 - i)) & 1));
}

static int64_t sign_extend(uint64_t v, int bits) {
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

/* Mask of the bits of a byte from bit `from` (0 = MSB) to `to`, inclusive. */
static inline uint8_t byte_mask(int from, int to) {
    return (uint8_t)((0xFFu >> from) & (0xFFu << (7 - to)));
}

static uint64_t popcount_bytes(const uint8_t *p, size_t n) {
    uint64_t count = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        count += (uint64_t)(__builtin_popcountll(w[0]) + __builtin_popcountll(w[1]) +
                            __builtin_popcountll(w[2]) + __builtin_popcountll(w[3]));
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) count += (uint64_t)__builtin_popcount(p[i]);
    return count;
}

/* Set bits in the inclusive bit range [sbit, ebit] (within the string). */
static uint64_t count_bits(const uint8_t *p, uint64_t sbit, uint64_t ebit) {
    uint64_t sb = sbit >> 3, eb = ebit >> 3;
    if (sb == eb) return (uint64_t)__builtin_popcount(p[sb] & byte_mask((int)(sbit & 7), (int)(ebit & 7)));
    uint64_t n = (uint64_t)__builtin_popcount(p[sb] & byte_mask((int)(sbit & 7), 7));
    n += (uint64_t)__builtin_popcount(p[eb] & byte_mask(0, (int)(ebit & 7)));
    return n + popcount_bytes(p + sb + 1, (size_t)(eb - sb - 1));
}

/* First bit equal to `bit` in [sbit, ebit], or -1. */
static long long find_bit(const uint8_t *p, uint64_t sbit, uint64_t ebit, int bit) {
    uint64_t sb = sbit >> 3, eb = ebit >> 3;
    uint64_t no_candidate = bit ? 0 : UINT64_MAX; /* a word to skip */
    uint64_t b = sb;
    while (b <= eb) {
        if (b > sb && b + 8 <= eb) { /* a whole word strictly inside */
            uint64_t w;
            memcpy(&w, p + b, 8);
            if (w == no_candidate) {
                b += 8;
                continue;
            }
        }
        int from = b == sb ? (int)(sbit & 7) : 0;
        int to = b == eb ? (int)(ebit & 7) : 7;
        unsigned v = (bit ? p[b] : (uint8_t)~p[b]) & byte_mask(from, to);
        if (v) return (long long)(b * 8 + (uint64_t)__builtin_clz(v) - 24);
        b++;
    }
    return -1;
}

/* ---- string access ---- */

/* The bytes of a string entry (e may be NULL: empty). */
static const uint8_t *string_bytes(const entry *e, char *buf, size_t *len) {
    if (!e) {
        *len = 0;
        return (const uint8_t *)"";
    }
    return (const uint8_t *)entry_string(e, buf, len);
}

/* The string at key as a writable kstr at least `minlen` bytes long,
 * created if missing (zero-padded). NULL after replying WRONGTYPE. */
/* *grown says whether the key was created or lengthened: such a command
 * changed the dataset even when the bits it writes were already so. */
static kstr writable_string(client *c, const kstr key, size_t minlen, entry **out, int *grown) {
    entry *e = lookup_write(c, key);
    if (e && entry_type(e) != TYPE_STRING) {
        reply_error_wrongtype(c);
        return NULL;
    }
    kstr s;
    *grown = 1;
    if (!e) {
        s = kstr_new_len(NULL, minlen); /* exact, like SET */
        e = strval_add_raw(c, key, s);
    } else {
        e = strval_make_raw(c, e, &s);
        if (kstr_len(s) < minlen) {
            s = strval_grow_zero(s, minlen);
            entry_set_ptr(e, s);
        } else {
            *grown = 0;
        }
    }
    *out = e;
    return s;
}

/* ---- SETBIT / GETBIT ---- */

static void setbit_command(client *c) {
    uint64_t pos;
    long long on;
    if (!parse_bit_offset(c, c->argv[2], 0, 0, &pos)) return;
    if (!string_to_ll(c->argv[3], kstr_len(c->argv[3]), &on) || (on != 0 && on != 1)) {
        reply_error(c, ERR_BIT);
        return;
    }
    entry *e;
    int grown;
    kstr s = writable_string(c, c->argv[1], (size_t)(pos >> 3) + 1, &e, &grown);
    if (!s) return;
    int old = bit_at((uint8_t *)s, kstr_len(s), pos);
    bit_put((uint8_t *)s, pos, (int)on);
    /* Writing a bit as it was changes nothing (no dirty, no WATCH hit). */
    if (grown || old != on) {
        signal_modified_key(c, c->db, c->argv[1]);
        notify_keyspace_event(NOTIFY_STRING, "setbit", c->argv[1], db_id(c->db));
    }
    reply_ll(c, old);
}

static void getbit_command(client *c) {
    uint64_t pos;
    if (!parse_bit_offset(c, c->argv[2], 0, 0, &pos)) return;
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    char buf[32];
    size_t len;
    const uint8_t *p = string_bytes(e, buf, &len);
    reply_ll(c, bit_at(p, len, pos));
}

/* ---- BITCOUNT / BITPOS ---- */

/* Parse an optional BYTE|BIT unit argument. */
static int parse_unit(client *c, const kstr arg, int *isbit) {
    if (arg_is(arg, "bit")) *isbit = 1;
    else if (arg_is(arg, "byte")) *isbit = 0;
    else {
        reply_error_syntax(c);
        return 0;
    }
    return 1;
}

/* Clamp [start, end] (negatives count from the end) into [0, total-1];
 * returns 0 if the range is empty. */
static int clamp_range(long long *start, long long *end, long long total) {
    if (*start < 0) *start += total;
    if (*end < 0) *end += total;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= total) *end = total - 1;
    return *start <= *end;
}

static void bitcount_command(client *c) {
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, 0);
        return;
    }
    char buf[32];
    size_t len;
    const uint8_t *p = string_bytes(e, buf, &len);
    long long start = 0, end = -1;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (!parse_ll(c, c->argv[2], &start) || !parse_ll(c, c->argv[3], &end)) return;
        if (c->argc == 5 && !parse_unit(c, c->argv[4], &isbit)) return;
        if (start < 0 && end < 0 && start > end) {
            reply_ll(c, 0);
            return;
        }
    } else if (c->argc != 2) {
        reply_error_syntax(c);
        return;
    }
    long long total = isbit ? (long long)len * 8 : (long long)len;
    if (!clamp_range(&start, &end, total)) {
        reply_ll(c, 0);
        return;
    }
    uint64_t sbit = isbit ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t ebit = isbit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    reply_ll(c, (long long)count_bits(p, sbit, ebit));
}

static void bitpos_command(client *c) {
    long long bit;
    if (!parse_ll(c, c->argv[2], &bit)) return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    int wrong;
    entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
    if (wrong) return;
    if (!e) {
        reply_ll(c, bit ? -1 : 0);
        return;
    }
    char buf[32];
    size_t len;
    const uint8_t *p = string_bytes(e, buf, &len);
    long long start = 0, end = -1;
    int isbit = 0, end_given = 0;
    if (c->argc >= 4 && c->argc <= 6) {
        if (!parse_ll(c, c->argv[3], &start)) return;
        if (c->argc == 6 && !parse_unit(c, c->argv[5], &isbit)) return;
        if (c->argc >= 5) {
            if (!parse_ll(c, c->argv[4], &end)) return;
            end_given = 1;
        }
    } else if (c->argc != 3) {
        reply_error_syntax(c);
        return;
    }
    long long total = isbit ? (long long)len * 8 : (long long)len;
    if (!clamp_range(&start, &end, total)) {
        reply_ll(c, -1);
        return;
    }
    uint64_t sbit = isbit ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t ebit = isbit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    long long pos = find_bit(p, sbit, ebit, (int)bit);
    /* Looking for a 0 with no explicit end: the string is seen as padded
     * with zeros on the right, so the answer is the first bit past it. */
    if (pos < 0 && bit == 0 && !end_given) pos = (long long)ebit + 1;
    reply_ll(c, pos);
}

/* ---- BITOP ---- */

enum { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

static void bitop_apply(int op, uint8_t *res, size_t maxlen, const uint8_t **src, const size_t *lens, int n) {
    if (op == BITOP_NOT) {
        for (size_t i = 0; i < maxlen; i++) res[i] = (uint8_t)~src[0][i];
        return;
    }
    /* Start from the first source (zero-padded), fold in the others. */
    memset(res, 0, maxlen);
    memcpy(res, src[0], lens[0]);
    for (int k = 1; k < n; k++) {
        const uint8_t *s = src[k];
        size_t l = lens[k];
        if (op == BITOP_AND) {
            for (size_t i = 0; i < l; i++) res[i] &= s[i];
            memset(res + l, 0, maxlen - l);
        } else if (op == BITOP_OR) {
            for (size_t i = 0; i < l; i++) res[i] |= s[i];
        } else {
            for (size_t i = 0; i < l; i++) res[i] ^= s[i];
        }
    }
}

static void bitop_command(client *c) {
    int op;
    if (arg_is(c->argv[1], "and")) op = BITOP_AND;
    else if (arg_is(c->argv[1], "or")) op = BITOP_OR;
    else if (arg_is(c->argv[1], "xor")) op = BITOP_XOR;
    else if (arg_is(c->argv[1], "not")) op = BITOP_NOT;
    else {
        reply_error_syntax(c);
        return;
    }
    int n = c->argc - 3;
    if (op == BITOP_NOT && n != 1) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    const uint8_t **src = zmalloc(sizeof(*src) * (size_t)n);
    size_t *lens = zmalloc(sizeof(*lens) * (size_t)n);
    char (*bufs)[32] = zmalloc(32 * (size_t)n);
    size_t maxlen = 0;
    for (int k = 0; k < n; k++) {
        int wrong;
        entry *e = lookup_read_typed(c, c->argv[3 + k], TYPE_STRING, &wrong);
        if (wrong) goto done;
        src[k] = string_bytes(e, bufs[k], &lens[k]);
        if (lens[k] > maxlen) maxlen = lens[k];
    }
    kstr dest = c->argv[2];
    if (maxlen == 0) {
        if (db_delete(c->db, dest, kstr_len(dest))) {
            signal_modified_key(c, c->db, dest);
            notify_keyspace_event(NOTIFY_GENERIC, "del", dest, db_id(c->db));
        }
        reply_ll(c, 0);
        goto done;
    }
    /* Sources point into live entries; build the result before touching
     * the destination (which may be one of them). */
    kstr res = kstr_new_len(NULL, maxlen);
    bitop_apply(op, (uint8_t *)res, maxlen, src, lens, n);
    db_set(c->db, entry_new_ptr(dest, kstr_len(dest), TYPE_STRING, ENC_RAW, res, -1), 0);
    signal_modified_key(c, c->db, dest);
    notify_keyspace_event(NOTIFY_STRING, "set", dest, db_id(c->db));
    reply_ll(c, (long long)maxlen);
done:
    zfree(src);
    zfree(lens);
    zfree(bufs);
}

/* ---- BITFIELD ---- */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { OVF_WRAP, OVF_SAT, OVF_FAIL };

typedef struct bf_op {
    int kind, is_signed, bits, overflow;
    uint64_t offset;
    long long value;
} bf_op;

/* Parse all operations (nothing is executed if any is invalid). Returns
 * the number of ops, -1 after replying an error. *writes is set if some op
 * writes, *highest to the last bit written. */
static int bitfield_parse(client *c, bf_op *ops, int *writes, uint64_t *highest) {
    int n = 0, overflow = OVF_WRAP;
    *writes = 0;
    *highest = 0;
    for (int j = 2; j < c->argc; j++) {
        int remaining = c->argc - j - 1;
        kstr a = c->argv[j];
        bf_op *op = &ops[n];
        if (arg_is(a, "get") && remaining >= 2) op->kind = BF_GET;
        else if (arg_is(a, "set") && remaining >= 3) op->kind = BF_SET;
        else if (arg_is(a, "incrby") && remaining >= 3) op->kind = BF_INCRBY;
        else if (arg_is(a, "overflow") && remaining >= 1) {
            kstr t = c->argv[++j];
            if (arg_is(t, "wrap")) overflow = OVF_WRAP;
            else if (arg_is(t, "sat")) overflow = OVF_SAT;
            else if (arg_is(t, "fail")) overflow = OVF_FAIL;
            else {
                reply_error(c, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            reply_error_syntax(c);
            return -1;
        }
        if (!parse_bitfield_type(c, c->argv[j + 1], &op->is_signed, &op->bits)) return -1;
        if (!parse_bit_offset(c, c->argv[j + 2], 1, op->bits, &op->offset)) return -1;
        op->overflow = overflow;
        if (op->kind != BF_GET) {
            if (!parse_ll(c, c->argv[j + 3], &op->value)) return -1;
            *writes = 1;
            uint64_t last = op->offset + (uint64_t)op->bits - 1;
            if (last > *highest) *highest = last;
            j += 3;
        } else {
            j += 2;
        }
        n++;
    }
    return n;
}

/* Redis 7 computes "max - value" in 64 bits when checking a signed SET;
 * for values so far below the range that this overflows, it saturates to
 * the maximum instead of the minimum. Reproduced so that the same commands
 * leave the same bytes on both servers. */
static int redis_sat_quirk(const bf_op *op, __int128 v, __int128 max) {
    return op->kind == BF_SET && op->is_signed && op->bits < 64 && max - v > INT64_MAX;
}

/* Fit an exact result into the field per the overflow policy; returns 0
 * when FAIL refuses it. */
static int bitfield_fit(const bf_op *op, __int128 v, uint64_t *out) {
    __int128 min, max;
    if (op->is_signed) {
        max = ((__int128)1 << (op->bits - 1)) - 1;
        min = -max - 1;
    } else {
        max = ((__int128)1 << op->bits) - 1;
        min = 0;
    }
    if (v < min || v > max) {
        if (op->overflow == OVF_FAIL) return 0;
        if (op->overflow == OVF_SAT) v = v < min && !redis_sat_quirk(op, v, max) ? min : max;
    }
    /* Wrapping is taking the low bits (two's complement). */
    uint64_t mask = op->bits == 64 ? UINT64_MAX : (((uint64_t)1 << op->bits) - 1);
    *out = (uint64_t)v & mask;
    return 1;
}

static long long field_value(const bf_op *op, uint64_t raw) {
    return op->is_signed ? sign_extend(raw, op->bits) : (long long)raw;
}

/* Returns 1 when the operation counts as a change, as Redis counts: it
 * wrote (no FAIL overflow) a different value, or any value into a key
 * that was created or grown for this command. */
static int bitfield_exec(client *c, const bf_op *op, uint8_t *p, size_t len, int grown) {
    uint64_t raw = field_get(p, len, op->offset, op->bits);
    long long old = field_value(op, raw);
    if (op->kind == BF_GET) {
        reply_ll(c, old);
        return 0;
    }
    __int128 want;
    if (op->kind == BF_INCRBY) want = (__int128)old + op->value;
    else if (op->is_signed) want = op->value;
    else want = (__int128)(uint64_t)op->value; /* SET u8 -1 means 2^64-1 */
    uint64_t stored;
    if (!bitfield_fit(op, want, &stored)) {
        reply_null(c);
        return 0;
    }
    field_put(p, op->offset, op->bits, stored);
    reply_ll(c, op->kind == BF_SET ? old : field_value(op, stored));
    return grown || stored != raw;
}

static void bitfield_generic(client *c, int readonly_cmd) {
    bf_op *ops = zmalloc(sizeof(*ops) * (size_t)(c->argc / 2 + 1));
    int writes;
    uint64_t highest;
    int n = bitfield_parse(c, ops, &writes, &highest);
    if (n < 0) goto done;
    if (writes && readonly_cmd) {
        reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
        goto done;
    }
    char buf[32];
    size_t len;
    uint8_t *p;
    int grown = 0;
    if (writes) {
        entry *e;
        kstr s = writable_string(c, c->argv[1], (size_t)(highest >> 3) + 1, &e, &grown);
        if (!s) goto done;
        p = (uint8_t *)s;
        len = kstr_len(s);
    } else {
        int wrong;
        entry *e = lookup_read_typed(c, c->argv[1], TYPE_STRING, &wrong);
        if (wrong) goto done;
        p = (uint8_t *)string_bytes(e, buf, &len);
    }
    reply_array_len(c, n);
    long long changes = 0;
    for (int i = 0; i < n; i++) changes += bitfield_exec(c, &ops[i], p, len, grown);
    if (changes) {
        signal_modified_key(c, c->db, c->argv[1]);
        server_dirty += changes - 1;
        notify_keyspace_event(NOTIFY_STRING, "setbit", c->argv[1], db_id(c->db));
    }
done:
    zfree(ops);
}

static void bitfield_command(client *c) { bitfield_generic(c, 0); }
static void bitfield_ro_command(client *c) { bitfield_generic(c, 1); }

command bitmap_commands[] = {
    {"setbit", setbit_command, 4, "write denyoom", 1, 1, 1, "bitmap", "2.2.0", "Sets or clears the bit at offset in the string value stored at key.", NULL},
    {"getbit", getbit_command, 3, "readonly fast", 1, 1, 1, "bitmap", "2.2.0", "Returns the bit value at offset in the string value stored at key.", NULL},
    {"bitcount", bitcount_command, -2, "readonly", 1, 1, 1, "bitmap", "2.6.0", "Count set bits in a string.", NULL},
    {"bitpos", bitpos_command, -3, "readonly", 1, 1, 1, "bitmap", "2.8.7", "Find first bit set or clear in a string.", NULL},
    {"bitop", bitop_command, -4, "write denyoom", 2, -1, 1, "bitmap", "2.6.0", "Perform bitwise operations between strings.", NULL},
    {"bitfield", bitfield_command, -2, "write denyoom", 1, 1, 1, "bitmap", "3.2.0", "Perform arbitrary bitfield integer operations on strings.", NULL},
    {"bitfield_ro", bitfield_ro_command, -2, "readonly fast", 1, 1, 1, "bitmap", "6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD.", NULL},
    {0},
};
