/*
 * analysis: keel-cli's memory analysis modes (issue 16, "Memory
 * analysis"): --rdb-report (from a dump, no server), --bigkeys,
 * --memkeys, --hotkeys, --keystats, --scan, --stat, --memory-audit,
 * --oom-watch and --maxmemory-advice (live).
 *
 * The modes share one accumulator, the audit (analysis_audit.c): keys go
 * in one at a time, from a SCAN of a live server or from a dump, and the
 * same summary comes out (per type, per key pattern, TTLs, largest keys,
 * encodings that left their compact form, recommendations), as text or
 * JSON. Everything else is one file per family of modes.
 */
#ifndef KEEL_CLI_ANALYSIS_H
#define KEEL_CLI_ANALYSIS_H

#include <stdio.h>

/* ---- the audit accumulator ---- */

/* One key as a mode saw it. */
typedef struct audit_key {
    int dbid;
    const char *key;
    size_t klen;
    const char *type;        /* "string", "list", "set", "zset", "hash", "stream" */
    const char *encoding;    /* OBJECT ENCODING's word (or the dump's) */
    unsigned long long elements;
    unsigned long long largest; /* longest element; 0 when not known */
    unsigned long long mem;     /* bytes */
    long long ttl_ms;           /* remaining; -1 none, -2 already expired */
} audit_key;

/* The compact-encoding limits in force (CONFIG GET, or Redis's defaults
 * for a dump); -1 for a parameter the server does not have. */
typedef struct audit_limits {
    long long hash_entries, hash_value;
    long long zset_entries, zset_value;
    long long set_entries, set_value;
} audit_limits;
void audit_default_limits(audit_limits *l);

typedef struct audit audit;
/* prefix_depth: how many ':'-separated segments name a pattern. */
audit *audit_new(int prefix_depth, const audit_limits *limits);
void audit_add(audit *a, const audit_key *k);
/* A key of a type with a compact form, in its full form, whose elements
 * are few enough to be worth a look: the caller fetches its longest
 * element (live) when this says so and largest is unknown. */
int audit_wants_largest(const audit *a, const audit_key *k);
/* source: "keel-server 7.0.15 at 127.0.0.1:6379" or "dump.rdb". */
void audit_print_text(const audit *a, FILE *out, const char *source);
void audit_print_json(const audit *a, FILE *out, const char *source);
void audit_free(audit *a);

/* Pattern of a key: the first depth ':'-separated segments with numeric
 * (and long hex or UUID-like) segments folded to '*', then ":*" when
 * segments were left out. Writes at most outlen-1 bytes. */
void audit_key_pattern(const char *key, size_t klen, int depth, char *out, size_t outlen);

/* ---- shared output helpers (analysis_util.c) ---- */
/* 1.23K, 4.56M as redis-cli's bytesToHuman prints them. */
void analysis_human_bytes(char *buf, size_t len, double bytes);
/* A JSON string literal. */
void analysis_json_string(FILE *out, const char *s, size_t len);
/* Parse "4gb", "512mb", "1024" (bytes), as redis.conf's memory units. -1 on error. */
long long analysis_parse_memory(const char *s);

/* ---- --rdb-report FILE [--csv] [--json] [--prefix-depth N] ---- */
typedef struct rdb_report_opts {
    const char *file;
    int csv, json;
    int prefix_depth;
} rdb_report_opts;
/* Exit status: 0, or 1 with a message on stderr. */
int analysis_rdb_report(const rdb_report_opts *o);

#endif
