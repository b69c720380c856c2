/* See pause.h. */
#include "core/pause.h"
#include "script/script.h"
#include "core/multi.h"
#include "core/server.h"

static int mode;
static long long end_ms;
static int held_writes; /* pause_hold_writes: the server's own write pause */
static int shutdown_pause; /* writes, until pause_during_shutdown(0) */

void pause_during_shutdown(int on) { shutdown_pause = on; }

/* The CLIENT PAUSE part: ends by its timeout or CLIENT UNPAUSE. */
static int client_pause_active(void) {
    if (mode == PAUSE_OFF) return 0;
    if (server_mstime() < end_ms) return 1;
    pause_stop();
    return 0;
}

void pause_start(long long until_ms, int new_mode) {
    if (!client_pause_active()) {
        mode = PAUSE_OFF;
        end_ms = 0;
    }
    if (new_mode > mode) mode = new_mode;
    if (until_ms > end_ms) end_ms = until_ms;
}

void pause_stop(void) {
    mode = PAUSE_OFF;
    end_ms = 0;
}

void pause_hold_writes(int on) { held_writes = on; }

int pause_active(void) { return client_pause_active() || held_writes || shutdown_pause; }

int pause_postpones(const client *c, const command *cmd) {
    if (!pause_active()) return 0;
    if (c->flags & (CLIENT_FAKE | CLIENT_REPLICA)) return 0;
    int m = client_pause_active() ? mode : PAUSE_OFF;
    if ((held_writes || shutdown_pause) && m < PAUSE_WRITE) m = PAUSE_WRITE;
    if (m == PAUSE_ALL) return 1;
    /* EXEC writes when one of its queued commands does. */
    uint64_t flags = script_request_flags(c, cmd);
    if (multi_is_exec(cmd)) flags |= multi_queued_flags(c);
    return (flags & (CMD_WRITE | CMD_MAY_REPLICATE)) != 0;
}
