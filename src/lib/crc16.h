/*
 * crc16: the CRC16 of Redis Cluster (CCITT / XMODEM: polynomial 0x1021,
 * initial value 0, no reflection) and the hash slot of a key: CRC16 of the
 * key, or of its hash tag (the bytes between the first '{' and the next
 * '}', when that is not empty), modulo 16384. Clients compute the same
 * slot, so this must match Redis bit for bit (tested against known
 * values in tests/unit/test_crc16.c).
 */
#ifndef KEEL_CRC16_H
#define KEEL_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384

uint16_t crc16(const void *buf, size_t len);
/* The hash slot of a key (0..16383). */
unsigned key_hash_slot(const char *key, size_t len);

#endif
