/*
 * config_stubs: Redis 7.0's parameters whose feature Keel has not built
 * yet (persistence, replication, cluster, TLS, ACL files, scripting
 * limits, process management). Each is accepted from the file, the
 * command line and CONFIG SET with Redis's type, range and default,
 * stored, and returned by CONFIG GET (and CONFIG REWRITE): stock redis.conf
 * files and Redis's own test configuration load unchanged, and tools that
 * read the settings get an answer. None of them changes behaviour;
 * docs/COMMANDS.md lists them as "accepted, no effect yet".
 *
 * When a module makes one of these real, it moves the row into its own
 * table (config.h) and deletes it here: config_registry_init() refuses a
 * name defined twice, so a forgotten row fails at start-up, not silently.
 *
 * The values are file-scope compound literals: each row owns its storage
 * and nothing outside this table can read it, which is the point.
 */
#include "core/config.h"

#include <limits.h>
#include <stddef.h>

#include "lib/zmalloc.h"

static const enum_value supervised_enum[] = {{"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}, {NULL, 0}};
static const enum_value facility_enum[] = {{"user", 8}, {"local0", 128}, {"local1", 136}, {"local2", 144},
                                           {"local3", 152}, {"local4", 160}, {"local5", 168}, {"local6", 176},
                                           {"local7", 184}, {NULL, 0}};

#define STUB_BOOL(n, d, fl, ...) CONFIG_BOOL(n, &(int){0}, d, fl, NULL, __VA_ARGS__)
#define STUB_INT(n, d, lo, hi, fl, ...) CONFIG_INT(n, &(int){0}, d, lo, hi, fl, NULL, __VA_ARGS__)
#define STUB_LL(n, d, lo, hi, fl, ...) CONFIG_LL(n, &(long long){0}, d, lo, hi, fl, NULL, __VA_ARGS__)
#define STUB_MEMORY(n, d, lo, hi, fl) CONFIG_MEMORY(n, &(long long){0}, d, lo, hi, fl, NULL)
#define STUB_ENUM(n, d, ev, fl) CONFIG_ENUM(n, &(int){0}, d, ev, fl, NULL)
#define STUB_STRING(n, d, fl, ...) CONFIG_STRING(n, &(char *){NULL}, d, fl, NULL, __VA_ARGS__)

config_entry stub_configs[] = {
    /* Start-up and process. */
    STUB_ENUM("supervised", "no", supervised_enum, CF_IMMUTABLE),
    STUB_BOOL("always-show-logo", "no", CF_IMMUTABLE),
    STUB_BOOL("syslog-enabled", "no", CF_IMMUTABLE),
    STUB_STRING("syslog-ident", "redis", CF_IMMUTABLE),
    STUB_ENUM("syslog-facility", "local0", facility_enum, CF_IMMUTABLE),
    STUB_BOOL("use-exit-on-panic", "no", CF_HIDDEN),
    STUB_BOOL("disable-thp", "yes", CF_IMMUTABLE),
    STUB_STRING("ignore-warnings", "", 0),
    STUB_STRING("locale-collate", "", 0),
    STUB_INT("io-threads", "1", 1, 128, CF_IMMUTABLE),
    STUB_BOOL("io-threads-do-reads", "no", CF_IMMUTABLE),
    STUB_LL("socket-mark-id", "0", 0, UINT_MAX, CF_IMMUTABLE),
    STUB_STRING("server_cpulist", "", CF_IMMUTABLE),
    STUB_STRING("bio_cpulist", "", CF_IMMUTABLE),
    STUB_STRING("aof_rewrite_cpulist", "", CF_IMMUTABLE),
    STUB_STRING("bgsave_cpulist", "", CF_IMMUTABLE),
    STUB_STRING("bind-source-addr", "", 0),
    STUB_BOOL("activerehashing", "yes", 0),
    /* ACL. */
    /* Snapshots and the append-only file. */
    STUB_BOOL("rdb-save-incremental-fsync", "yes", 0),
    STUB_BOOL("aof-disable-auto-gc", "no", 0),
    /* TLS. */
    CONFIG_END,
};

