/*
 * random: the process's one pseudo-random generator, behind every choice
 * that must be fair but need not be secret: eviction and RANDOMKEY
 * samples (lib/hashtable.c), SRANDMEMBER, SPOP, HRANDFIELD and ZRANDMEMBER
 * picks (lib/sample.h, types/), skiplist levels, LFU counter increments
 * and the ghost table's hash key (memory/access.c).
 *
 * Why one generator rather than one per module, as there used to be six
 * (four private xorshift and splitmix variants, each seeded its own way,
 * plus rand() and random(), which take a lock in glibc): one seed then
 * decides every random choice of the process, so a test can repeat a run
 * exactly by fixing it, and there is one generator to get right.
 *
 * The algorithm is xoshiro256** (Blackman and Vigna, 2018): 256 bits of
 * state, period 2^256 - 1, every output bit of good quality, a handful of
 * shifts, rotations and multiplications per number. The state is expanded
 * from a 64-bit seed with splitmix64, the expansion its authors recommend
 * (it never yields the all-zero state). It is not cryptographic: its
 * outputs reveal its state, so nothing secret may come from it (the hash
 * table seed and the run id come from /dev/urandom, lib/util.h).
 *
 * Seeding: until random_seed is called the state is the one seed
 * RANDOM_DEFAULT_SEED gives, so unit tests and tools that never seed get
 * the same sequence on every run. The server seeds once at start-up (see
 * core/main.c: /dev/urandom, or KEEL_RANDOM_SEED for a reproducible run).
 *
 * Not thread-safe: only the main thread draws numbers.
 */
#ifndef KEEL_RANDOM_H
#define KEEL_RANDOM_H

#include <stdint.h>

#define RANDOM_DEFAULT_SEED 0x4b65656cULL /* "Keel" */

/* Restart the sequence from seed (any value, 0 included). */
void random_seed(uint64_t seed);

/* 64 random bits. */
uint64_t random_u64(void);

/* Uniform in [0, n) without modulo bias; n must be > 0. One draw nearly
 * always (Lemire's multiply-and-reject: a second draw happens with
 * probability below n / 2^64). */
uint64_t random_below(uint64_t n);

/* Uniform in [0, 1): a multiple of 2^-53, every such value equally likely. */
double random_unit(void);

/* One splitmix64 step: advances *state and returns a well-mixed value.
 * For deriving other keys from one seed (core/main.c). */
uint64_t random_splitmix64(uint64_t *state);

#endif
