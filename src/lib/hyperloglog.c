/*
 * hyperloglog: Redis-compatible HyperLogLog (see hyperloglog.h for the API).
 *
 * Format (the public HYLL layout, so values move to and from Redis as-is)
 * ------
 *   bytes 0..3   "HYLL"
 *   byte  4      encoding: 0 dense, 1 sparse
 *   bytes 5..7   unused (zero)
 *   bytes 8..15  cached cardinality, little-endian; the top bit of byte 15
 *                set means "cache invalid, recompute"
 *   dense body   16384 registers of 6 bits, packed least significant bit
 *                first: register i occupies bits 6i..6i+5 of the body read
 *                as one little-endian bit string (12288 bytes)
 *   sparse body  a run-length code over the 16384 registers:
 *                  00xxxxxx           ZERO:  x+1 (1..64) zero registers
 *                  01xxxxxx yyyyyyyy  XZERO: xy+1 (1..16384) zero registers
 *                  1vvvvvxx           VAL:   x+1 (1..4) registers of value v+1
 *                and must cover exactly 16384 registers.
 *
 * Hashing: MurmurHash64A (seed 0xadc83b19) of the element bytes. The low 14
 * bits select the register; the remaining 50 bits, with a sentinel bit set
 * at position 50, give the run length "position of the first 1 bit + 1",
 * so a register value is 1..51.
 *
 * Estimation: Otmar Ertl's improved raw estimator ("New cardinality
 * estimation algorithms for HyperLogLog sketches", 2017). From the
 * histogram C[k] of register values:
 *     z = m * tau(1 - C[q+1]/m);  for k = q..1: z = (z + C[k]) / 2;
 *     z += m * sigma(C[0]/m);     E = alpha_inf * m^2 / z
 * with alpha_inf = 1/(2 ln 2) and sigma/tau the series of the paper. It
 * needs no empirical bias tables and is accurate over the whole range, from
 * a handful of elements (where it behaves like linear counting) to 2^64.
 * The operations are done in the same order as the paper writes them, so a
 * given set of registers yields the same integer as Redis.
 *
 * Sparse updates (design and trade-offs)
 * --------------------------------------
 * A register update in the sparse form rewrites only the opcode covering
 * the register: it is split into at most three runs (before, the new value,
 * after), the neighbouring VAL opcodes are taken into the same small window
 * and adjacent VALs of equal value are merged left to right when the sum
 * fits in one opcode. The window (a few bytes) replaces the old bytes with
 * one memmove of the tail. Cost: O(sparse length) for the scan, which is
 * bounded by sparse_max_bytes (3000 by default): past it, or when a value
 * above 32 is needed (not representable by VAL), the HLL becomes dense,
 * where an update is O(1). The size limit is checked on the window before
 * merging, so the promotion happens at the same PFADD as in Redis. The
 * encoding is not canonical (a run of equal values can be cut in different
 * places depending on insertion order); readers accept any opcode sequence
 * covering 16384 registers. The tests check that our sparse bytes equal
 * Redis's for the sequences captured (200 and 1677 elements), but that is
 * an observation, not a guarantee: what is guaranteed is the same
 * registers, hence the same count and the same dense form.
 *
 * Robustness: every reader walks the sparse code with explicit bounds
 * (XZERO needs its second byte, the total must not exceed 16384), so
 * corrupt or truncated values are reported, never read past.
 */
#include "lib/hyperloglog.h"

#include <math.h>
#include <string.h>

#include "lib/zmalloc.h"

#define HLL_SEED          0xadc83b19ULL
#define HLL_MASK          (HLL_REGISTERS - 1)
#define HLL_BODY_DENSE    (HLL_DENSE_SIZE - HLL_HDR_SIZE) /* 12288 */
#define HLL_VAL_MAX_VALUE 32
#define HLL_VAL_MAX_LEN   4
#define HLL_ZERO_MAX_LEN  64
#define HLL_XZERO_MAX_LEN 16384
#define HLL_ALPHA_INF     0.721347520444481703680 /* 1 / (2 ln 2) */

