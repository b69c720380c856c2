/*
 * acl_check: may this user run this request? The command bit (or an
 * allowed first argument), then every key against the key patterns with
 * the access the command's key specs say it needs (%R for access, %W
 * for insert, update, delete), then every channel of the Pub/Sub
 * commands. A user passes when one selector passes; otherwise the error
 * reported is the most specific one (a key or channel over the command),
 * as Redis picks it. Denials and failed authentications go to the ACL
 * log (entries repeated within a minute are merged and counted) and to
 * INFO's acl_access_denied_* counters.
 */
#include "acl/acl_internal.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <string.h>
#include <strings.h>

static long long denied_auth, denied_cmd, denied_key, denied_channel;
long long acl_log_max_len = 128;

acl_user *acl_client_user(const client *c) { return c->user ? c->user : acl_default_user; }

/* The server's own clients (the AOF being loaded, a replica's link to its
 * master) run whatever they carry, as Redis's clients without a user. */
static int superuser(const client *c) { return (c->flags & (CLIENT_FAKE | CLIENT_MASTER)) != 0; }

const char *acl_client_user_name(const client *c) { return acl_client_user(c)->name; }

/* ---- Keys ---- */

/* What a key needs from the patterns: reading its data (access) needs
 * %R, changing it (insert, delete, update) %W; a key only tested for
 * existence or size (plain RO or RW) is allowed by any pattern that
 * matches it, as Redis 7.0 decides. */
static int key_perm_needed(const char *flags) {
    int perm = 0;
    if (strstr(flags, "access")) perm |= ACL_PERM_READ;
    if (strstr(flags, "insert") || strstr(flags, "delete") || strstr(flags, "update")) perm |= ACL_PERM_WRITE;
    return perm;
}

/* Shard channel commands name their channel where a key would be (for
 * cluster routing), but it is a channel, not a key. */
static int channels_not_keys(const command *cmd) {
    return !strcmp(cmd->fullname, "spublish") || !strcmp(cmd->fullname, "ssubscribe") ||
           !strcmp(cmd->fullname, "sunsubscribe");
}

static int key_allowed(const selector *s, const char *key, size_t len, int perm) {
    if (s->flags & SEL_ALLKEYS) return 1;
    for (int i = 0; i < s->nkeys; i++) {
        if ((s->keys[i].perm & perm) != perm) continue;
        if (glob_match(s->keys[i].pat, kstr_len(s->keys[i].pat), key, len, 0)) return 1;
    }
    return 0;
}

/* ---- Channels ---- */

int acl_channel_matches(const selector *s, const char *ch, size_t len, int is_pattern) {
    if (s->flags & SEL_ALLCHANNELS) return 1;
    for (int i = 0; i < s->nchannels; i++) {
        const kstr p = s->channels[i];
        if (is_pattern ? (kstr_len(p) == len && !memcmp(p, ch, len)) : glob_match(p, kstr_len(p), ch, len, 0))
            return 1;
    }
    return 0;
}

/* The channel arguments of cmd: first index, step 1, last (-1: all), and
 * whether they are patterns. Returns 0 for a command without channels. */
static int channel_args(const command *cmd, int argc, int *first, int *last, int *is_pattern) {
    const char *n = cmd->fullname;
    *is_pattern = 0;
    *first = 1;
    if (!strcmp(n, "subscribe") || !strcmp(n, "ssubscribe")) *last = argc - 1;
    else if (!strcmp(n, "psubscribe")) {
        *last = argc - 1;
        *is_pattern = 1;
    } else if (!strcmp(n, "publish") || !strcmp(n, "spublish")) *last = 1;
    else return 0;
    return 1;
}

/* ---- Commands ---- */

static int command_allowed(const selector *s, const command *cmd, int argc, kstr *argv) {
    if ((s->flags & SEL_ALLCOMMANDS) || (cmd->flags & CMD_NO_AUTH)) return 1;
    if (acl_selector_allows_cmd_bit(s, cmd->acl_id)) return 1;
    int idx = cmd->parent ? 2 : 1;
    if (argc <= idx || !s->firstargs || !s->firstargs[cmd->acl_id]) return 0;
    for (int i = 0; s->firstargs[cmd->acl_id][i]; i++) {
        const kstr a = s->firstargs[cmd->acl_id][i];
        if (kstr_len(a) == kstr_len(argv[idx]) && !strcasecmp(a, argv[idx])) return 1;
    }
    return 0;
}

