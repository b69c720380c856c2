/*
 * acl_internal: the structures shared by the files of src/acl (users,
 * selectors, the log, the category table). Private to the folder.
 */
#ifndef KEEL_ACL_INTERNAL_H
#define KEEL_ACL_INTERNAL_H

#include "acl/acl.h"
#include "core/command.h"
#include "lib/kstr.h"

#include <stdint.h>

typedef struct acl_cat_row { const char *name, *cats; } acl_cat_row;
extern const acl_cat_row acl_cat_rows[];
extern const int acl_cat_nrows;

/* Categories in Redis's order (ACL CAT, COMMAND INFO). */
#define ACL_NCATS 21
extern const char *const acl_cat_names[ACL_NCATS];

/* Key pattern permissions. */
#define ACL_PERM_READ 1
#define ACL_PERM_WRITE 2
#define ACL_PERM_ALL 3

/* Selector flags. */
#define SEL_ROOT 1
#define SEL_ALLKEYS 2
#define SEL_ALLCHANNELS 4
#define SEL_ALLCOMMANDS 8

/* User flags, in the order ACL GETUSER and ACL LIST show them. */
#define USER_ON 1
#define USER_OFF 2
#define USER_NOPASS 4
#define USER_SKIP_SANITIZE 8
#define USER_SANITIZE 16

typedef struct key_pattern { kstr pat; int perm; } key_pattern;

typedef struct selector {
    int flags;
    uint64_t *allowed;    /* bit per command id; the last bit: +@all was used */
    kstr **firstargs;     /* per command id: NULL-terminated allowed first args, or NULL */
    key_pattern *keys;
    int nkeys;
    kstr *channels;
    int nchannels;
} selector;

typedef struct acl_user {
    kstr name;
    int flags;
    kstr *passwords;      /* SHA-256 hex */
    int npass;
    selector **sels;      /* sels[0] is the root selector */
    int nsels;
} acl_user;

/* Results of a permission check (the order matters: a later selector's
 * key or channel denial outranks a command denial). */
enum { ACL_OK = 0, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_AUTH, ACL_DENIED_CHANNEL };
enum { ACL_CTX_TOPLEVEL, ACL_CTX_MULTI, ACL_CTX_LUA };

/* Rule errors (ACL SETUSER's wording in acl_rule_error). */
enum { RULE_OK = 0, RULE_SYNTAX, RULE_UNKNOWN, RULE_KEYS_AFTER_ALL, RULE_CHANNELS_AFTER_ALL, RULE_NO_PASS,
       RULE_BAD_HASH, RULE_DUPLICATE_USER, RULE_SUBCMD_FIRSTARG };

/* acl_user.c */
extern int acl_ncommand_ids;      /* ids 0..n-1, plus the "all" marker bit */
extern int acl_pubsub_default;    /* SEL_ALLCHANNELS or 0 */
acl_user *acl_user_new(const char *name, size_t len);
void acl_user_free(acl_user *u);
void acl_user_copy(acl_user *dst, const acl_user *src);
int acl_user_apply(acl_user *u, const char *op, size_t len); /* RULE_* */
const char *acl_rule_error(int err);
kstr acl_user_describe(kstr s, const acl_user *u);
kstr acl_selector_commands(kstr s, const selector *sel);
kstr acl_selector_keys(kstr s, const selector *sel);
kstr acl_selector_channels(kstr s, const selector *sel);
int acl_selector_allows_cmd_bit(const selector *sel, int id);
/* Merge "(a" "b)" arguments into selectors; NULL (and *bad set) when a
 * parenthesis is not closed. The result's strings are new. */
kstr *acl_merge_selector_args(kstr *argv, int argc, int *outc, int *bad);
void acl_hash_password(const char *pass, size_t len, char hex[65]);
int acl_has_spaces(const char *s, size_t len);
uint64_t acl_cats_of(const command *cmd);

/* acl_users.c: the set of users */
acl_user *acl_find_user(const char *name, size_t len);
extern acl_user *acl_default_user;
acl_user **acl_users_sorted(int *n);  /* array owned by the set */
void acl_users_insert(acl_user *u);
int acl_users_remove(const char *name, size_t len); /* frees; closes its clients */
kstr acl_set_user_from_args(const char *name, size_t len, kstr *argv, int argc); /* NULL ok, else error */
kstr acl_load_file(const char *path); /* NULL ok, else the errors */
int acl_save_file(const char *path);
void acl_kill_clients_of(acl_user *u);
void acl_close_self_if_doomed(struct client *c);
void acl_kill_pubsub_clients_if_needed(const acl_user *newu, const acl_user *old);
extern char *acl_filename;

/* acl_check.c */
int acl_user_check(const acl_user *u, command *cmd, int argc, kstr *argv, int *errpos);
int acl_channel_matches(const selector *sel, const char *ch, size_t len, int is_pattern);
void acl_log_add(struct client *c, int reason, int ctx, const char *object, size_t olen, const char *username);
void acl_log_reply(struct client *c, long count);
void acl_log_reset(void);
acl_user *acl_client_user(const struct client *c);

#endif
