/*
 * latency: the latency monitor and per-command latency histograms.
 *
 * Design and trade-offs:
 * - An event keeps the last 160 samples in a ring, at most one sample per
 *   second (a second spike in the same second raises that sample instead
 *   of adding one), plus its all-time maximum. So an event costs a fixed
 *   1.3 KB and the history covers at least the last 160 seconds with
 *   spikes, which is what LATENCY HISTORY/GRAPH need; a busier record
 *   would mostly repeat itself. Same rules and reply shapes as Redis,
 *   since exporters read LATENCY LATEST.
 * - Events live in a short unsorted array searched linearly: a server has
 *   a handful of event kinds, and samples arrive only above the threshold
 *   (never in the steady state), so a hash table would buy nothing.
 * - Histograms (LATENCY HISTOGRAM) count every command's duration in
 *   power-of-two buckets (1.024 us * 2^k, Redis's reporting steps), in a
 *   histogram each command points at (allocated when it first runs), so
 *   a command costs two increments: no lookup on every call. Redis keeps a full
 *   HDR histogram per command to serve INFO latencystats percentiles;
 *   Keel's buckets answer LATENCY HISTOGRAM exactly as Redis prints it
 *   (Redis too reports only those power-of-two steps) but cannot give
 *   finer percentiles; INFO latencystats is not served yet.
 * - LATENCY GRAPH and DOCTOR are for humans: their layout and wording are
 *   Keel's own.
 */
#include "core/latency.h"
#include "core/command.h"
#include "core/config.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/client.h"
#include "net/reply.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static long long latency_monitor_threshold = 0;
static int latency_tracking = 1; /* per-command histograms on */

/* INFO latencystats percentiles (latency-tracking-info-percentiles). */
#define MAX_PERCENTILES 32
static double percentiles[MAX_PERCENTILES];
static int npercentiles;

static int set_percentiles(const config_entry *ce, char **argv, int argc, const char **err);
static kstr get_percentiles(const config_entry *ce);

config_entry latency_configs[] = {
    CONFIG_LL("latency-monitor-threshold", &latency_monitor_threshold, "0", 0, LLONG_MAX, 0, NULL),
    CONFIG_BOOL("latency-tracking", &latency_tracking, "yes", 0, NULL),
    CONFIG_SPECIAL("latency-tracking-info-percentiles", NULL, "50 99 99.9", set_percentiles, get_percentiles, 0),
    CONFIG_END,
};

/* All or nothing: each value a number from 0 to 100 ("" means none). */
static int set_percentiles(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    double vals[MAX_PERCENTILES];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (!argv[i][0] && argc == 1) break;
        double v;
        if (n == MAX_PERCENTILES || !string_to_double(argv[i], strlen(argv[i]), &v) || v < 0 || v > 100) {
            *err = "Invalid latency-tracking-info-percentiles parameters";
            return 0;
        }
        vals[n++] = v;
    }
    memcpy(percentiles, vals, sizeof(double) * (size_t)n);
    npercentiles = n;
    return 1;
}

static kstr get_percentiles(const config_entry *ce) {
    (void)ce;
    kstr s = kstr_empty();
    for (int i = 0; i < npercentiles; i++) s = kstr_cat_printf(s, "%s%g", i ? " " : "", percentiles[i]);
    return s;
}

/* ---- events ---- */

#define EVENT_SAMPLES 160
#define EVENT_NAME_MAX 64

typedef struct sample {
    long long time;    /* unix seconds; 0 = empty slot */
    long long ms;
} sample;

typedef struct event {
    char name[EVENT_NAME_MAX];
    sample ring[EVENT_SAMPLES];
    int next;          /* slot of the next new sample */
    long long max_ms;  /* all time, until LATENCY RESET */
} event;

static event **events;
static int nevents, events_cap;

static event *find_event(const char *name, size_t len) {
    for (int i = 0; i < nevents; i++)
        if (strlen(events[i]->name) == len && !memcmp(events[i]->name, name, len)) return events[i];
    return NULL;
}

static event *create_event(const char *name) {
    if (nevents == events_cap) {
        events_cap = events_cap ? events_cap * 2 : 8;
        events = zrealloc(events, sizeof(event *) * (size_t)events_cap);
    }
    event *ev = zcalloc(sizeof(*ev));
    snprintf(ev->name, sizeof(ev->name), "%s", name);
    events[nevents++] = ev;
    return ev;
}

