/*
 * keel-check-rdb FILE: what redis-check-rdb does, for Keel: read an RDB
 * file completely with Keel's loader (without building a keyspace) and
 * report its version, aux fields, key counts per type and per database,
 * expires, and the first error with its offset. Exit status 0 when the
 * file is sound, 1 otherwise.
 *
 * It uses the loader's key-by-key form, so it checks exactly what the
 * server would accept at start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/entry.h"
#include "core/server.h"
#include "persist/rdb.h"

extern int tool_log_quiet;

typedef struct report {
    long long keys, expires, already_expired;
    long long per_type[TYPE_COUNT];
    long long per_db[64];
    int warnings;
} report;

static void on_aux(void *priv, const char *k, size_t klen, const char *v, size_t vlen) {
    (void)priv;
    printf("[info] AUX FIELD %.*s = '%.*s'\n", (int)klen, k, (int)vlen, v);
}

static void on_db(void *priv, int dbid, unsigned long long keys, unsigned long long expires) {
    (void)priv;
    (void)keys;
    (void)expires;
    printf("[info] Selecting DB ID %d\n", dbid);
}

static int on_key(void *priv, const rdb_key_info *ki, entry *e) {
    report *r = priv;
    r->keys++;
    r->per_type[entry_type(e)]++;
    if (ki->dbid >= 0 && ki->dbid < 64) r->per_db[ki->dbid]++;
    if (ki->expire_ms >= 0) {
        r->expires++;
        if (ki->expire_ms < server.mstime_cached) r->already_expired++;
    }
    entry_free(e);
    return 0;
}

static void on_warning(void *priv, const char *msg) {
    report *r = priv;
    r->warnings++;
    printf("[warning] %s\n", msg);
}

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "Usage: %s <rdb-file-name>\n", argv[0]);
        return 1;
    }
    char *cfg_argv[] = {argv[0], NULL};
    config_load(1, cfg_argv);
    server_update_cached_time();
    report rep = {0};
    rdb_visitor v = {.priv = &rep, .on_aux = on_aux, .on_db = on_db, .on_key = on_key, .on_warning = on_warning};
    rdb_load_stats st = {0};
    char err[512];
    printf("[offset 0] Checking RDB file %s\n", argv[1]);
    int rc = rdb_parse_file(argv[1], &v, &st, err, sizeof(err));
    if (st.version) printf("[info] RDB version %d\n", st.version);
    static const char *names[TYPE_COUNT] = {"string", "list", "set", "zset", "hash", "?", "stream"};
    printf("[info] %lld keys read\n", rep.keys);
    printf("[info] %lld expires\n", rep.expires);
    printf("[info] %lld already expired\n", rep.already_expired);
    for (int t = 0; t < TYPE_COUNT; t++)
        if (rep.per_type[t]) printf("[info] %s keys: %lld\n", names[t], rep.per_type[t]);
    for (int d = 0; d < 64; d++)
        if (rep.per_db[d]) printf("[info] db %d: %lld keys\n", d, rep.per_db[d]);
    if (rc < 0) {
        printf("--- RDB ERROR DETECTED ---\n%s\n", err);
        return 1;
    }
    printf("[offset %lld] Checksum OK\n", st.bytes);
    printf("[offset %lld] \\o/ RDB looks OK! \\o/\n", st.bytes);
    return 0;
}
