/*
 * SipHash (Aumasson & Bernstein), a keyed 64-bit hash.
 *
 * Keel hashes every key it stores with a per-process random key, so an
 * attacker who controls key names cannot aim them at one bucket (hash
 * flooding). siphash() is SipHash-1-2: one compression round per word and
 * two finalisation rounds. That is fewer rounds than the 2-4 of the paper;
 * for a hash table the goal is unpredictable bucket placement, not a MAC,
 * and 1-2 keeps short keys fast. The round count is a parameter of
 * siphash_rounds() so that the implementation can be checked against the
 * published SipHash-2-4 test vectors.
 */
#ifndef KEEL_SIPHASH_H
#define KEEL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-2 of in[0..len) with the 16-byte key k. */
uint64_t siphash(const uint8_t *in, size_t len, const uint8_t k[16]);

/* As siphash() with ASCII letters folded to lower case, so that keys that
 * differ only in case hash alike (command tables, case-insensitive sets). */
uint64_t siphash_nocase(const uint8_t *in, size_t len, const uint8_t k[16]);

/* SipHash-c-d with explicit round counts (siphash() is c=1, d=2; the
 * reference algorithm is c=2, d=4). */
uint64_t siphash_rounds(const uint8_t *in, size_t len, const uint8_t k[16],
                        int c_rounds, int d_rounds);

#endif