/* ---- hashing ---------------------------------------------------------- */

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    const uint8_t *data = key;
    uint64_t h = seed ^ (len * m);
    size_t nblocks = len / 8;

    for (size_t i = 0; i < nblocks; i++, data += 8) {
        uint64_t k = (uint64_t)data[0] | (uint64_t)data[1] << 8 | (uint64_t)data[2] << 16 |
                     (uint64_t)data[3] << 24 | (uint64_t)data[4] << 32 | (uint64_t)data[5] << 40 |
                     (uint64_t)data[6] << 48 | (uint64_t)data[7] << 56;
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t rest = len & 7;
    if (rest) {
        for (size_t i = rest; i-- > 0;) h ^= (uint64_t)data[i] << (8 * i);
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_pattern(const void *ele, size_t len, long *index) {
    uint64_t hash = hll_murmur64a(ele, len, HLL_SEED);
    *index = (long)(hash & HLL_MASK);
    hash >>= HLL_P;
    hash |= 1ULL << HLL_Q; /* sentinel: the count is at most Q+1 */
    return __builtin_ctzll(hash) + 1;
}

/* ---- header ----------------------------------------------------------- */

static int header_ok(const uint8_t *p, size_t len) {
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0) return 0;
    if (p[4] == HLL_DENSE) return len == HLL_DENSE_SIZE;
    return p[4] == HLL_SPARSE;
}

static int cache_valid(const uint8_t *p) { return (p[15] & 0x80) == 0; }
static void cache_invalidate(uint8_t *p) { p[15] |= 0x80; }

static uint64_t cache_get(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[8 + i];
    return v;
}

static void cache_set(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[8 + i] = (uint8_t)(v >> (8 * i));
    p[15] &= 0x7f;
}

static void header_init(uint8_t *p, int enc) {
    memcpy(p, "HYLL", 4);
    p[4] = (uint8_t)enc;
    memset(p + 5, 0, 11);
    cache_invalidate(p);
}

/* ---- dense registers -------------------------------------------------- */

static inline int dense_get(const uint8_t *body, long i) {
    unsigned long bit = (unsigned long)i * HLL_BITS;
    unsigned long b = bit >> 3, fb = bit & 7;
    unsigned v = body[b] >> fb;
    if (fb > 8 - HLL_BITS) v |= (unsigned)body[b + 1] << (8 - fb);
    return (int)(v & 63);
}

static inline void dense_set(uint8_t *body, long i, int val) {
    unsigned long bit = (unsigned long)i * HLL_BITS;
    unsigned long b = bit >> 3, fb = bit & 7;
    unsigned v = (unsigned)val & 63;
    body[b] = (uint8_t)((body[b] & ~(63u << fb)) | (v << fb));
    if (fb > 8 - HLL_BITS) {
        unsigned sh = 8 - (unsigned)fb;
        body[b + 1] = (uint8_t)((body[b + 1] & ~(63u >> sh)) | (v >> sh));
    }
}

/* Four registers live in every three bytes: unpack/pack by groups. */
static void dense_unpack(const uint8_t *body, uint8_t *regs) {
    for (long g = 0; g < HLL_REGISTERS / 4; g++, body += 3, regs += 4) {
        unsigned b0 = body[0], b1 = body[1], b2 = body[2];
        regs[0] = (uint8_t)(b0 & 63);
        regs[1] = (uint8_t)(((b0 >> 6) | (b1 << 2)) & 63);
        regs[2] = (uint8_t)(((b1 >> 4) | (b2 << 4)) & 63);
        regs[3] = (uint8_t)(b2 >> 2);
    }
}

static void dense_pack(uint8_t *body, const uint8_t *regs) {
    for (long g = 0; g < HLL_REGISTERS / 4; g++, body += 3, regs += 4) {
        unsigned r0 = regs[0] > 63 ? 63 : regs[0], r1 = regs[1] > 63 ? 63 : regs[1];
        unsigned r2 = regs[2] > 63 ? 63 : regs[2], r3 = regs[3] > 63 ? 63 : regs[3];
        body[0] = (uint8_t)(r0 | (r1 << 6));
        body[1] = (uint8_t)((r1 >> 2) | (r2 << 4));
        body[2] = (uint8_t)((r2 >> 4) | (r3 << 2));
    }
}

/* ---- sparse decoding -------------------------------------------------- */

/* Decode the opcode at *pp. Returns 1 with its value (0 for zero runs) and
 * length, 0 at the end of the buffer, -1 if the opcode is truncated. */
static inline int sparse_op(const uint8_t **pp, const uint8_t *end, int *val, long *runlen) {
    const uint8_t *p = *pp;
    if (p >= end) return 0;
    uint8_t c = *p;
    if (c & 0x80) { /* VAL */
        *val = ((c >> 2) & 0x1f) + 1;
        *runlen = (c & 3) + 1;
        *pp = p + 1;
    } else if (c & 0x40) { /* XZERO */
        if (p + 1 >= end) return -1;
        *val = 0;
        *runlen = (((long)(c & 0x3f) << 8) | p[1]) + 1;
        *pp = p + 2;
    } else { /* ZERO */
        *val = 0;
        *runlen = (c & 0x3f) + 1;
        *pp = p + 1;
    }
    return 1;
}

/* Walk the whole sparse body; with regs != NULL also write the registers
 * (regs[i] = value) or, with merge set, regs[i] = max(regs[i], value);
 * with hist != NULL count the values. Returns 0 if valid, -1 otherwise. */
static int sparse_walk(const uint8_t *body, size_t len, uint8_t *regs, int merge, int *hist) {
    const uint8_t *p = body, *end = body + len;
    long idx = 0, runlen;
    int val, rc;
    while ((rc = sparse_op(&p, end, &val, &runlen)) == 1) {
        if (runlen > HLL_REGISTERS - idx) return -1;
        if (hist) hist[val] += (int)runlen;
        if (regs) {
            if (!merge)
                memset(regs + idx, val, (size_t)runlen);
            else if (val)
                for (long i = idx; i < idx + runlen; i++)
                    if (regs[i] < val) regs[i] = (uint8_t)val;
        }
        idx += runlen;
    }
    return (rc == 0 && idx == HLL_REGISTERS) ? 0 : -1;
}

int hll_is_valid(const char *ptr, size_t len) {
    const uint8_t *p = (const uint8_t *)ptr;
    if (!p || !header_ok(p, len)) return 0;
    if (p[4] == HLL_DENSE) return 1;
    return sparse_walk(p + HLL_HDR_SIZE, len - HLL_HDR_SIZE, NULL, 0, NULL) == 0;
}

int hll_is_sparse(const kstr h) { return kstr_len(h) > 4 && (uint8_t)h[4] == HLL_SPARSE; }

/* ---- creation / conversion -------------------------------------------- */

kstr hll_create(void) {
    kstr h = kstr_new_len(NULL, HLL_HDR_SIZE + 2);
    uint8_t *p = (uint8_t *)h;
    header_init(p, HLL_SPARSE);
    p[HLL_HDR_SIZE] = (uint8_t)(0x40 | ((HLL_REGISTERS - 1) >> 8)); /* XZERO 16384 */
    p[HLL_HDR_SIZE + 1] = (uint8_t)((HLL_REGISTERS - 1) & 0xff);
    return h;
}

kstr hll_from_registers(const uint8_t regs[HLL_REGISTERS]) {
    kstr h = kstr_new_len(NULL, HLL_DENSE_SIZE);
    header_init((uint8_t *)h, HLL_DENSE);
    dense_pack((uint8_t *)h + HLL_HDR_SIZE, regs);
    return h;
}

kstr hll_to_dense(kstr h) {
    uint8_t *p = (uint8_t *)h;
    size_t len = kstr_len(h);
    if (!header_ok(p, len) || p[4] == HLL_DENSE) return h;
    uint8_t *regs = zmalloc(HLL_REGISTERS);
    if (sparse_walk(p + HLL_HDR_SIZE, len - HLL_HDR_SIZE, regs, 0, NULL) != 0) {
        zfree(regs);
        return h;
    }
    kstr d = hll_from_registers(regs);
    zfree(regs);
    memcpy(d + 8, h + 8, 8); /* same registers: the cached count stays right */
    kstr_free(h);
    return d;
}

/* ---- adding ----------------------------------------------------------- */

struct op {
    int val; /* 0: zero run */
    long len;
};

static size_t encode_ops(const struct op *ops, int n, uint8_t *out) {
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        long len = ops[i].len;
        if (len <= 0) continue;
        if (ops[i].val == 0) {
            if (len <= HLL_ZERO_MAX_LEN) {
                out[o++] = (uint8_t)(len - 1);
            } else {
                out[o++] = (uint8_t)(0x40 | ((len - 1) >> 8));
                out[o++] = (uint8_t)((len - 1) & 0xff);
            }
        } else {
            while (len > 0) {
                long k = len > HLL_VAL_MAX_LEN ? HLL_VAL_MAX_LEN : len;
                out[o++] = (uint8_t)(0x80 | ((ops[i].val - 1) << 2) | (k - 1));
                len -= k;
            }
        }
    }
    return o;
}

