/*
 * eventloop: a small epoll-based reactor.
 *
 * Keel is single-threaded for commands, like Redis: one loop multiplexes
 * every client socket, and time-based work (expiry, stats, timeouts) runs
 * from a single periodic "cron" timer. A full timer wheel is unnecessary
 * for that, so timers are a short unsorted array scanned each iteration.
 *
 * Handlers are stored per fd in an array indexed by fd, sized from the
 * configured maximum number of clients, so dispatch is O(1).
 */
#ifndef KEEL_EVENTLOOP_H
#define KEEL_EVENTLOOP_H

#define EV_NONE 0
#define EV_READABLE 1
#define EV_WRITABLE 2

typedef struct eventloop eventloop;
typedef void ev_file_proc(eventloop *el, int fd, void *data, int mask);
/* Returns the number of milliseconds until it should run again, or -1 to
 * be removed. */
typedef long long ev_timer_proc(eventloop *el, long long id, void *data);
typedef void ev_hook_proc(eventloop *el);

eventloop *ev_create(int setsize);
void ev_free(eventloop *el);
int ev_set_size(eventloop *el, int setsize);
int ev_get_size(eventloop *el);

int ev_add_file(eventloop *el, int fd, int mask, ev_file_proc *proc, void *data);
void ev_del_file(eventloop *el, int fd, int mask);
int ev_get_file_mask(eventloop *el, int fd);

long long ev_add_timer(eventloop *el, long long ms, ev_timer_proc *proc, void *data);
void ev_del_timer(eventloop *el, long long id);

/* Called before each epoll_wait (flushing replies, etc.). */
void ev_set_before_sleep(eventloop *el, ev_hook_proc *proc);
/* With the barrier on, a socket that is both readable and writable is
 * written before it is read, never after: replies produced by this
 * iteration's reads then leave only from before_sleep, after whatever it
 * does first (the AOF's write and fsync with appendfsync always). */
void ev_set_write_barrier(eventloop *el, int on);
void ev_run(eventloop *el);
/* Handle the file events ready now, without waiting and without timers
 * (serving clients while a slow script runs). */
void ev_process_file_events(eventloop *el);
void ev_stop(eventloop *el);
/* The next wait does not sleep (work is left that no event announces:
 * bytes buffered inside a TLS connection). */
void ev_wake_now(eventloop *el);

#endif