/* The keys of one request, found once for all selectors; small requests
 * use the inline arrays. */
#define KC_INLINE 16
typedef struct {
    int ready, n;
    int *idx, *perm;
    int idx_buf[KC_INLINE], perm_buf[KC_INLINE];
} key_cache;

static void key_cache_init(key_cache *kc) {
    kc->ready = kc->n = 0;
    kc->idx = kc->idx_buf;
    kc->perm = kc->perm_buf;
}

static void key_cache_free(key_cache *kc) {
    if (kc->idx != kc->idx_buf) zfree(kc->idx);
    if (kc->perm != kc->perm_buf) zfree(kc->perm);
}

/* What each command's first and other keys need, by command id, found in
 * keyspec's rows once (SET and BITFIELD depend on their arguments). */
static signed char *perm_first, *perm_rest;

static int variable_key_flags(const command *cmd) {
    return !strcmp(cmd->fullname, "set") || !strcmp(cmd->fullname, "bitfield");
}

static int key_perm_of(command *cmd, int argc, kstr *argv, int nth) {
    if (variable_key_flags(cmd)) return key_perm_needed(command_key_flags(cmd, argc, argv, nth));
    if (!perm_first) {
        perm_first = zmalloc((size_t)acl_ncommand_ids);
        perm_rest = zmalloc((size_t)acl_ncommand_ids);
        memset(perm_first, -1, (size_t)acl_ncommand_ids);
        memset(perm_rest, -1, (size_t)acl_ncommand_ids);
    }
    signed char *slot = nth > 0 ? &perm_rest[cmd->acl_id] : &perm_first[cmd->acl_id];
    if (*slot < 0) *slot = (signed char)key_perm_needed(command_key_flags(cmd, argc, argv, nth));
    return *slot;
}

static void keys_of(key_cache *kc, command *cmd, int argc, kstr *argv) {
    if (kc->ready) return;
    kc->ready = 1;
    if (argc + 1 > KC_INLINE) {
        kc->idx = zmalloc(sizeof(int) * (size_t)(argc + 1));
        kc->perm = zmalloc(sizeof(int) * (size_t)(argc + 1));
    }
    int n = command_get_keys(cmd, argc, argv, kc->idx, argc);
    kc->n = n < 0 ? 0 : n;
    for (int i = 0; i < kc->n; i++) kc->perm[i] = key_perm_of(cmd, argc, argv, i);
}

static int selector_check(const selector *s, command *cmd, int argc, kstr *argv, int *errpos, key_cache *kc) {
    if (!command_allowed(s, cmd, argc, argv)) return ACL_DENIED_CMD;
    if (!(s->flags & SEL_ALLKEYS) && command_has_keys(cmd) && !channels_not_keys(cmd)) {
        keys_of(kc, cmd, argc, argv);
        for (int i = 0; i < kc->n; i++) {
            int pos = kc->idx[i];
            if (!key_allowed(s, argv[pos], kstr_len(argv[pos]), kc->perm[i])) {
                *errpos = pos;
                return ACL_DENIED_KEY;
            }
        }
    }
    int first, last, is_pattern;
    if (!(s->flags & SEL_ALLCHANNELS) && channel_args(cmd, argc, &first, &last, &is_pattern)) {
        for (int pos = first; pos <= last && pos < argc; pos++) {
            if (!acl_channel_matches(s, argv[pos], kstr_len(argv[pos]), is_pattern)) {
                *errpos = pos;
                return ACL_DENIED_CHANNEL;
            }
        }
    }
    return ACL_OK;
}

static int reads_all_keys(const selector *s) {
    if (s->flags & SEL_ALLKEYS) return 1;
    for (int i = 0; i < s->nkeys; i++)
        if ((s->keys[i].perm & ACL_PERM_READ) && !strcmp(s->keys[i].pat, "*")) return 1;
    return 0;
}

int acl_client_reads_all_keys(client *c) {
    if (superuser(c)) return 1;
    const acl_user *u = acl_client_user(c);
    key_cache kc;
    key_cache_init(&kc);
    int ok = 0;
    for (int i = 0; i < u->nsels && !ok; i++) {
        int pos = 0;
        ok = selector_check(u->sels[i], c->cmd, c->argc, c->argv, &pos, &kc) == ACL_OK && reads_all_keys(u->sels[i]);
    }
    key_cache_free(&kc);
    return ok;
}

