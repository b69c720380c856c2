/*
 * crc64: CRC-64 with the Jones polynomial (reflected, init 0, no final
 * xor): the checksum Redis puts at the end of RDB files and DUMP payloads.
 * Check value: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
 *
 * Table-driven, eight bytes per step ("slicing by 8"): a 1 GB dump is
 * checksummed in about a quarter of a second instead of a second.
 */
#ifndef KEEL_CRC64_H
#define KEEL_CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64(uint64_t crc, const void *buf, size_t len);

#endif
