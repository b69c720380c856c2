/*
 * analysis_options: the command-line rows of the memory analysis modes
 * (cli.h's cli_analysis_options), and the few checks of their values.
 * Each mode row selects its mode; each setting row writes an_set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/analysis_live.h"
#include "cli/options.h"

int mode_bigkeys(cli_ctx *ctx);
int mode_memkeys(cli_ctx *ctx);
int mode_hotkeys(cli_ctx *ctx);
int mode_keystats(cli_ctx *ctx);
int mode_scan(cli_ctx *ctx);
int mode_stat(cli_ctx *ctx);
int mode_memory_audit(cli_ctx *ctx);
int mode_oom_watch(cli_ctx *ctx);
int mode_maxmemory_advice(cli_ctx *ctx);
int mode_rdb_report(cli_ctx *ctx);

static int parse_count(const char *opt, const char *a, long long min, long long *out) {
    char *end;
    long long v = strtoll(a, &end, 10);
    if (*a == '\0' || *end) {
        fprintf(stderr, "%s conversion error.\n", opt);
        return -1;
    }
    if (v < min) {
        fprintf(stderr, "%s value should be %s.\n", opt, min > 0 ? "at least 1" : "positive");
        return -1;
    }
    *out = v;
    return 0;
}

static int opt_bigkeys(cli_opts *o, const char *a) { return cli_select_mode(o, mode_bigkeys, "--bigkeys", 1); }
static int opt_memkeys(cli_opts *o, const char *a) { return cli_select_mode(o, mode_memkeys, "--memkeys", 1); }
static int opt_memkeys_samples(cli_opts *o, const char *a) {
    if (parse_count("--memkeys-samples", a, 0, &an_set.memkeys_samples) < 0) return -1;
    return cli_select_mode(o, mode_memkeys, "--memkeys", 1);
}
static int opt_hotkeys(cli_opts *o, const char *a) { return cli_select_mode(o, mode_hotkeys, "--hotkeys", 1); }
static int opt_keystats(cli_opts *o, const char *a) { return cli_select_mode(o, mode_keystats, "--keystats", 1); }
static int opt_keystats_samples(cli_opts *o, const char *a) {
    if (parse_count("--keystats-samples", a, 0, &an_set.memkeys_samples) < 0) return -1;
    return cli_select_mode(o, mode_keystats, "--keystats", 1);
}
static int opt_cursor(cli_opts *o, const char *a) {
    long long v;
    if (parse_count("--cursor", a, 0, &v) < 0) return -1;
    an_set.cursor = (unsigned long long)v;
    return 0;
}
static int opt_top(cli_opts *o, const char *a) {
    long long v;
    if (parse_count("--top", a, 0, &v) < 0) return -1;
    an_set.top = (unsigned long)v;
    return 0;
}
static int opt_scan(cli_opts *o, const char *a) { return cli_select_mode(o, mode_scan, "--scan", 1); }
static int opt_stat(cli_opts *o, const char *a) { return cli_select_mode(o, mode_stat, "--stat", 1); }
static int opt_memory_audit(cli_opts *o, const char *a) {
    return cli_select_mode(o, mode_memory_audit, "--memory-audit", 1);
}
static int opt_prefix_depth(cli_opts *o, const char *a) {
    long long v;
    if (parse_count("--prefix-depth", a, 1, &v) < 0) return -1;
    an_set.prefix_depth = v > 64 ? 64 : (int)v;
    return 0;
}
static int opt_oom_watch(cli_opts *o, const char *a) { return cli_select_mode(o, mode_oom_watch, "--oom-watch", 0); }

static int parse_ratio(const char *opt, const char *a, double *out) {
    char *end;
    double v = strtod(a, &end);
    if (*a == '\0' || *end || v <= 0 || v > 1) {
        fprintf(stderr, "%s takes a ratio of maxmemory between 0 and 1 (e.g. 0.85), not '%s'.\n", opt, a);
        return -1;
    }
    *out = v;
    return 0;
}
static int opt_warn(cli_opts *o, const char *a) { return parse_ratio("--warn", a, &an_set.warn); }
static int opt_crit(cli_opts *o, const char *a) { return parse_ratio("--crit", a, &an_set.crit); }
static int opt_once(cli_opts *o, const char *a) {
    an_set.once = 1;
    return 0;
}
static int opt_advice(cli_opts *o, const char *a) {
    return cli_select_mode(o, mode_maxmemory_advice, "--maxmemory-advice", 0);
}
static int opt_ram(cli_opts *o, const char *a) {
    an_set.ram = analysis_parse_memory(a);
    if (an_set.ram <= 0) {
        fprintf(stderr, "--ram takes a size such as 32gb, 512mb or a number of bytes, not '%s'.\n", a);
        return -1;
    }
    return 0;
}
static int opt_use(cli_opts *o, const char *a) {
    if (strcasecmp(a, "cache") && strcasecmp(a, "database") && strcasecmp(a, "mixed")) {
        fprintf(stderr, "--use takes cache, database or mixed, not '%s'.\n", a);
        return -1;
    }
    an_set.use = !strcasecmp(a, "cache") ? "cache" : !strcasecmp(a, "database") ? "database" : "mixed";
    return 0;
}
static int opt_persistence(cli_opts *o, const char *a) {
    if (strcasecmp(a, "yes") && strcasecmp(a, "no")) {
        fprintf(stderr, "--persistence takes yes or no, not '%s'.\n", a);
        return -1;
    }
    an_set.persistence = !strcasecmp(a, "yes");
    return 0;
}
static int opt_replicas(cli_opts *o, const char *a) {
    long long v;
    if (parse_count("--replicas", a, 0, &v) < 0) return -1;
    an_set.replicas = v > 1000 ? 1000 : (int)v;
    return 0;
}
static int opt_server(cli_opts *o, const char *a) {
    if (strcasecmp(a, "keel") && strcasecmp(a, "redis")) {
        fprintf(stderr, "--server takes keel or redis, not '%s'.\n", a);
        return -1;
    }
    an_set.server_kind = !strcasecmp(a, "keel") ? "keel" : "redis";
    return 0;
}
static int opt_rdb_report(cli_opts *o, const char *a) {
    an_set.rdb_report_file = a;
    return cli_select_mode(o, mode_rdb_report, "--rdb-report", 0);
}

const cli_option cli_analysis_options[] = {
    {"--bigkeys", 0, opt_bigkeys, "          Sample keys looking for keys with many elements (complexity)."},
    {"--memkeys", 0, opt_memkeys, "          Sample keys looking for keys consuming a lot of memory."},
    {"--memkeys-samples", 1, opt_memkeys_samples, "<n> Like --memkeys, with MEMORY USAGE's SAMPLES n."},
    {"--hotkeys", 0, opt_hotkeys, "          Sample keys looking for hot keys (needs an LFU maxmemory-policy)."},
    {"--keystats", 0, opt_keystats, "         Key sizes and lengths: top keys, size distribution (Redis 7.4)."},
    {"--keystats-samples", 1, opt_keystats_samples, "<n> Like --keystats, with MEMORY USAGE's SAMPLES n."},
    {"--cursor", 1, opt_cursor, "<n>       Start --keystats at SCAN cursor n (after a Ctrl-C)."},
    {"--top", 1, opt_top, "<n>          Top key sizes --keystats shows (default: 10)."},
    {"--scan", 0, opt_scan, "             List all keys using SCAN (--pattern, --count, --type)."},
    {"--stat", 0, opt_stat, "             Rolling stats: keys, memory, clients, requests, evictions/s,\n"
                            "                     expirations/s, hit ratio (one line per -i seconds)."},
    {"--memory-audit", 0, opt_memory_audit,
     "     Memory per type and key pattern, keys without TTL, TTLs, largest keys,\n"
     "                     encodings past their compact form, recommendations.\n"
     "                     --json [FILE] writes the report as JSON."},
    {"--prefix-depth", 1, opt_prefix_depth, "<n> Key pattern = first n ':' segments (default: 2)."},
    {"--oom-watch", 0, opt_oom_watch, "        Watch used_memory against maxmemory (--warn 0.85 --crit 0.95,\n"
                                      "                     -i seconds, --once); exit code: 0 ok, 1 warn, 2 crit,\n"
                                      "                     3 unknown."},
    {"--warn", 1, opt_warn, "<ratio>     --oom-watch warning level (default: 0.85)."},
    {"--crit", 1, opt_crit, "<ratio>     --oom-watch critical level (default: 0.95)."},
    {"--once", 0, opt_once, "             --oom-watch: one check, then exit with its level."},
    {"--maxmemory-advice", 0, opt_advice, " maxmemory and policy for a machine: --ram SIZE [--use\n"
                                          "                     cache|database|mixed] [--persistence yes|no]\n"
                                          "                     [--replicas N] [--server keel|redis]."},
    {"--ram", 1, opt_ram, "<size>       --maxmemory-advice: the machine's RAM (32gb, 512mb)."},
    {"--use", 1, opt_use, "<use>        --maxmemory-advice: cache, database or mixed (default)."},
    {"--persistence", 1, opt_persistence, "<yn> --maxmemory-advice: RDB/AOF on (default: as the server)."},
    {"--replicas", 1, opt_replicas, "<n>   --maxmemory-advice: number of replicas (default: 0)."},
    {"--server", 1, opt_server, "<kind>    --maxmemory-advice without a server: keel or redis."},
    {"--rdb-report", 1, opt_rdb_report, "<file> Memory report of an RDB file, no server needed (--csv:\n"
                                        "                     redis-rdb-tools' memory CSV; --json; --prefix-depth)."},
    {NULL, 0, NULL, NULL},
};

/* Options that come after a mode's file argument (--memory-audit --json
 * FILE --prefix-depth 3): keel-cli stops parsing at the first word that
 * is not an option, so the modes that take one hand the rest back to the
 * option parser. Returns 0, or -1 after printing why. */
int analysis_parse_rest(cli_opts *o, int argc, char **argv) {
    if (argc == 0) return 0;
    char **args = cli_xmalloc(sizeof(char *) * (size_t)(argc + 1));
    args[0] = "keel-cli";
    memcpy(args + 1, argv, sizeof(char *) * (size_t)argc);
    int first = cli_parse_options(o, argc + 1, args);
    if (first >= 0 && first < argc + 1) {
        fprintf(stderr, "Unrecognized option or bad number of args for: '%s'\n", args[first]);
        first = -1;
    }
    free(args);
    return first < 0 ? -1 : 0;
}

/* --rdb-report: no server, the dump read with the server's loader. */
int mode_rdb_report(cli_ctx *ctx) {
    if (analysis_parse_rest(ctx->opts, ctx->argc, ctx->argv) < 0) return 1;
    rdb_report_opts r = {.file = an_set.rdb_report_file,
                         .csv = ctx->opts->output == OUTPUT_CSV,
                         .json = ctx->opts->output == OUTPUT_JSON || ctx->opts->output == OUTPUT_QUOTED_JSON,
                         .prefix_depth = an_set.prefix_depth};
    return analysis_rdb_report(&r);
}