/* Set register index to count in a sparse HLL. Returns the (possibly
 * moved) kstr; *changed as in hll_add. *promote is set when the update
 * cannot be done in the sparse form (the caller converts and retries). */
static kstr sparse_set(kstr h, long index, int count, int *changed, int *promote,
                       size_t sparse_max_bytes) {
    uint8_t *base = (uint8_t *)h;
    size_t len = kstr_len(h);
    const uint8_t *end = base + len;
    const uint8_t *p = base + HLL_HDR_SIZE, *prev = NULL, *cur = NULL;
    int val = 0, prevval = 0, rc;
    long first = 0, runlen = 0, prevlen = 0;

    *changed = 0;
    *promote = 0;
    for (;;) {
        const uint8_t *at = p;
        rc = sparse_op(&p, end, &val, &runlen);
        if (rc != 1) {
            *changed = -1; /* truncated, or ended before covering index */
            return h;
        }
        if (index < first + runlen) {
            cur = at;
            break;
        }
        first += runlen;
        if (first >= HLL_REGISTERS) {
            *changed = -1;
            return h;
        }
        prev = at;
        prevval = val;
        prevlen = runlen;
    }
    if (val >= count) return h; /* register already as large */
    if (count > HLL_VAL_MAX_VALUE) {
        *promote = 1;
        return h;
    }

    /* Window: [prev VAL] cur [next VAL], as a list of runs to rewrite. */
    struct op ops[5];
    int n = 0;
    const uint8_t *wstart = cur, *wend = p;
    if (prev && prevval > 0) {
        ops[n++] = (struct op){prevval, prevlen};
        wstart = prev;
    }
    ops[n++] = (struct op){val, index - first};
    ops[n++] = (struct op){count, 1};
    ops[n++] = (struct op){val, first + runlen - index - 1};
    {
        const uint8_t *q = p;
        int nval;
        long nlen;
        if (sparse_op(&q, end, &nval, &nlen) == 1 && nval > 0) {
            ops[n++] = (struct op){nval, nlen};
            wend = q;
        }
    }
    /* Drop empty runs. The size limit is checked on the unmerged form:
     * the promotion point then matches Redis's for the same sequence of
     * additions (it decides before merging), which keeps the encoding of a
     * key the same on both sides. */
    int m = 0;
    for (int i = 0; i < n; i++)
        if (ops[i].len > 0) ops[m++] = ops[i];
    n = m;
    uint8_t enc[32];
    size_t oldw = (size_t)(wend - wstart);
    size_t grown = len - oldw + encode_ops(ops, n, enc);
    if (grown > sparse_max_bytes && grown > len) {
        *promote = 1;
        return h;
    }
    /* Merge equal adjacent VALs left to right while the sum fits in one
     * opcode. */
    for (int i = 0; i + 1 < n;) {
        if (ops[i].val > 0 && ops[i].val == ops[i + 1].val &&
            ops[i].len + ops[i + 1].len <= HLL_VAL_MAX_LEN) {
            ops[i].len += ops[i + 1].len;
            memmove(&ops[i + 1], &ops[i + 2], (size_t)(n - i - 2) * sizeof(ops[0]));
            n--;
        } else {
            i++;
        }
    }
    size_t enclen = encode_ops(ops, n, enc);
    size_t newlen = len - oldw + enclen;
    size_t off = (size_t)(wstart - base), tail = len - (off + oldw);
    if (enclen > oldw) {
        h = kstr_make_room(h, enclen - oldw);
        base = (uint8_t *)h;
    }
    memmove(base + off + enclen, base + off + oldw, tail);
    memcpy(base + off, enc, enclen);
    kstr_set_len(h, newlen);
    h[newlen] = '\0';
    *changed = 1;
    return h;
}

