/*
 * sha1: SHA-1 (FIPS 180-4), for DEBUG DIGEST, whose values must equal
 * Redis's (it mixes SHA-1 digests of keys and elements), and later for
 * script hashes. Not for security.
 */
#ifndef KEEL_SHA1_H
#define KEEL_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t len);
void sha1_final(sha1_ctx *c, unsigned char out[20]);
/* One-shot. */
void sha1(const void *data, size_t len, unsigned char out[20]);
/* Script identifiers (EVALSHA, SCRIPT LOAD, redis.sha1hex): the digest of
 * p[0..len) as 40 lowercase hex digits and a NUL; and the raw digest. */
void sha1_hex(const void *p, size_t len, char out[41]);
void sha1_digest(const void *p, size_t len, uint8_t out[20]);

#endif