int acl_user_check(const acl_user *u, command *cmd, int argc, kstr *argv, int *errpos) {
    int relevant = ACL_DENIED_CMD, last_idx = 0;
    key_cache kc;
    key_cache_init(&kc);
    int result = -1;
    for (int i = 0; i < u->nsels && result < 0; i++) {
        int pos = 0;
        int r = selector_check(u->sels[i], cmd, argc, argv, &pos, &kc);
        if (r == ACL_OK) result = ACL_OK;
        else if (r > relevant || (r == relevant && pos > last_idx)) {
            relevant = r;
            last_idx = pos;
        }
    }
    key_cache_free(&kc);
    if (result == ACL_OK) return ACL_OK;
    *errpos = last_idx;
    return relevant;
}

/* ---- The log ---- */

typedef struct log_entry {
    long long count, id;
    int reason, ctx;
    kstr object, username, cinfo;
    long long ctime, created;
} log_entry;

static log_entry **entries; /* newest first */
static int nentries;
static long long next_entry_id;

static void entry_free(log_entry *e) {
    kstr_free(e->object);
    kstr_free(e->username);
    kstr_free(e->cinfo);
    zfree(e);
}

static void count_denial(int reason) {
    if (reason == ACL_DENIED_AUTH) denied_auth++;
    else if (reason == ACL_DENIED_CMD) denied_cmd++;
    else if (reason == ACL_DENIED_KEY) denied_key++;
    else if (reason == ACL_DENIED_CHANNEL) denied_channel++;
}

static void log_trim(void) {
    while (nentries > 0 && nentries > acl_log_max_len) entry_free(entries[--nentries]);
}

void acl_log_add(client *c, int reason, int ctx, const char *object, size_t olen, const char *username) {
    count_denial(reason);
    long long now = mstime();
    kstr uname = kstr_new(username ? username : acl_client_user_name(c));
    /* A repeat of one of the ten latest entries within a minute bumps it. */
    for (int i = 0; i < nentries && i < 10; i++) {
        log_entry *e = entries[i];
        if (e->reason == reason && e->ctx == ctx && kstr_len(e->object) == olen && !memcmp(e->object, object, olen) &&
            !strcmp(e->username, uname) && now - e->ctime < 60000) {
            kstr_free(e->cinfo);
            e->cinfo = client_info_string(kstr_empty(), c);
            e->ctime = now;
            e->count++;
            memmove(entries + 1, entries, sizeof(log_entry *) * (size_t)i);
            entries[0] = e;
            kstr_free(uname);
            return;
        }
    }
    log_entry *e = zcalloc(sizeof(*e));
    e->count = 1;
    e->id = next_entry_id++;
    e->reason = reason;
    e->ctx = ctx;
    e->object = kstr_new_len(object, olen);
    e->username = uname;
    e->cinfo = client_info_string(kstr_empty(), c);
    e->ctime = e->created = now;
    entries = zrealloc(entries, sizeof(log_entry *) * (size_t)(nentries + 1));
    memmove(entries + 1, entries, sizeof(log_entry *) * (size_t)nentries);
    entries[0] = e;
    nentries++;
    log_trim();
}

void acl_log_reset(void) {
    while (nentries > 0) entry_free(entries[--nentries]);
}

static const char *reason_name(int r) {
    switch (r) {
    case ACL_DENIED_CMD: return "command";
    case ACL_DENIED_KEY: return "key";
    case ACL_DENIED_CHANNEL: return "channel";
    case ACL_DENIED_AUTH: return "auth";
    default: return "unknown";
    }
}

static const char *ctx_name(int ctx) {
    switch (ctx) {
    case ACL_CTX_TOPLEVEL: return "toplevel";
    case ACL_CTX_MULTI: return "multi";
    case ACL_CTX_LUA: return "lua";
    default: return "unknown";
    }
}