static void remove_event(int i) {
    zfree(events[i]);
    events[i] = events[--nevents];
}

static const sample *latest_sample(const event *ev) {
    return &ev->ring[(ev->next + EVENT_SAMPLES - 1) % EVENT_SAMPLES];
}

static void record(event *ev, long long ms) {
    long long now = (long long)time(NULL);
    sample *last = &ev->ring[(ev->next + EVENT_SAMPLES - 1) % EVENT_SAMPLES];
    if (ms > ev->max_ms) ev->max_ms = ms;
    if (last->time == now) {
        if (ms > last->ms) last->ms = ms;
        return;
    }
    ev->ring[ev->next].time = now;
    ev->ring[ev->next].ms = ms;
    ev->next = (ev->next + 1) % EVENT_SAMPLES;
}

void latency_add_sample(const char *event_name, long long ms) {
    if (latency_monitor_threshold <= 0 || ms < latency_monitor_threshold) return;
    event *ev = find_event(event_name, strlen(event_name));
    if (!ev) ev = create_event(event_name);
    record(ev, ms);
}

void latency_add_sample_since(const char *event_name, long long start_us) {
    if (latency_monitor_threshold <= 0) return;
    latency_add_sample(event_name, (ustime() - start_us) / 1000);
}

/* Samples of ev, oldest first; returns how many were stored in out. */
static int collect_samples(const event *ev, sample *out) {
    int n = 0;
    for (int k = 0; k < EVENT_SAMPLES; k++) {
        const sample *s = &ev->ring[(ev->next + k) % EVENT_SAMPLES];
        if (s->time) out[n++] = *s;
    }
    return n;
}

/* ---- histograms ---- */

#define HIST_BUCKETS 41 /* up to 1.024 us * 2^40, about 13 days */

typedef struct latency_hist {
    const command *cmd;
    long long calls;
    long long buckets[HIST_BUCKETS];
} hist;

/* Each command points at its own histogram (command.latency_hist),
 * allocated the first time it runs: no lookup on the hot path. */
static hist *get_hist(command *cmd) {
    if (!cmd->latency_hist) {
        hist *h = zcalloc(sizeof(*h));
        h->cmd = cmd;
        cmd->latency_hist = h;
    }
    return cmd->latency_hist;
}

static const hist *find_hist(const command *cmd) { return cmd->latency_hist; }

/* Smallest k with duration <= 1.024 us * 2^k. */
static int bucket_of(long long duration_us) {
    if (duration_us <= 1) return 0;
    uint64_t q = ((uint64_t)duration_us * 1000 - 1) >> 10;
    int k = q ? 64 - __builtin_clzll(q) : 0;
    return k < HIST_BUCKETS ? k : HIST_BUCKETS - 1;
}

void latency_command_done(command *cmd, long long duration_us) {
    if (duration_us < 0) duration_us = 0; /* the wall clock stepped back */
    if (latency_tracking) {
        hist *h = get_hist(cmd);
        h->calls++;
        h->buckets[bucket_of(duration_us)]++;
    }
    if (latency_monitor_threshold > 0)
        latency_add_sample(cmd->flags & CMD_FAST ? "fast-command" : "command", duration_us / 1000);
}

void latency_forget_histogram(command *cmd) {
    zfree(cmd->latency_hist);
    cmd->latency_hist = NULL;
}

/* ---- LATENCY LATEST / HISTORY / RESET ---- */

static void latency_latest_command(client *c) {
    reply_array_len(c, nevents);
    for (int i = 0; i < nevents; i++) {
        const event *ev = events[i];
        const sample *s = latest_sample(ev);
        reply_array_len(c, 4);
        reply_bulk_cstr(c, ev->name);
        reply_ll(c, s->time);
        reply_ll(c, s->ms);
        reply_ll(c, ev->max_ms);
    }
}

static void latency_history_command(client *c) {
    const event *ev = find_event(c->argv[2], kstr_len(c->argv[2]));
    if (!ev) {
        reply_empty_array(c);
        return;
    }
    sample s[EVENT_SAMPLES];
    int n = collect_samples(ev, s);
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        reply_array_len(c, 2);
        reply_ll(c, s[i].time);
        reply_ll(c, s[i].ms);
    }
}

