/*
 * loading: the state of a dataset load (RDB file, AOF, or later a
 * replica's sync), shared by the loaders in this folder.
 *
 * Why a module of its own: a load at start-up can take minutes, and Redis
 * users expect the server to answer meanwhile (PING, INFO with its
 * loading_* progress fields, -LOADING for the rest) rather than refuse
 * connections; both loaders (rdb and aof) report progress here, and this
 * decides when clients are served. Internal to src/persist.
 */
#ifndef KEEL_PERSIST_LOADING_H
#define KEEL_PERSIST_LOADING_H

#include "lib/kstr.h"

/* Starts (or nests inside) a load of total_bytes. While any load runs,
 * rdb_loading is 1 and commands without the "loading" flag get -LOADING. */
void loading_begin(long long total_bytes);
void loading_end(void);
/* The outermost load has consumed `bytes` of its input. Every
 * loading-process-events-interval-bytes, when clients may be served (a
 * start-up load, not DEBUG RELOAD running inside a command), serves them;
 * a SHUTDOWN or SIGTERM received then ends the process without saving. */
void loading_progress(long long bytes);
/* Called per key loaded: key-load-delay, the suite's way to slow a load. */
void loading_key_delay(void);
/* The RDB's used-mem aux field, shown as loading_rdb_used_mem. */
void loading_note_rdb_used_mem(long long bytes);
/* Start-up loads serve clients; loads inside a command do not. */
void loading_serve_clients(int on);
/* An async load (repl-diskless-load swapdb): swap(ctx) exchanges the
 * live dataset with the old one; it is called before and after clients
 * are served, so that they see the old dataset, with rdb_async_loading
 * set and rdb_loading clear meanwhile. NULL ends it. */
void loading_set_async(void (*swap)(void *ctx), void *ctx);
/* INFO persistence's loading_* fields, present only while loading. */
kstr loading_info_fields(kstr s);

#endif
