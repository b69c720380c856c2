/*
 * latency: the latency monitor (LATENCY LATEST/HISTORY/GRAPH/DOCTOR/RESET)
 * and per-command latency histograms (LATENCY HISTOGRAM).
 *
 * Any code path that may stall the event loop reports how long it took
 * under an event name; a sample is kept only when the monitor is on
 * (latency-monitor-threshold > 0, in milliseconds) and the time reaches
 * the threshold, so an unconditional call costs one comparison. Event
 * names are Redis's ("command", "fast-command", "expire-cycle",
 * "eviction-cycle", "active-defrag-cycle", ...). See latency.c.
 */
#ifndef KEEL_LATENCY_H
#define KEEL_LATENCY_H

#include "core/command.h"
#include "lib/kstr.h"

/* Its setting, latency-monitor-threshold (milliseconds, 0 = monitor off),
 * is in its own parameter table, latency_configs (core/config.h). */

/* Record that event took ms milliseconds (kept if >= the threshold). */
void latency_add_sample(const char *event, long long ms);
/* Same, measured from start_us (a ustime() value) to now. */
void latency_add_sample_since(const char *event, long long start_us);

/* A command ran for duration_us: feeds its histogram and, above the
 * threshold, the "command" or "fast-command" event. */
void latency_command_done(struct command *cmd, long long duration_us);
/* CONFIG RESETSTAT: forget the command's histogram (LATENCY HISTOGRAM
 * lists only commands called since). */
void latency_forget_histogram(struct command *cmd);
/* INFO latencystats: each command's percentiles
 * (latency-tracking-info-percentiles) from its histogram. */
kstr latency_info_section(kstr s);

extern command latency_commands[];

#endif
