/*
 * sha1: the SHA-1 digest (FIPS 180-4), for script identifiers (EVALSHA,
 * SCRIPT LOAD, redis.sha1hex). Not for security: SHA-1 is only the name
 * Redis gave scripts, and clients compute the same name on their side.
 */
#ifndef KEEL_SHA1_H
#define KEEL_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* The digest of p[0..len) as 40 lowercase hex digits and a NUL. */
void sha1_hex(const void *p, size_t len, char out[41]);
/* The raw 20-byte digest. */
void sha1_digest(const void *p, size_t len, uint8_t out[20]);

#endif