kstr hll_add(kstr h, const void *ele, size_t len, int *changed, size_t sparse_max_bytes) {
    int dummy;
    if (!changed) changed = &dummy;
    *changed = 0;
    uint8_t *p = (uint8_t *)h;
    if (!header_ok(p, kstr_len(h))) {
        *changed = -1;
        return h;
    }
    long index;
    int count = hll_pattern(ele, len, &index);

    if (p[4] == HLL_SPARSE) {
        int promote;
        h = sparse_set(h, index, count, changed, &promote, sparse_max_bytes);
        if (*changed == -1) return h;
        if (!promote) {
            if (*changed) cache_invalidate((uint8_t *)h);
            return h;
        }
        h = hll_to_dense(h);
        if (hll_is_sparse(h)) { /* conversion failed: corrupt body */
            *changed = -1;
            return h;
        }
        p = (uint8_t *)h;
    }
    uint8_t *body = p + HLL_HDR_SIZE;
    if (dense_get(body, index) < count) {
        dense_set(body, index, count);
        cache_invalidate(p);
        *changed = 1;
    } else {
        *changed = 0;
    }
    return h;
}

/* ---- estimation ------------------------------------------------------- */

static double hll_sigma(double x) {
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, zprev;
    do {
        x *= x;
        zprev = z;
        z += x * y;
        y += y;
    } while (zprev != z);
    return z;
}

