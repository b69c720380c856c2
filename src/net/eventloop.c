/* See eventloop.h for the design. */
#include "net/eventloop.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct file_event {
    int mask;
    ev_file_proc *rproc, *wproc;
    void *data;
} file_event;

typedef struct timer_event {
    long long id;
    long long when_us;
    ev_timer_proc *proc;
    void *data;
} timer_event;

struct eventloop {
    int epfd;
    int setsize;
    file_event *events;
    struct epoll_event *fired;
    timer_event *timers;
    int ntimers;
    long long next_timer_id;
    int stop;
    int write_barrier;
    int wake_now;
    ev_hook_proc *before_sleep;
};

eventloop *ev_create(int setsize) {
    eventloop *el = zcalloc(sizeof(*el));
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (el->epfd < 0) {
        zfree(el);
        return NULL;
    }
    el->setsize = setsize;
    el->events = zcalloc(sizeof(file_event) * (size_t)setsize);
    el->fired = zcalloc(sizeof(struct epoll_event) * (size_t)setsize);
    return el;
}

void ev_free(eventloop *el) {
    close(el->epfd);
    zfree(el->events);
    zfree(el->fired);
    zfree(el->timers);
    zfree(el);
}

int ev_get_size(eventloop *el) { return el->setsize; }

int ev_set_size(eventloop *el, int setsize) {
    if (setsize == el->setsize) return 0;
    for (int fd = setsize; fd < el->setsize; fd++)
        if (el->events[fd].mask) return -1;
    el->events = zrealloc(el->events, sizeof(file_event) * (size_t)setsize);
    el->fired = zrealloc(el->fired, sizeof(struct epoll_event) * (size_t)setsize);
    for (int fd = el->setsize; fd < setsize; fd++) memset(&el->events[fd], 0, sizeof(file_event));
    el->setsize = setsize;
    return 0;
}

static int epoll_update(eventloop *el, int fd, int oldmask, int newmask) {
    struct epoll_event ee = {0};
    ee.events = (newmask & EV_READABLE ? EPOLLIN : 0) | (newmask & EV_WRITABLE ? EPOLLOUT : 0);
    ee.data.fd = fd;
    int op = oldmask == EV_NONE ? EPOLL_CTL_ADD : (newmask == EV_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    return epoll_ctl(el->epfd, op, fd, &ee);
}

int ev_add_file(eventloop *el, int fd, int mask, ev_file_proc *proc, void *data) {
    if (fd >= el->setsize) {
        errno = ERANGE;
        return -1;
    }
    file_event *fe = &el->events[fd];
    int newmask = fe->mask | mask;
    if (newmask != fe->mask && epoll_update(el, fd, fe->mask, newmask) < 0) return -1;
    fe->mask = newmask;
    if (mask & EV_READABLE) fe->rproc = proc;
    if (mask & EV_WRITABLE) fe->wproc = proc;
    fe->data = data;
    return 0;
}

void ev_del_file(eventloop *el, int fd, int mask) {
    if (fd >= el->setsize) return;
    file_event *fe = &el->events[fd];
    if (fe->mask == EV_NONE) return;
    int newmask = fe->mask & ~mask;
    if (newmask != fe->mask) epoll_update(el, fd, fe->mask, newmask);
    fe->mask = newmask;
}

int ev_get_file_mask(eventloop *el, int fd) {
    return fd < el->setsize ? el->events[fd].mask : 0;
}

long long ev_add_timer(eventloop *el, long long ms, ev_timer_proc *proc, void *data) {
    el->timers = zrealloc(el->timers, sizeof(timer_event) * (size_t)(el->ntimers + 1));
    timer_event *t = &el->timers[el->ntimers++];
    t->id = el->next_timer_id++;
    t->when_us = monotonic_us() + ms * 1000;
    t->proc = proc;
    t->data = data;
    return t->id;
}

void ev_del_timer(eventloop *el, long long id) {
    for (int i = 0; i < el->ntimers; i++) {
        if (el->timers[i].id == id) {
            el->timers[i] = el->timers[--el->ntimers];
            return;
        }
    }
}

void ev_set_before_sleep(eventloop *el, ev_hook_proc *proc) { el->before_sleep = proc; }

void ev_set_write_barrier(eventloop *el, int on) { el->write_barrier = on; }
void ev_stop(eventloop *el) { el->stop = 1; }

void ev_wake_now(eventloop *el) { el->wake_now = 1; }

static int wait_timeout_ms(eventloop *el) {
    if (el->wake_now) {
        el->wake_now = 0;
        return 0;
    }
    if (el->ntimers == 0) return 1000;
    long long now = monotonic_us(), nearest = el->timers[0].when_us;
    for (int i = 1; i < el->ntimers; i++)
        if (el->timers[i].when_us < nearest) nearest = el->timers[i].when_us;
    long long ms = (nearest - now + 999) / 1000;
    return ms < 0 ? 0 : (int)ms;
}

static void run_timers(eventloop *el) {
    long long now = monotonic_us();
    for (int i = 0; i < el->ntimers; i++) {
        timer_event *t = &el->timers[i];
        if (t->when_us > now) continue;
        long long id = t->id;
        long long again = t->proc(el, id, t->data);
        /* The callback may have added or removed timers: find ours again. */
        for (int j = 0; j < el->ntimers; j++) {
            if (el->timers[j].id != id) continue;
            if (again < 0) el->timers[j] = el->timers[--el->ntimers];
            else el->timers[j].when_us = monotonic_us() + again * 1000;
            break;
        }
    }
}

/* fired is the loop's own array, or a separate one for a nested call
 * (a slow script serving clients from inside a handler of the outer
 * iteration, which still reads its own array afterwards). */
static void process_file_events(eventloop *el, struct epoll_event *fired, int size, int timeout_ms) {
    int n = epoll_wait(el->epfd, fired, size, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct epoll_event *e = &fired[i];
        int fd = e->data.fd;
        file_event *fe = &el->events[fd];
        int readable = e->events & (EPOLLIN | EPOLLERR | EPOLLHUP);
        int writable = e->events & (EPOLLOUT | EPOLLERR | EPOLLHUP);
        int fired_read = 0;
        if (el->write_barrier && writable && (fe->mask & EV_WRITABLE)) {
            /* Older output first; what this read produces waits for
             * before_sleep (see ev_set_write_barrier). */
            fe->wproc(el, fd, fe->data, EV_WRITABLE);
            writable = 0;
            fe = &el->events[fd];
        }
        if (readable && (fe->mask & EV_READABLE)) {
            fired_read = 1;
            fe->rproc(el, fd, fe->data, EV_READABLE);
        }
        /* The read handler may have closed and reused the fd: re-check. */
        fe = &el->events[fd];
        if (writable && (fe->mask & EV_WRITABLE) && (!fired_read || fe->wproc != fe->rproc))
            fe->wproc(el, fd, fe->data, EV_WRITABLE);
    }
}

static void process_events(eventloop *el) {
    process_file_events(el, el->fired, el->setsize, wait_timeout_ms(el));
    run_timers(el);
}

void ev_process_file_events(eventloop *el) {
    struct epoll_event fired[128];
    process_file_events(el, fired, 128, 0);
}

void ev_run(eventloop *el) {
    el->stop = 0;
    while (!el->stop) {
        if (el->before_sleep) el->before_sleep(el);
        process_events(el);
    }
}
