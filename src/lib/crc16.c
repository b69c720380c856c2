/* See crc16.h. A 256-entry table built on first use (byte at a time). */
#include "lib/crc16.h"

static uint16_t table[256];
static int table_ready;

static void build_table(void) {
    for (unsigned b = 0; b < 256; b++) {
        uint16_t crc = (uint16_t)(b << 8);
        for (int i = 0; i < 8; i++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        table[b] = crc;
    }
    table_ready = 1;
}

uint16_t crc16(const void *buf, size_t len) {
    if (!table_ready) build_table();
    const unsigned char *p = buf;
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) crc = (uint16_t)((crc << 8) ^ table[((crc >> 8) ^ p[i]) & 0xff]);
    return crc;
}

unsigned key_hash_slot(const char *key, size_t len) {
    size_t open = 0;
    while (open < len && key[open] != '{') open++;
    if (open < len) {
        size_t close = open + 1;
        while (close < len && key[close] != '}') close++;
        if (close < len && close > open + 1) return crc16(key + open + 1, close - open - 1) & (CLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (CLUSTER_SLOTS - 1);
}