static double hll_tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, zprev;
    do {
        x = sqrt(x);
        zprev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (zprev != z);
    return z / 3.0;
}

static uint64_t estimate(const int hist[64]) {
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - hist[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z += hist[k];
        z *= 0.5;
    }
    z += m * hll_sigma(hist[0] / m);
    return (uint64_t)llround(HLL_ALPHA_INF * m * m / z);
}

uint64_t hll_count_registers(const uint8_t regs[HLL_REGISTERS]) {
    int hist[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++) hist[regs[i] > 63 ? 63 : regs[i]]++;
    return estimate(hist);
}

uint64_t hll_count(kstr h, int *invalid) {
    uint8_t *p = (uint8_t *)h;
    size_t len = kstr_len(h);
    if (invalid) *invalid = 0;
    if (!header_ok(p, len)) goto bad;
    if (cache_valid(p)) return cache_get(p);

    int hist[64] = {0};
    if (p[4] == HLL_DENSE) {
        const uint8_t *b = p + HLL_HDR_SIZE;
        for (long g = 0; g < HLL_REGISTERS / 4; g++, b += 3) {
            unsigned b0 = b[0], b1 = b[1], b2 = b[2];
            hist[b0 & 63]++;
            hist[((b0 >> 6) | (b1 << 2)) & 63]++;
            hist[((b1 >> 4) | (b2 << 4)) & 63]++;
            hist[b2 >> 2]++;
        }
    } else if (sparse_walk(p + HLL_HDR_SIZE, len - HLL_HDR_SIZE, NULL, 0, hist) != 0) {
        goto bad;
    }
    uint64_t card = estimate(hist);
    cache_set(p, card);
    return card;
bad:
    if (invalid) *invalid = 1;
    return 0;
}

/* ---- merging ---------------------------------------------------------- */

int hll_merge_into_registers(uint8_t regs[HLL_REGISTERS], const char *ptr, size_t len) {
    const uint8_t *p = (const uint8_t *)ptr;
    if (!hll_is_valid(ptr, len)) return -1;
    if (p[4] == HLL_DENSE) {
        uint8_t tmp[HLL_REGISTERS];
        dense_unpack(p + HLL_HDR_SIZE, tmp);
        for (long i = 0; i < HLL_REGISTERS; i++)
            if (regs[i] < tmp[i]) regs[i] = tmp[i];
        return 0;
    }
    return sparse_walk(p + HLL_HDR_SIZE, len - HLL_HDR_SIZE, regs, 1, NULL);
}
