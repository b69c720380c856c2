/*
 * hyperloglog: Redis-compatible HyperLogLog on a HYLL byte string.
 *
 * The value stored under a PFADD key is the HYLL string itself, so that
 * DUMP/RESTORE, GET/SET and replication exchange the same bytes as Redis.
 * All functions take the raw bytes; the mutating ones take a kstr (which
 * may grow or move) and return the possibly moved kstr.
 *
 * Validity: hll_is_valid() checks the header and walks a sparse body to the
 * end, so a value that passed it can be used by every other function.
 * The other functions still never read out of bounds on corrupt input:
 * they report it (invalid flag, -1, changed = -1) instead.
 */
#ifndef KEEL_HYPERLOGLOG_H
#define KEEL_HYPERLOGLOG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/kstr.h"

#define HLL_P                        14
#define HLL_REGISTERS                (1 << HLL_P) /* 16384 */
#define HLL_Q                        (64 - HLL_P) /* 50 hash bits for the run length */
#define HLL_BITS                     6
#define HLL_HDR_SIZE                 16
#define HLL_DENSE_SIZE               (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8) /* 12304 */
#define HLL_SPARSE_MAX_BYTES_DEFAULT 3000

#define HLL_DENSE  0
#define HLL_SPARSE 1

/* A new, empty HLL in the sparse encoding (18 bytes, cache invalid, as
 * Redis creates it). */
kstr hll_create(void);

/* 1 if p[0..len) is a well-formed HYLL value: magic, known encoding, exact
 * dense size, or a sparse body whose opcodes cover exactly 16384 registers
 * without running past the end. */
int hll_is_valid(const char *p, size_t len);

int hll_is_sparse(const kstr h);

/* Add one element. *changed is set to 1 if a register changed (the cached
 * cardinality is then invalidated), 0 if not, -1 if h is not a valid HLL
 * (h is then returned untouched). A sparse HLL is promoted to dense when
 * the update would make it longer than sparse_max_bytes or needs a
 * register value above 32. */
kstr hll_add(kstr h, const void *ele, size_t len, int *changed, size_t sparse_max_bytes);

/* Cardinality estimate, from the cached value when valid; otherwise it is
 * computed and cached in the header. *invalid (may be NULL) is set to 1
 * and 0 returned when h is corrupt. */
uint64_t hll_count(kstr h, int *invalid);

/* regs[i] = max(regs[i], register i of the HLL in p). Returns 0, or -1 if
 * p is not a valid HLL (regs is then left untouched). */
int hll_merge_into_registers(uint8_t regs[HLL_REGISTERS], const char *p, size_t len);

/* Estimate from a plain register array (one byte per register). */
uint64_t hll_count_registers(const uint8_t regs[HLL_REGISTERS]);

/* A dense HLL holding the given registers (values are clamped to 63),
 * cached cardinality marked invalid. */
kstr hll_from_registers(const uint8_t regs[HLL_REGISTERS]);

/* Convert to dense (no-op when already dense). Keeps the cached value, since
 * the registers do not change. Returns h unchanged if it is invalid. */
kstr hll_to_dense(kstr h);

/* MurmurHash64A as used by Redis for HLL (exposed for tests/debugging). */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);

/* Register index and run length (1..51) for an element. */
int hll_pattern(const void *ele, size_t len, long *index);

#endif
