/*
 * analysis_live: what the live analysis modes share (analysis_*.c only):
 * asking a question and dying with redis-cli's words when the link is
 * lost, INFO and CONFIG GET read as values, the non-blocking SCAN walk
 * with its -i pause every 100 SCAN calls, Ctrl-C stopping a walk cleanly,
 * and the settings of the analysis options.
 */
#ifndef KEEL_CLI_ANALYSIS_LIVE_H
#define KEEL_CLI_ANALYSIS_LIVE_H

#include <signal.h>

#include "cli/analysis.h"
#include "cli/cli.h"

/* Settings written by the option rows (analysis_options.c). */
typedef struct analysis_settings {
    long long memkeys_samples;   /* -1: the server's default */
    int prefix_depth;            /* --prefix-depth (default 2) */
    double warn, crit;           /* --oom-watch thresholds */
    int once;                    /* --oom-watch --once */
    long long ram;               /* --ram bytes; -1 unset */
    const char *use;             /* cache|database|mixed */
    int persistence;             /* -1 unset, 0 no, 1 yes */
    int replicas;
    const char *server_kind;     /* --server keel|redis for the advice without a server */
    unsigned long long cursor;   /* --cursor */
    unsigned long top;           /* --top (keystats) */
    const char *rdb_report_file;
    int has_interval;            /* -i given (oom-watch keeps 1 s otherwise) */
} analysis_settings;
extern analysis_settings an_set;

/* Set by SIGINT while a walk runs (an_catch_sigint). */
extern volatile sig_atomic_t an_cancel;
void an_catch_sigint(void);

/* Exit status after a lost link (1; --oom-watch: 3, "unknown"). */
extern int an_io_exit_code;
/* The reply to one command; a lost link ends the process as redis-cli
 * does ("I/O error" on stderr, exit 1). */
rr_reply *an_command(cli_conn *c, int argc, const char **argv, const size_t *lens);
rr_reply *an_read(cli_conn *c);
/* The text of INFO [section] (malloc'ed); exits on an error reply. */
char *an_info(cli_conn *c, const char *section);
/* A field of INFO's text: 1 when found (value copied to out). */
int an_info_field(const char *info, const char *field, char *out, size_t outlen);
long long an_info_ll(const char *info, const char *field, long long dflt);
double an_info_double(const char *info, const char *field, double dflt);
/* The sum of dbN:keys=... over all databases. */
long long an_info_total_keys(const char *info);
/* CONFIG GET name as a number, dflt when the server has no such
 * parameter (or refuses CONFIG). */
long long an_config_ll(cli_conn *c, const char *name, long long dflt);
/* 1 when INFO server says keel_version. */
int an_is_keel(const char *info);

/* A string element (bulk, status, verbatim) of a reply, or NULL. */
const char *an_str(const rr_reply *r, size_t *len);

/* The SCAN walk: SCAN cursor [MATCH p] [COUNT n] [TYPE t] until the cursor
 * comes back to 0 or Ctrl-C. sleep_every: SCAN calls between two -i
 * sleeps (100 for the analysis modes, 1 for --scan, as redis-cli). */
typedef struct an_scanner {
    cli_conn *c;
    const cli_opts *o;
    unsigned long long cursor;
    unsigned long long calls;
    int sleep_every;
    int started;
    rr_reply *last;
} an_scanner;
void an_scan_init(an_scanner *s, cli_ctx *ctx, unsigned long long cursor, int sleep_every);
/* The next batch of keys (an array of strings, owned by the scanner until
 * the next call), or NULL when the walk is over. */
const rr_reply *an_scan_next(an_scanner *s);
void an_scan_done(an_scanner *s);

/* The analysis options found after a mode's own argument (keel-cli stops
 * parsing options at the first word that is not one). 0 or -1. */
int analysis_parse_rest(cli_opts *o, int argc, char **argv);

/* DBSIZE (exits on error, as redis-cli does). */
long long an_dbsize(cli_conn *c);

#endif
