/*
 * dashboard: the memory page at / and the figures it draws, at
 * /dashboard.json. The page is self-contained (inline CSS and script, the
 * charts are SVG drawn by a few lines of script: nothing from a CDN or
 * npm, it works on a machine without Internet). It asks for the whole
 * history once, then every second only for the samples newer than the last
 * it has (?since=<ms>), so a page left open costs a few hundred bytes a
 * second. Figures are INFO's fields (the same text INFO prints), the
 * history is the memory ring of growth.c, memory by type and the biggest
 * keys come from the background sampler (keysample.c).
 *
 * Every figure on the page carries its raw value in a data-value
 * attribute, which the browser test reads and compares with INFO.
 */
#include "http/http.h"
#include "http/http_internal.h"
#include "memory/memory.h"
#include "core/entry.h"
#include "lib/zmalloc.h"

#include <stdio.h>
#include <string.h>

#define HISTORY_MAX 3600

static kstr json_string(kstr s, const char *v, size_t len) {
    s = kstr_cat(s, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '"' || ch == '\\') s = kstr_cat_printf(s, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f) s = kstr_cat_printf(s, "\\u%04x", ch);
        else s = kstr_cat_len(s, v + i, 1);
    }
    return kstr_cat(s, "\"");
}

static kstr json_figures(kstr s, const info_fields *in) {
    static const char *numbers[] = {
        "used_memory", "used_memory_rss", "used_memory_peak", "maxmemory", "mem_fragmentation_ratio",
        "mem_fragmentation_bytes", "evicted_keys", "keyspace_hits", "keyspace_misses", "used_memory_growth_1min",
        "used_memory_growth_5min", "used_memory_growth_60min", "maxmemory_time_to_full_seconds",
        "rdb_last_save_time", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "connected_clients",
        "instantaneous_ops_per_sec", "uptime_in_seconds"};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        s = kstr_cat_printf(s, "\"%s\":%.15g,", numbers[i], info_number(in, numbers[i], 0));
    const char *status = info_get(in, "rdb_last_bgsave_status");
    const char *policy = info_get(in, "maxmemory_policy");
    s = kstr_cat(s, "\"rdb_last_bgsave_status\":");
    s = json_string(s, status ? status : "", status ? strlen(status) : 0);
    s = kstr_cat(s, ",\"maxmemory_policy\":");
    s = json_string(s, policy ? policy : "", policy ? strlen(policy) : 0);
    return kstr_cat(s, ",");
}

static kstr json_history(kstr s, long long since_ms) {
    memory_sample *h = zmalloc(sizeof(memory_sample) * HISTORY_MAX);
    size_t n = memory_history(h, HISTORY_MAX), first = 0;
    while (first < n && h[first].ms <= since_ms) first++;
    static const char *names[] = {"t", "used", "rss", "frag", "evicted"};
    s = kstr_cat(s, "\"history\":{");
    for (int k = 0; k < 5; k++) {
        s = kstr_cat_printf(s, "%s\"%s\":[", k ? "," : "", names[k]);
        for (size_t i = first; i < n; i++) {
            const memory_sample *m = &h[i];
            if (i > first) s = kstr_cat(s, ",");
            if (k == 0) s = kstr_cat_printf(s, "%lld", m->ms);
            else if (k == 1) s = kstr_cat_printf(s, "%zu", m->used);
            else if (k == 2) s = kstr_cat_printf(s, "%zu", m->rss);
            else if (k == 3) s = kstr_cat_printf(s, "%.3f", m->frag);
            else s = kstr_cat_printf(s, "%lld", m->evicted);
        }
        s = kstr_cat(s, "]");
    }
    zfree(h);
    return kstr_cat(s, "},");
}

static kstr json_profile(kstr s) {
    memory_profile p;
    int passes = memory_keyspace_profile(&p);
    s = kstr_cat_printf(s, "\"profile_passes\":%d,\"by_type\":{", passes);
    int first = 1;
    for (int t = 0; t < TYPE_COUNT; t++) {
        const char *name = entry_type_name(t);
        if (!strcmp(name, "unknown")) continue;
        s = kstr_cat_printf(s, "%s\"%s\":{\"bytes\":%zu,\"keys\":%zu}", first ? "" : ",", name, p.bytes[t], p.keys[t]);
        first = 0;
    }
    s = kstr_cat(s, "},\"big_keys\":[");
    for (int i = 0; i < MEMORY_BIG_KEYS && p.top[i].key; i++) {
        s = kstr_cat(s, i ? ",{\"key\":" : "{\"key\":");
        s = json_string(s, p.top[i].key, kstr_len(p.top[i].key));
        s = kstr_cat_printf(s, ",\"db\":%d,\"type\":\"%s\",\"bytes\":%zu}", p.top[i].db, entry_type_name(p.top[i].type),
                            p.top[i].bytes);
    }
    return kstr_cat(s, "]");
}

kstr dashboard_json(long long since_ms) {
    info_fields *in = info_fields_get("everything");
    kstr s = kstr_cat(kstr_empty(), "{");
    s = json_figures(s, in);
    s = json_history(s, since_ms);
    s = json_profile(s);
    info_fields_free(in);
    return kstr_cat(s, "}");
}

#include "http/dashboard_page.inc"

kstr dashboard_page(void) { return kstr_new(dashboard_html); }
