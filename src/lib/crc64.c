/*
 * crc64: see crc64.h. The tables are built on first use (8 x 256 words,
 * 16 KB); table[0] is the classic byte-at-a-time table for the reflected
 * polynomial, table[k][b] the CRC of byte b followed by k zero bytes, so
 * eight input bytes are folded with eight lookups and no loop-carried
 * shift per byte.
 */
#include "lib/crc64.h"

#include <string.h>

#define POLY_REFLECTED 0x95ac9329ac4bc9b5ULL /* 0xad93d23594c935a9 bit-reversed */

static uint64_t table[8][256];
static int table_ready;

static void build_tables(void) {
    for (int b = 0; b < 256; b++) {
        uint64_t c = (uint64_t)b;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY_REFLECTED : c >> 1;
        table[0][b] = c;
    }
    for (int b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++) table[k][b] = table[0][table[k - 1][b] & 0xff] ^ (table[k - 1][b] >> 8);
    table_ready = 1;
}

static uint64_t load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t crc64(uint64_t crc, const void *buf, size_t len) {
    if (!table_ready) build_tables();
    const unsigned char *p = buf;
    while (len >= 8) {
        uint64_t v = crc ^ load_le64(p);
        crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
              table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
              table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
