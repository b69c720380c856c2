/* Placeholder: the blocking machinery arrives with the list type. */
#include "core/blocking.h"

void blocking_init(void) {}
void block_on_keys(client *c, kstr *keys, int nkeys, long long deadline_ms) {
    (void)c; (void)keys; (void)nkeys; (void)deadline_ms;
}
int blocking_is_rerun(client *c) { (void)c; return 0; }
void blocking_signal_key(db *d, const char *key, size_t klen) { (void)d; (void)key; (void)klen; }
void blocking_handle_ready(void) {}
void blocking_cron(void) {}
void blocking_client_gone(client *c) { (void)c; }
long blocking_count(void) { return 0; }