/* Redis 7.0's seven fields, then 7.2's entry-id and timestamps. */
void acl_log_reply(client *c, long count) {
    log_trim();
    if (count > nentries) count = nentries;
    if (count < 0) count = 0;
    reply_array_len(c, count);
    long long now = mstime();
    for (long i = 0; i < count; i++) {
        log_entry *e = entries[i];
        reply_map_len(c, 10);
        reply_bulk_cstr(c, "count");
        reply_ll(c, e->count);
        reply_bulk_cstr(c, "reason");
        reply_bulk_cstr(c, reason_name(e->reason));
        reply_bulk_cstr(c, "context");
        reply_bulk_cstr(c, ctx_name(e->ctx));
        reply_bulk_cstr(c, "object");
        reply_bulk(c, e->object, kstr_len(e->object));
        reply_bulk_cstr(c, "username");
        reply_bulk(c, e->username, kstr_len(e->username));
        reply_bulk_cstr(c, "age-seconds");
        reply_double(c, (double)(now - e->ctime) / 1000);
        reply_bulk_cstr(c, "client-info");
        reply_bulk(c, e->cinfo, kstr_len(e->cinfo));
        reply_bulk_cstr(c, "entry-id");
        reply_ll(c, e->id);
        reply_bulk_cstr(c, "timestamp-created");
        reply_ll(c, e->created);
        reply_bulk_cstr(c, "timestamp-last-updated");
        reply_ll(c, e->ctime);
    }
}

kstr acl_info_stats(kstr s) {
    return kstr_cat_printf(s,
                           "acl_access_denied_auth:%lld\r\n"
                           "acl_access_denied_cmd:%lld\r\n"
                           "acl_access_denied_key:%lld\r\n"
                           "acl_access_denied_channel:%lld\r\n",
                           denied_auth, denied_cmd, denied_key, denied_channel);
}

void acl_reset_stats(void) { denied_auth = denied_cmd = denied_key = denied_channel = 0; }

/* ---- Entry points ---- */

static void log_denial(client *c, int reason, int ctx, command *cmd, kstr *argv, int pos) {
    if (reason == ACL_DENIED_CMD) acl_log_add(c, reason, ctx, cmd->fullname, strlen(cmd->fullname), NULL);
    else acl_log_add(c, reason, ctx, argv[pos], kstr_len(argv[pos]), NULL);
}

int acl_check_request(client *c, command *cmd) {
    if (superuser(c)) return 1;
    acl_user *u = acl_client_user(c);
    /* The default user with every permission: the common case, no work. */
    const selector *root = u->sels[0];
    if (u->nsels == 1 && (root->flags & (SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS)) ==
                             (SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS))
        return 1;
    int pos = 0;
    int r = acl_user_check(u, cmd, c->argc, c->argv, &pos);
    if (r == ACL_OK) return 1;
    log_denial(c, r, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, cmd, c->argv, pos);
    if (r == ACL_DENIED_CMD) reply_errorf(c, "NOPERM this user has no permissions to run the '%s' command", cmd->fullname);
    else if (r == ACL_DENIED_KEY) reply_error(c, "NOPERM this user has no permissions to access one of the keys used as arguments");
    else reply_error(c, "NOPERM this user has no permissions to access one of the channels used as arguments");
    return 0;
}

static const char *denial_words(int r) {
    switch (r) {
    case ACL_DENIED_CMD: return "can't run this command or subcommand";
    case ACL_DENIED_KEY: return "can't access at least one of the keys mentioned in the command arguments";
    case ACL_DENIED_CHANNEL: return "can't publish to the channel mentioned in the command";
    default: return "lacking the permissions for the command";
    }
}

int acl_user_may_run(client *c, command *cmd, int argc, kstr *argv) {
    if (superuser(c)) return 1;
    int pos = 0;
    return acl_user_check(acl_client_user(c), cmd, argc, argv, &pos) == ACL_OK;
}

int acl_check_script_call(client *caller, command *cmd, int argc, kstr *argv, kstr *err) {
    if (superuser(caller)) return 1;
    int pos = 0;
    int r = acl_user_check(acl_client_user(caller), cmd, argc, argv, &pos);
    if (r == ACL_OK) return 1;
    log_denial(caller, r, ACL_CTX_LUA, cmd, argv, pos);
    *err = kstr_cat_printf(kstr_empty(), "The user executing the script %s", denial_words(r));
    return 0;
}

int acl_check_queued(client *c, command *cmd, int argc, kstr *argv, kstr *err) {
    if (superuser(c)) return 1;
    int pos = 0;
    int r = acl_user_check(acl_client_user(c), cmd, argc, argv, &pos);
    if (r == ACL_OK) return 1;
    log_denial(c, r, ACL_CTX_MULTI, cmd, argv, pos);
    *err = kstr_cat_printf(kstr_empty(),
                           "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                           "call. This command is no longer allowed for the following reason: %s",
                           denial_words(r));
    return 0;
}
