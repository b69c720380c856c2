/*
 * crc64: the CRC-64 Redis puts at the end of DUMP payloads and RDB files
 * (Jones polynomial 0xad93d23594c935a9, reflected, initial value 0), so
 * that payloads made by Redis verify in Keel and Keel's in Redis.
 */
#ifndef KEEL_CRC64_H
#define KEEL_CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
