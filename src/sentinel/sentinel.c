/*
 * sentinel: start-up of sentinel mode and the timer that drives it.
 *
 * The timer runs about ten times a second with a random part (as Redis
 * randomises its hz in sentinel mode) so that sentinels started together
 * do not act in lockstep and split their votes. Each pass visits every
 * master, its replicas and its sentinels (monitor.c), then completes any
 * failover that reached its last state. TILT: when the clock jumps, or
 * the process was stopped for more than two seconds, every timeout
 * measured so far is meaningless; Sentinel then only watches for 30 s,
 * acting on nothing, as Redis does.
 */
#include "sentinel/sentinel.h"
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int active;

int sentinel_active(void) { return active; }

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int sentinel_mode_requested(int *argc, char **argv) {
    const char *me = base_name(argv[0]);
    int found = !strncmp(me, "keel-sentinel", 13) || !strcmp(me, "redis-sentinel");
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--sentinel")) continue;
        found = 1;
        memmove(argv + i, argv + i + 1, sizeof(*argv) * (size_t)(*argc - i));
        (*argc)--;
        i--;
    }
    active = found;
    return found;
}

/* Sentinel must be reachable by the other sentinels: no protected mode
 * (Redis turns it off in sentinel mode too). */
const char *sentinel_startup_defaults(void) { return "port 26379\nsave \"\"\nappendonly no\nprotected-mode no"; }

static void check_tilt(void) {
    long long now = mstime(), delta = now - sentinel.previous_time;
    if (sentinel.previous_time && (delta < 0 || delta > st.tilt_trigger)) {
        sentinel.tilt = 1;
        sentinel.tilt_start_time = now;
        sentinel_event(LOG_WARNING, "+tilt", NULL, "#tilt mode entered");
    }
    sentinel.previous_time = now;
}

static void switch_to_promoted(sinstance *m) {
    sinstance *ref = m->promoted_slave ? m->promoted_slave : m;
    sentinel_event_of(LOG_WARNING, "+switch-master", m, "%s %s %d %s %d", m->name, shown_addr(m), m->port, shown_addr(ref),
                   ref->port);
    kstr ip = kstr_new(ref->hostname ? ref->hostname : ref->ip);
    master_switch_address(m, ip, ref->port);
    kstr_free(ip);
}

static long long sentinel_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    server_update_cached_time();
    check_tilt();
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        monitor_instance(m);
        for (int j = 0; j < m->slaves.n; j++) monitor_instance(m->slaves.v[j]);
        for (int j = 0; j < m->sentinels.n; j++) monitor_instance(m->sentinels.v[j]);
        if (m->failover_state == FO_UPDATE_CONFIG) switch_to_promoted(m);
    }
    scripts_tick();
    return 50 + (long long)random_below(100);
}

/* From /dev/urandom even when KEEL_RANDOM_SEED fixes the other random
 * choices: sentinels started with the same seed must still differ, or
 * each would take the others' hello messages for its own. */
static void make_myid(void) {
    if (sentinel.myid_set) return;
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[40];
    get_random_bytes(raw, sizeof(raw));
    for (int i = 0; i < 40; i++) sentinel.myid[i] = hex[raw[i] & 15];
    sentinel.myid[40] = '\0';
    sentinel.myid_set = 1;
}

void sentinel_config_loaded(void) {
    if (!server.config_file) {
        server_log(LOG_WARNING, "Sentinel started without a config file. Exiting...");
        server_startup_exit(1);
    }
    if (access(server.config_file, W_OK) == -1) {
        server_log(LOG_WARNING, "Sentinel config file %s is not writable: %s. Exiting...", server.config_file,
                   strerror(errno));
        server_startup_exit(1);
    }
    sentinel_apply_queued_config();
}

void sentinel_start(void) {
    make_myid();
    sentinel_flush_config();
    server_log(LOG_WARNING, "Sentinel ID is %s", sentinel.myid);
    for (int i = 0; i < sentinel.masters.n; i++)
        sentinel_event(LOG_WARNING, "+monitor", sentinel.masters.v[i], "quorum %u", sentinel.masters.v[i]->quorum);
    ev_add_timer(server.el, 100, sentinel_timer, NULL);
}
