/* See loading.h. The figures and their names are Redis 7.0's INFO
 * persistence fields, so that tools waiting for a load (the suite's
 * wait_done_loading, operators' scripts) read Keel's unchanged. */
#include "persist/loading.h"

#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/server.h"
#include "lib/util.h"
#include "net/client.h"
#include "persist/rdb.h"

/* Declared in rdb.h: dispatch reads them; only this file writes them. */
int rdb_loading, rdb_async_loading;

static struct {
    int depth;              /* nested loads: an AOF's RDB preamble */
    int serve_clients;
    long long start_time;   /* unix seconds */
    long long start_us;
    long long total_bytes, loaded_bytes, events_at_bytes;
    long long rdb_used_mem; /* the writer's used-mem aux field */
    void (*async_swap)(void *ctx);
    void *async_ctx;
} L;

static int events_interval_bytes = 2 * 1024 * 1024;
static int key_load_delay;

config_entry loading_configs[] = {
    CONFIG_INT("loading-process-events-interval-bytes", &events_interval_bytes, "2097152", 1024, INT_MAX,
               CF_HIDDEN, NULL),
    CONFIG_INT("key-load-delay", &key_load_delay, "0", INT_MIN, INT_MAX, CF_HIDDEN, NULL),
    CONFIG_END,
};

void loading_begin(long long total_bytes) {
    if (L.depth++ > 0) return;
    L.start_time = (long long)time(NULL);
    L.start_us = ustime();
    L.total_bytes = total_bytes;
    L.loaded_bytes = L.events_at_bytes = 0;
    L.rdb_used_mem = 0;
    rdb_loading = 1;
}

void loading_end(void) {
    if (L.depth == 0 || --L.depth > 0) return;
    rdb_loading = 0;
}

void loading_serve_clients(int on) { L.serve_clients = on; }

void loading_note_rdb_used_mem(long long bytes) { L.rdb_used_mem = bytes; }

void loading_set_async(void (*swap)(void *ctx), void *ctx) {
    L.async_swap = swap;
    L.async_ctx = ctx;
}

static void serve_clients_now(void) {
    server_update_cached_time();
    void (*swap)(void *) = L.async_swap;
    void *ctx = L.async_ctx;
    if (swap) {
        swap(ctx);
        rdb_loading = 0;
        rdb_async_loading = 1;
    }
    clients_process_while_busy();
    if (swap) {
        rdb_async_loading = 0;
        rdb_loading = L.depth > 0;
        swap(ctx);
    }
    if (!server.shutdown_asap) return;
    /* Nothing is saved: the dataset is half loaded, and the file it comes
     * from is the good copy (Redis also skips the save while loading). */
    server_log(LOG_WARNING, "Shutdown requested while loading the dataset: exiting without saving.");
    clients_flush_pending_writes();
    if (server.pidfile && server.pidfile[0]) unlink(server.pidfile);
    server_log(LOG_WARNING, "Keel is now ready to exit, bye bye...");
    exit(server.exit_code);
}

void loading_progress(long long bytes) {
    if (L.depth == 0) return;
    L.loaded_bytes = bytes;
    if (!L.serve_clients || bytes - L.events_at_bytes < events_interval_bytes) return;
    L.events_at_bytes = bytes;
    serve_clients_now();
}

void rdb_load_serve_clients(void) {
    if (L.depth > 0 && L.serve_clients) serve_clients_now();
}

void loading_key_delay(void) {
    if (key_load_delay > 0) usleep((useconds_t)key_load_delay);
}

kstr loading_info_fields(kstr s) {
    if (L.depth == 0) return s;
    double perc = L.total_bytes ? (double)L.loaded_bytes * 100.0 / (double)L.total_bytes : 0.0;
    long long elapsed_s = (ustime() - L.start_us) / 1000000;
    long long eta = -1;
    if (L.loaded_bytes > 0 && L.total_bytes >= L.loaded_bytes)
        eta = (long long)((double)elapsed_s * (double)(L.total_bytes - L.loaded_bytes) / (double)L.loaded_bytes);
    return kstr_cat_printf(s,
                           "loading_start_time:%lld\r\n"
                           "loading_total_bytes:%lld\r\n"
                           "loading_rdb_used_mem:%lld\r\n"
                           "loading_loaded_bytes:%lld\r\n"
                           "loading_loaded_perc:%.2f\r\n"
                           "loading_eta_seconds:%lld\r\n",
                           L.start_time, L.total_bytes, L.rdb_used_mem, L.loaded_bytes, perc, eta);
}
