/* See inststats.h. */
#include "core/inststats.h"
#include "core/server.h"

#define INST_SAMPLES 16
#define INST_PERIOD_MS 100

typedef struct tracker {
    long long last_value;
    double rates[INST_SAMPLES];
    int next;
    int filled;
} tracker;

static tracker trackers[INST_COUNT];
static long long last_sample_ms;

static long long counter_value(int which) {
    switch (which) {
    case INST_OPS: return server.stat.numcommands;
    case INST_NET_INPUT: return server.stat.net_input_bytes;
    default: return server.stat.net_output_bytes;
    }
}

static void track(tracker *t, long long value, long long elapsed_ms) {
    double rate = (double)(value - t->last_value) * 1000.0 / (double)elapsed_ms;
    t->last_value = value;
    t->rates[t->next] = rate < 0 ? 0 : rate;
    t->next = (t->next + 1) % INST_SAMPLES;
    if (t->filled < INST_SAMPLES) t->filled++;
}

void inststats_cron(void) {
    long long now = server_mstime();
    if (last_sample_ms == 0) {
        for (int i = 0; i < INST_COUNT; i++) trackers[i].last_value = counter_value(i);
        last_sample_ms = now;
        return;
    }
    long long elapsed = now - last_sample_ms;
    if (elapsed < INST_PERIOD_MS) return;
    for (int i = 0; i < INST_COUNT; i++) track(&trackers[i], counter_value(i), elapsed);
    last_sample_ms = now;
}

double inststats_rate(int which) {
    const tracker *t = &trackers[which];
    if (!t->filled) return 0.0;
    double sum = 0;
    for (int i = 0; i < t->filled; i++) sum += t->rates[i];
    return sum / t->filled;
}
