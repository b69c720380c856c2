/*
 * libFuzzer target for the RDB loader and RESTORE's payload decoder
 * (src/persist/rdb_load.c, rdb_blob.c).
 *
 * The first input byte picks the entry point:
 *   0: the file parser, key by key (what keel-check-rdb runs): every
 *      entry built is freed;
 *   1: a DUMP payload body (type byte + value), decoded with a valid
 *      footer added, so that the fuzzer reaches the decoder instead of
 *      failing the CRC;
 *   2: the keyspace loader (fresh tables, swap-in, restore on failure),
 *      over a keyspace that holds one key beforehand: after a refused
 *      input exactly that key must remain.
 * The CRC at the end of a file is checked only after the whole body has
 * been parsed, so mutated files exercise everything before it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "persist/crc64.h"
#include "persist/rdb.h"

static int on_key(void *priv, const rdb_key_info *ki, entry *e) {
    (void)priv;
    (void)ki;
    entry_free(e);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char *cfg_argv[] = {"fuzz_rdb", NULL};
    config_load(1, cfg_argv);
    server_update_cached_time();
    db_init_all(16);
    return 0;
}

static void fuzz_payload(const uint8_t *data, size_t size) {
    unsigned char *buf = malloc(size + 10);
    memcpy(buf, data, size);
    buf[size] = RDB_VERSION;
    buf[size + 1] = 0;
    uint64_t crc = crc64(0, buf, size + 2);
    for (int i = 0; i < 8; i++) buf[size + 2 + i] = (unsigned char)(crc >> (8 * i));
    if (rdb_verify_payload(buf, size + 10) != 0) abort();
    entry *e = rdb_decode_payload(buf, size + 10, "key", 3, 1);
    if (e) entry_free(e);
    free(buf);
}

static void fuzz_keyspace(const uint8_t *data, size_t size) {
    db *d = db_get(0);
    db_add(d, entry_new_string("sentinel", 8, "v", 1, -1));
    char err[512];
    int rc = rdb_load_mem("fuzz", data, size, NULL, err, sizeof(err));
    if (rc < 0 && (db_size(d) != 1 || !db_find(d, "sentinel", 8))) abort();
    db_empty_all();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int mode = data[0] % 3;
    data++;
    size--;
    char err[512];
    rdb_visitor v = {.on_key = on_key};
    switch (mode) {
    case 0: rdb_parse_mem(data, size, &v, NULL, err, sizeof(err)); break;
    case 1: fuzz_payload(data, size); break;
    default: fuzz_keyspace(data, size); break;
    }
    return 0;
}
