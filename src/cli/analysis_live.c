/*
 * analysis_live: the plumbing of the live analysis modes (see
 * analysis_live.h): one place that turns replies into values and
 * failures into redis-cli's messages, so that the modes read as what
 * they compute.
 */
#include "cli/analysis_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

analysis_settings an_set = {
    .memkeys_samples = -1,
    .prefix_depth = 2,
    .warn = 0.85,
    .crit = 0.95,
    .ram = -1,
    .use = "mixed",
    .persistence = -1,
    .top = 10,
};

volatile sig_atomic_t an_cancel;
int an_io_exit_code = 1;

static void on_sigint(int sig) {
    (void)sig;
    an_cancel = 1;
}

void an_catch_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void io_error(cli_conn *c) {
    fprintf(stderr, "\nI/O error: %s\n", c ? conn_error(c) : "not connected");
    exit(an_io_exit_code);
}

rr_reply *an_command(cli_conn *c, int argc, const char **argv, const size_t *lens) {
    rr_reply *r = conn_command(c, argc, (const char *const *)argv, lens);
    if (!r) io_error(c);
    return r;
}

rr_reply *an_read(cli_conn *c) {
    rr_reply *r = NULL;
    if (conn_read(c, &r) < 0 || !r) io_error(c);
    return r;
}

const char *an_str(const rr_reply *r, size_t *len) {
    if (!r) return NULL;
    if (r->type == RR_STRING || r->type == RR_STATUS || r->type == RR_VERB || r->type == RR_BIGNUM ||
        r->type == RR_DOUBLE) {
        if (len) *len = r->len;
        return r->str;
    }
    return NULL;
}

char *an_info(cli_conn *c, const char *section) {
    const char *argv[2] = {"INFO", section};
    rr_reply *r = an_command(c, section ? 2 : 1, argv, NULL);
    size_t len;
    const char *s = an_str(r, &len);
    if (!s) {
        fprintf(stderr, "ERROR: %s\n", r->type == RR_ERROR ? r->str : "INFO did not reply with text");
        exit(1);
    }
    char *out = malloc(len + 1);
    if (!out) exit(1);
    memcpy(out, s, len);
    out[len] = '\0';
    rr_reply_free(r);
    return out;
}

int an_info_field(const char *info, const char *field, char *out, size_t outlen) {
    size_t flen = strlen(field);
    for (const char *p = info; p && *p;) {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            const char *v = p + flen + 1;
            size_t n = strcspn(v, "\r\n");
            if (n >= outlen) n = outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return 0;
}

long long an_info_ll(const char *info, const char *field, long long dflt) {
    char buf[64];
    return an_info_field(info, field, buf, sizeof(buf)) ? strtoll(buf, NULL, 10) : dflt;
}

double an_info_double(const char *info, const char *field, double dflt) {
    char buf[64];
    return an_info_field(info, field, buf, sizeof(buf)) ? strtod(buf, NULL) : dflt;
}

long long an_info_total_keys(const char *info) {
    long long total = 0;
    for (const char *p = strstr(info, "\ndb"); p; p = strstr(p + 1, "\ndb")) {
        const char *k = strstr(p, ":keys=");
        const char *eol = strchr(p + 1, '\n');
        if (k && (!eol || k < eol)) total += strtoll(k + 6, NULL, 10);
    }
    return total;
}

long long an_config_ll(cli_conn *c, const char *name, long long dflt) {
    const char *argv[3] = {"CONFIG", "GET", name};
    rr_reply *r = an_command(c, 3, argv, NULL);
    long long v = dflt;
    /* RESP2: [name, value]; RESP3: {name: value}. */
    if ((r->type == RR_ARRAY || r->type == RR_MAP) && r->elements >= 2) {
        const char *s = an_str(r->element[1], NULL);
        if (s) v = strtoll(s, NULL, 10);
    }
    rr_reply_free(r);
    return v;
}

int an_is_keel(const char *info) {
    char buf[64];
    return an_info_field(info, "keel_version", buf, sizeof(buf));
}

long long an_dbsize(cli_conn *c) {
    const char *argv[1] = {"DBSIZE"};
    rr_reply *r = an_command(c, 1, argv, NULL);
    if (r->type == RR_ERROR) {
        fprintf(stderr, "Couldn't determine DBSIZE: %s\n", r->str);
        exit(1);
    }
    if (r->type != RR_INTEGER) {
        fprintf(stderr, "Non INTEGER response from DBSIZE!\n");
        exit(1);
    }
    long long n = r->integer;
    rr_reply_free(r);
    return n;
}

/* ---- the SCAN walk ---- */

void an_scan_init(an_scanner *s, cli_ctx *ctx, unsigned long long cursor, int sleep_every) {
    memset(s, 0, sizeof(*s));
    s->c = ctx->conn;
    s->o = ctx->opts;
    s->cursor = cursor;
    s->sleep_every = sleep_every > 0 ? sleep_every : 100;
}

static rr_reply *send_scan(an_scanner *s) {
    char cur[32], count[32];
    const char *argv[9];
    int argc = 0;
    snprintf(cur, sizeof(cur), "%llu", s->cursor);
    argv[argc++] = "SCAN";
    argv[argc++] = cur;
    if (s->o->pattern) {
        argv[argc++] = "MATCH";
        argv[argc++] = s->o->pattern;
    }
    if (s->o->count > 0) {
        snprintf(count, sizeof(count), "%lld", s->o->count);
        argv[argc++] = "COUNT";
        argv[argc++] = count;
    }
    if (s->o->type) {
        argv[argc++] = "TYPE";
        argv[argc++] = s->o->type;
    }
    rr_reply *r = an_command(s->c, argc, argv, NULL);
    if (r->type == RR_ERROR) {
        fprintf(stderr, "SCAN error: %s\n", r->str);
        exit(1);
    }
    if (r->type != RR_ARRAY) {
        fprintf(stderr, "Non ARRAY response from SCAN!\n");
        exit(1);
    }
    if (r->elements != 2 || !an_str(r->element[0], NULL) || r->element[1]->type != RR_ARRAY) {
        fprintf(stderr, "Invalid element count from SCAN!\n");
        exit(1);
    }
    return r;
}

const rr_reply *an_scan_next(an_scanner *s) {
    if (s->last) {
        rr_reply_free(s->last);
        s->last = NULL;
    }
    if (an_cancel || (s->started && s->cursor == 0)) return NULL;
    if (s->started && s->o->interval_us > 0 && s->calls % (unsigned long long)s->sleep_every == 0)
        usleep((useconds_t)s->o->interval_us);
    s->started = 1;
    s->last = send_scan(s);
    s->calls++;
    s->cursor = strtoull(s->last->element[0]->str, NULL, 10);
    return s->last->element[1];
}

void an_scan_done(an_scanner *s) {
    if (s->last) rr_reply_free(s->last);
    s->last = NULL;
}