static void latency_reset_command(client *c) {
    long removed = 0;
    if (c->argc == 2) {
        removed = nevents;
        while (nevents) remove_event(nevents - 1);
    }
    for (int j = 2; j < c->argc; j++) {
        for (int i = 0; i < nevents; i++) {
            if (strlen(events[i]->name) == kstr_len(c->argv[j]) && !memcmp(events[i]->name, c->argv[j], kstr_len(c->argv[j]))) {
                remove_event(i);
                removed++;
                break;
            }
        }
    }
    reply_ll(c, removed);
}

/* ---- LATENCY GRAPH ---- */

#define GRAPH_ROWS 8
#define GRAPH_COLS 72

static kstr cat_age(kstr s, long long secs) {
    if (secs < 0) secs = 0;
    if (secs < 60) return kstr_cat_printf(s, "%llds", secs);
    if (secs < 3600) return kstr_cat_printf(s, "%lldm%llds", secs / 60, secs % 60);
    if (secs < 86400) return kstr_cat_printf(s, "%lldh%lldm", secs / 3600, secs % 3600 / 60);
    return kstr_cat_printf(s, "%lldd%lldh", secs / 86400, secs % 86400 / 3600);
}

/* Height of a column, 1..GRAPH_ROWS: the lowest sample still shows. */
static int column_height(long long ms, long long lo, long long hi) {
    if (hi == lo) return GRAPH_ROWS;
    return 1 + (int)((ms - lo) * (GRAPH_ROWS - 1) / (hi - lo));
}

static kstr render_graph(const event *ev) {
    sample all[EVENT_SAMPLES];
    int n = collect_samples(ev, all);
    const sample *s = n > GRAPH_COLS ? all + (n - GRAPH_COLS) : all;
    if (n > GRAPH_COLS) n = GRAPH_COLS;
    long long lo = s[0].ms, hi = s[0].ms;
    for (int i = 1; i < n; i++) {
        if (s[i].ms < lo) lo = s[i].ms;
        if (s[i].ms > hi) hi = s[i].ms;
    }
    kstr g = kstr_cat_printf(kstr_empty(), "%s: %d samples, lowest %lld ms, highest %lld ms, all-time highest %lld ms\n",
                             ev->name, n, lo, hi, ev->max_ms);
    for (int row = GRAPH_ROWS; row >= 1; row--) {
        if (row == GRAPH_ROWS) g = kstr_cat_printf(g, "%8lld ms |", hi);
        else if (row == 1) g = kstr_cat_printf(g, "%8lld ms |", lo);
        else g = kstr_cat(g, "            |");
        for (int i = 0; i < n; i++) g = kstr_cat(g, column_height(s[i].ms, lo, hi) >= row ? "#" : " ");
        g = kstr_cat(g, "\n");
    }
    g = kstr_cat(g, "            +");
    for (int i = 0; i < n; i++) g = kstr_cat(g, "-");
    long long now = (long long)time(NULL);
    g = kstr_cat(g, "\n             one column per second with a spike; oldest ");
    g = cat_age(g, now - s[0].time);
    g = kstr_cat(g, " ago, newest ");
    g = cat_age(g, now - s[n - 1].time);
    return kstr_cat(g, " ago\n");
}

static void latency_graph_command(client *c) {
    const event *ev = find_event(c->argv[2], kstr_len(c->argv[2]));
    if (!ev) {
        reply_errorf(c, "ERR No samples available for event '%.128s'", c->argv[2]);
        return;
    }
    kstr g = render_graph(ev);
    reply_verbatim(c, g, kstr_len(g), "txt");
    kstr_free(g);
}

/* ---- LATENCY DOCTOR ---- */

static const char *event_advice(const char *name) {
    if (!strcmp(name, "command"))
        return "Slow commands: SLOWLOG GET names them. Commands that walk a whole value or keyspace "
               "(KEYS, SMEMBERS, HGETALL, LRANGE 0 -1, SORT, ZUNIONSTORE, DEL of a big key, FLUSHALL) "
               "take time proportional to its size; prefer SCAN-style iteration, smaller values, UNLINK "
               "and FLUSHALL ASYNC.";
    if (!strcmp(name, "fast-command"))
        return "Commands that should take microseconds took milliseconds: the process was probably not "
               "running (swapping, a saturated or oversubscribed CPU, a stopped process, transparent huge "
               "pages). Check the host rather than the commands.";
    if (!strcmp(name, "expire-cycle"))
        return "Removing expired keys took long: many keys expiring at the same moment, or large values "
               "expiring. Spread expiry times, and consider lazyfree-lazy-expire yes.";
    if (!strncmp(name, "eviction", 8))
        return "Evicting keys took long: writes arrive faster than memory is freed, or evicted values are "
               "large. Consider lazyfree-lazy-eviction yes, or more maxmemory.";
    if (!strncmp(name, "active-defrag", 13))
        return "Active defragmentation took long: lower active-defrag-cycle-max to give it less CPU per tick.";
    return "No specific advice for this event.";
}

