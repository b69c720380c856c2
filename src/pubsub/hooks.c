/* See hooks.h. */
#include "pubsub/hooks.h"
#include "pubsub/monitor.h"
#include "pubsub/pubsub.h"
#include "pubsub/tracking.h"

void messaging_before_command(client *c, const struct command *cmd) {
    monitor_feed_before(c, cmd);
    tracking_before_command(c);
}

void messaging_after_command(client *c, const struct command *cmd) {
    monitor_feed(c, cmd);
    tracking_after_command(c, cmd);
}

void messaging_client_gone(client *c) {
    pubsub_client_gone(c);
    tracking_client_gone(c);
    monitor_client_gone(c);
}

void messaging_before_sleep(void) { tracking_before_sleep(); }

void messaging_client_fields(const client *c, size_t *sub, size_t *psub, size_t *ssub, long long *redir,
                             const char **tracking_flags) {
    pubsub_client_counts(c, sub, psub, ssub);
    *redir = tracking_redirect_of(c);
    *tracking_flags = tracking_flag_letters(c);
}
