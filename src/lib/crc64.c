/* See crc64.h. Table-driven, one byte at a time; the table is built on
 * first use from the reflected polynomial. */
#include "lib/crc64.h"

#define POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t table[256];
static int table_ready;

static void build_table(void) {
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY_REFLECTED : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint64_t crc64(uint64_t crc, const void *p, size_t len) {
    if (!table_ready) build_table();
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return crc;
}