static kstr describe_event(kstr r, const event *ev, int number) {
    sample s[EVENT_SAMPLES];
    int n = collect_samples(ev, s);
    long long sum = 0, lo = n ? s[0].ms : 0, hi = lo;
    for (int i = 0; i < n; i++) {
        sum += s[i].ms;
        if (s[i].ms < lo) lo = s[i].ms;
        if (s[i].ms > hi) hi = s[i].ms;
    }
    r = kstr_cat_printf(r, "%d. Event \"%s\": %d spike%s recorded", number, ev->name, n, n == 1 ? "" : "s");
    if (n) r = kstr_cat_printf(r, ", %lld to %lld ms, %lld ms on average", lo, hi, sum / n);
    if (n > 1) r = kstr_cat_printf(r, ", one every %lld s on average", (s[n - 1].time - s[0].time) / (n - 1));
    r = kstr_cat_printf(r, ". Worst since the last reset: %lld ms.\n   %s\n\n", ev->max_ms, event_advice(ev->name));
    return r;
}

static kstr doctor_report(void) {
    kstr r = kstr_empty();
    if (latency_monitor_threshold <= 0 && nevents == 0)
        return kstr_cat(r, "The latency monitor is off (latency-monitor-threshold is 0), so there is nothing to "
                           "analyse. Turn it on with CONFIG SET latency-monitor-threshold <milliseconds>: every "
                           "command or internal task that takes at least that long is then recorded.\n");
    if (nevents == 0)
        return kstr_cat_printf(r, "No event reached the latency-monitor-threshold of %lld ms since the monitor was "
                                  "enabled or last reset. Nothing to report.\n", latency_monitor_threshold);
    r = kstr_cat_printf(r, "Latency report: %d kind%s of event reached the threshold of %lld ms.\n\n", nevents,
                        nevents == 1 ? "" : "s", latency_monitor_threshold);
    for (int i = 0; i < nevents; i++) r = describe_event(r, events[i], i + 1);
    return kstr_cat(r, "LATENCY HISTORY <event> lists the samples, LATENCY GRAPH <event> draws them, "
                       "LATENCY RESET clears them.\n");
}

static void latency_doctor_command(client *c) {
    kstr r = doctor_report();
    reply_verbatim(c, r, kstr_len(r), "txt");
    kstr_free(r);
}

/* ---- LATENCY HISTOGRAM ---- */

static void reply_histogram(client *c, const hist *h) {
    reply_bulk_cstr(c, h->cmd->fullname);
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_ll(c, h->calls);
    reply_bulk_cstr(c, "histogram_usec");
    long nonempty = 0;
    for (int k = 0; k < HIST_BUCKETS; k++) nonempty += h->buckets[k] != 0;
    reply_map_len(c, nonempty);
    long long cumulative = 0;
    for (int k = 0; k < HIST_BUCKETS; k++) {
        if (!h->buckets[k]) continue;
        cumulative += h->buckets[k];
        reply_ll(c, (long long)((1024ULL << k) / 1000));
        reply_ll(c, cumulative);
    }
}

/* A command and, for a container, its subcommands: histograms in reply. */
static long reply_command_histograms(client *c, const command *cmd) {
    long n = 0;
    const hist *h = find_hist(cmd);
    if (h && h->calls) {
        reply_histogram(c, h);
        n++;
    }
    if (cmd->subcommands)
        for (const command *sub = cmd->subcommands; sub->name; sub++) n += reply_command_histograms(c, sub);
    return n;
}

typedef struct visit_state {
    client *c;
    long n;
} visit_state;

static void visit_all(command *cmd, void *priv) {
    visit_state *vs = priv;
    vs->n += reply_command_histograms(vs->c, cmd);
}

/* "name" or "container|sub", as Redis accepts them. */
static const command *lookup_by_fullname(const kstr arg) {
    const char *bar = memchr(arg, '|', kstr_len(arg));
    if (!bar) return command_lookup(arg, kstr_len(arg));
    kstr argv[2] = {kstr_new_len(arg, (size_t)(bar - arg)),
                    kstr_new_len(bar + 1, kstr_len(arg) - (size_t)(bar - arg) - 1)};
    const command *cmd = command_lookup_argv(2, argv);
    if (cmd && !cmd->parent) cmd = NULL; /* "get|x" is no subcommand */
    kstr_free(argv[0]);
    kstr_free(argv[1]);
    return cmd;
}

static void latency_histogram_command(client *c) {
    void *len = reply_deferred_len(c);
    visit_state vs = {c, 0};
    if (c->argc == 2) {
        command_foreach(visit_all, &vs);
    } else {
        for (int j = 2; j < c->argc; j++) {
            const command *cmd = lookup_by_fullname(c->argv[j]);
            if (cmd) vs.n += reply_command_histograms(c, cmd);
        }
    }
    reply_set_deferred_map_len(c, len, vs.n);
}

/* ---- INFO latencystats ---- */

/* The upper bound, in microseconds, of the bucket holding percentile pct:
 * the histogram's resolution is a factor of two, as LATENCY HISTOGRAM
 * shows it (Redis's HDR histograms give two significant digits). */
static double percentile_us(const hist *h, double pct) {
    long long want = (long long)((pct / 100.0) * (double)h->calls + 0.999999);
    if (want < 1) want = 1;
    long long seen = 0;
    int k = 0;
    for (; k < HIST_BUCKETS - 1; k++) {
        seen += h->buckets[k];
        if (seen >= want) break;
    }
    return (double)(1024ULL << k) / 1000.0;
}

static void info_one(command *cmd, void *priv) {
    kstr *s = priv;
    const hist *h = find_hist(cmd);
    if (h && h->calls) {
        *s = kstr_cat_printf(*s, "latency_percentiles_usec_%s:", cmd->fullname);
        for (int i = 0; i < npercentiles; i++)
            *s = kstr_cat_printf(*s, "%sp%g=%.3f", i ? "," : "", percentiles[i], percentile_us(h, percentiles[i]));
        *s = kstr_cat(*s, "\r\n");
    }
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) info_one(sub, priv);
}

kstr latency_info_section(kstr s) {
    s = kstr_cat(s, "# Latencystats\r\n");
    if (latency_tracking) command_foreach(info_one, &s);
    return s;
}

/* ---- LATENCY HELP and the table ---- */

/* Redis's LATENCY HELP ends with "Prints this help." (not the common
 * "Print this help." of reply_help), so the lines are written here. */
static void latency_help_command(client *c) {
    static const char *const lines[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    };
    long n = (long)(sizeof(lines) / sizeof(lines[0]));
    reply_array_len(c, n);
    for (long i = 0; i < n; i++) reply_status(c, lines[i]);
}

static command latency_subcommands[] = {
    {"doctor", latency_doctor_command, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.8.13", "Return a human readable latency analysis report.", NULL},
    {"graph", latency_graph_command, 3, "admin noscript loading stale", 0, 0, 0, "server", "2.8.13", "Return a latency graph for the event.", NULL},
    {"histogram", latency_histogram_command, -2, "admin noscript loading stale", 0, 0, 0, "server", "7.0.0", "Return the cumulative distribution of latencies of a subset of commands or all.", NULL},
    {"history", latency_history_command, 3, "admin noscript loading stale", 0, 0, 0, "server", "2.8.13", "Return timestamp-latency samples for the event.", NULL},
    {"latest", latency_latest_command, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.8.13", "Return the latest latency samples for all events.", NULL},
    {"reset", latency_reset_command, -2, "admin noscript loading stale", 0, 0, 0, "server", "2.8.13", "Reset latency data for one or more events.", NULL},
    {"help", latency_help_command, 2, "loading stale", 0, 0, 0, "server", "2.8.13", "Show helpful text about the different subcommands.", NULL},
    {0},
};

command latency_commands[] = {
    {"latency", NULL, -2, "", 0, 0, 0, "server", "2.8.13", "A container for latency diagnostics commands", latency_subcommands},
    {0},
};
