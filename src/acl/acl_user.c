/*
 * acl_user: a user and its selectors, and the rules that change them
 * (ACL SETUSER's words: on, >pass, ~keys, &channels, +@cat, (...), ...),
 * and the reverse: describing a user as the rules that rebuild it (ACL
 * LIST, GETUSER, SAVE). Rules act on a bitmap of command ids, so that a
 * permission check is one bit test; describing the bitmap back as rules
 * picks, category by category, the one that fits best, then fixes the
 * remaining differences command by command, as Redis does (the text is
 * then equivalent to Redis's, and exact for the usual cases).
 */
#include "acl/acl_internal.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <ctype.h>
#include <limits.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

int acl_ncommand_ids;
int acl_pubsub_default; /* acl-pubsub-default: 0 (resetchannels) or SEL_ALLCHANNELS */

const char *const acl_cat_names[ACL_NCATS] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
};

/* ---- Helpers ---- */

void acl_hash_password(const char *pass, size_t len, char hex[65]) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)pass, len, md);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[i * 2] = digits[md[i] >> 4];
        hex[i * 2 + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

static int valid_hash(const char *h, size_t len) {
    if (len != 64) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
    return 1;
}

int acl_has_spaces(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i]) || s[i] == 0) return 1;
    return 0;
}

uint64_t acl_category_by_name(const char *name, size_t len) {
    for (int i = 0; i < ACL_NCATS; i++)
        if (strlen(acl_cat_names[i]) == len && !strncasecmp(acl_cat_names[i], name, len)) return 1ULL << i;
    return 0;
}

int acl_category_names(uint64_t cats, const char **names, int max) {
    int n = 0;
    for (int i = 0; i < ACL_NCATS && n < max; i++)
        if (cats & (1ULL << i)) names[n++] = acl_cat_names[i];
    return n;
}

static uint64_t parse_cats(const char *s) {
    uint64_t bits = 0;
    while (*s) {
        while (*s == ' ' || *s == '@') s++;
        size_t n = 0;
        while (s[n] && s[n] != ' ') n++;
        if (n) bits |= acl_category_by_name(s, n);
        s += n;
    }
    return bits;
}

/* Categories implied by flags and group, for commands Redis lacks. */
static uint64_t derive_cats(const command *cmd) {
    static const struct { const char *group, *cat; } map[] = {
        {"string", "string"}, {"generic", "keyspace"}, {"list", "list"}, {"hash", "hash"},
        {"set", "set"}, {"sorted-set", "sortedset"}, {"bitmap", "bitmap"},
        {"hyperloglog", "hyperloglog"}, {"geo", "geo"}, {"stream", "stream"},
        {"connection", "connection"}, {"pubsub", "pubsub"}, {"scripting", "scripting"},
        {"transactions", "transaction"},
    };
    uint64_t bits = 0;
    if (cmd->flags & CMD_WRITE) bits |= acl_category_by_name("write", 5);
    if (cmd->flags & CMD_READONLY) bits |= acl_category_by_name("read", 4);
    if (cmd->flags & CMD_ADMIN) bits |= acl_category_by_name("admin", 5) | acl_category_by_name("dangerous", 9);
    if (cmd->flags & CMD_PUBSUB) bits |= acl_category_by_name("pubsub", 6);
    bits |= (cmd->flags & CMD_FAST) ? acl_category_by_name("fast", 4) : acl_category_by_name("slow", 4);
    if (cmd->flags & CMD_BLOCKING) bits |= acl_category_by_name("blocking", 8);
    const command *g = cmd->parent ? cmd->parent : cmd;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (g->group && !strcmp(g->group, map[i].group)) bits |= acl_category_by_name(map[i].cat, strlen(map[i].cat));
    return bits;
}

uint64_t acl_cats_of(const command *cmd) {
    int lo = 0, hi = acl_cat_nrows - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(acl_cat_rows[mid].name, cmd->fullname);
        if (c == 0) return parse_cats(acl_cat_rows[mid].cats);
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return derive_cats(cmd);
}

uint64_t acl_command_categories(const command *cmd) { return cmd->acl_categories; }

/* ---- Command ids ---- */

typedef void cmd_visit(command *cmd, void *priv);
typedef struct { cmd_visit *fn; void *priv; } walk_ctx;

static void walk_one(command *cmd, void *priv) {
    walk_ctx *w = priv;
    w->fn(cmd, w->priv);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) w->fn(sub, w->priv);
}

/* Every command and subcommand, in name order. */
static void walk_commands(cmd_visit *fn, void *priv) {
    walk_ctx w = {fn, priv};
    command_foreach(walk_one, &w);
}

static int nwords(void) { return (acl_ncommand_ids + 1 + 63) / 64; }
static int all_marker(void) { return acl_ncommand_ids; }

static int get_bit(const selector *s, int id) { return (s->allowed[id / 64] >> (id % 64)) & 1; }

static void set_bit(selector *s, int id, int on) {
    if (on) s->allowed[id / 64] |= 1ULL << (id % 64);
    else {
        s->allowed[id / 64] &= ~(1ULL << (id % 64));
        s->flags &= ~SEL_ALLCOMMANDS;
    }
}

int acl_selector_allows_cmd_bit(const selector *sel, int id) { return get_bit(sel, id); }

/* ---- Selectors ---- */

static void free_firstargs_of(selector *s, int id) {
    if (!s->firstargs || !s->firstargs[id]) return;
    for (int i = 0; s->firstargs[id][i]; i++) kstr_free(s->firstargs[id][i]);
    zfree(s->firstargs[id]);
    s->firstargs[id] = NULL;
}

static void free_all_firstargs(selector *s) {
    if (!s->firstargs) return;
    for (int id = 0; id < acl_ncommand_ids; id++) free_firstargs_of(s, id);
    zfree(s->firstargs);
    s->firstargs = NULL;
}

static void add_firstarg(selector *s, int id, const char *arg, size_t len) {
    if (!s->firstargs) s->firstargs = zcalloc(sizeof(kstr *) * (size_t)acl_ncommand_ids);
    int n = 0;
    if (s->firstargs[id])
        for (; s->firstargs[id][n]; n++)
            if (kstr_len(s->firstargs[id][n]) == len && !strncasecmp(s->firstargs[id][n], arg, len)) return;
    s->firstargs[id] = zrealloc(s->firstargs[id], sizeof(kstr) * (size_t)(n + 2));
    s->firstargs[id][n] = kstr_new_len(arg, len);
    s->firstargs[id][n + 1] = NULL;
}

static void clear_keys(selector *s) {
    for (int i = 0; i < s->nkeys; i++) kstr_free(s->keys[i].pat);
    zfree(s->keys);
    s->keys = NULL;
    s->nkeys = 0;
}

static void clear_channels(selector *s) {
    for (int i = 0; i < s->nchannels; i++) kstr_free(s->channels[i]);
    zfree(s->channels);
    s->channels = NULL;
    s->nchannels = 0;
}

static selector *selector_new(int flags) {
    selector *s = zcalloc(sizeof(*s));
    s->flags = flags | acl_pubsub_default;
    s->allowed = zcalloc(sizeof(uint64_t) * (size_t)nwords());
    return s;
}

static void selector_free(selector *s) {
    clear_keys(s);
    clear_channels(s);
    free_all_firstargs(s);
    zfree(s->allowed);
    zfree(s);
}

static selector *selector_copy(const selector *src) {
    selector *s = selector_new(0);
    s->flags = src->flags;
    memcpy(s->allowed, src->allowed, sizeof(uint64_t) * (size_t)nwords());
    for (int i = 0; i < src->nkeys; i++) {
        s->keys = zrealloc(s->keys, sizeof(key_pattern) * (size_t)(s->nkeys + 1));
        s->keys[s->nkeys].pat = kstr_dup(src->keys[i].pat);
        s->keys[s->nkeys++].perm = src->keys[i].perm;
    }
    for (int i = 0; i < src->nchannels; i++) {
        s->channels = zrealloc(s->channels, sizeof(kstr) * (size_t)(s->nchannels + 1));
        s->channels[s->nchannels++] = kstr_dup(src->channels[i]);
    }
    if (src->firstargs)
        for (int id = 0; id < acl_ncommand_ids; id++)
            for (int i = 0; src->firstargs[id] && src->firstargs[id][i]; i++)
                add_firstarg(s, id, src->firstargs[id][i], kstr_len(src->firstargs[id][i]));
    return s;
}

/* Allow or deny a command; a container command takes its subcommands
 * with it. */
static void change_perm(selector *s, command *cmd, int allow) {
    set_bit(s, cmd->acl_id, allow);
    free_firstargs_of(s, cmd->acl_id);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) set_bit(s, sub->acl_id, allow);
}

typedef struct { selector *s; uint64_t cat; int allow; } cat_ctx;

static void cat_apply_one(command *cmd, void *priv) {
    cat_ctx *c = priv;
    if (cmd->acl_categories & c->cat) change_perm(c->s, cmd, c->allow);
}

static void apply_category(selector *s, uint64_t cat, int allow) {
    cat_ctx c = {s, cat, allow};
    walk_commands(cat_apply_one, &c);
}

static int add_key_pattern(selector *s, const char *op, size_t len) {
    if (s->flags & SEL_ALLKEYS) return RULE_KEYS_AFTER_ALL;
    int perm = 0;
    size_t off = 1;
    if (op[0] == '%') {
        for (; off < len; off++) {
            char ch = (char)toupper((unsigned char)op[off]);
            if (ch == 'R' && !(perm & ACL_PERM_READ)) perm |= ACL_PERM_READ;
            else if (ch == 'W' && !(perm & ACL_PERM_WRITE)) perm |= ACL_PERM_WRITE;
            else if (op[off] == '~') {
                off++;
                break;
            } else return RULE_SYNTAX;
        }
        if (!perm) return RULE_SYNTAX; /* "%~x": as Redis 7.0.15 answers */
    } else {
        perm = ACL_PERM_ALL;
    }
    if (acl_has_spaces(op + off, len - off)) return RULE_SYNTAX;
    for (int i = 0; i < s->nkeys; i++) {
        if (kstr_len(s->keys[i].pat) == len - off && !memcmp(s->keys[i].pat, op + off, len - off)) {
            s->keys[i].perm |= perm;
            return RULE_OK;
        }
    }
    s->keys = zrealloc(s->keys, sizeof(key_pattern) * (size_t)(s->nkeys + 1));
    s->keys[s->nkeys].pat = kstr_new_len(op + off, len - off);
    s->keys[s->nkeys++].perm = perm;
    s->flags &= ~SEL_ALLKEYS;
    return RULE_OK;
}

static int add_channel(selector *s, const char *op, size_t len) {
    if (s->flags & SEL_ALLCHANNELS) return RULE_CHANNELS_AFTER_ALL;
    if (acl_has_spaces(op + 1, len - 1)) return RULE_SYNTAX;
    for (int i = 0; i < s->nchannels; i++)
        if (kstr_len(s->channels[i]) == len - 1 && !memcmp(s->channels[i], op + 1, len - 1)) return RULE_OK;
    s->channels = zrealloc(s->channels, sizeof(kstr) * (size_t)(s->nchannels + 1));
    s->channels[s->nchannels++] = kstr_new_len(op + 1, len - 1);
    s->flags &= ~SEL_ALLCHANNELS;
    return RULE_OK;
}

/* "config|get" or "get": the command (or subcommand) by full name. */
static command *lookup_fullname(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (!bar) return command_lookup(name, len);
    command *parent = command_lookup(name, (size_t)(bar - name));
    if (!parent || !parent->subcommands) return NULL;
    size_t sl = len - (size_t)(bar - name) - 1;
    for (command *sub = parent->subcommands; sub->name; sub++)
        if (strlen(sub->name) == sl && !strncasecmp(sub->name, bar + 1, sl)) return sub;
    return NULL;
}

static int allow_command_rule(selector *s, const char *name, size_t len) {
    const char *bar = NULL;
    for (size_t i = len; i > 0; i--)
        if (name[i - 1] == '|') {
            bar = name + i - 1;
            break;
        }
    if (!bar) {
        command *cmd = command_lookup(name, len);
        if (!cmd) return RULE_UNKNOWN;
        change_perm(s, cmd, 1);
        return RULE_OK;
    }
    command *cmd = lookup_fullname(name, (size_t)(bar - name));
    if (!cmd) return RULE_UNKNOWN;
    if (cmd->parent) return RULE_SUBCMD_FIRSTARG;
    size_t sublen = len - (size_t)(bar - name) - 1;
    if (sublen == 0) return RULE_SYNTAX;
    if (cmd->subcommands) {
        command *sub = lookup_fullname(name, len);
        if (!sub) return RULE_UNKNOWN;
        change_perm(s, sub, 1);
    } else {
        server_log(LOG_WARNING, "Deprecation warning: Allowing a first arg of an otherwise blocked command is a "
                                "misuse of ACL and may get disabled in the future (offender: +%.*s)", (int)len, name);
        add_firstarg(s, cmd->acl_id, bar + 1, sublen);
    }
    return RULE_OK;
}

static int is_word(const char *op, size_t len, const char *w) { return strlen(w) == len && !strncasecmp(op, w, len); }

static int selector_apply(selector *s, const char *op, size_t len) {
    if (is_word(op, len, "allkeys") || is_word(op, len, "~*")) {
        s->flags |= SEL_ALLKEYS;
        clear_keys(s);
    } else if (is_word(op, len, "resetkeys")) {
        s->flags &= ~SEL_ALLKEYS;
        clear_keys(s);
    } else if (is_word(op, len, "allchannels") || is_word(op, len, "&*")) {
        s->flags |= SEL_ALLCHANNELS;
        clear_channels(s);
    } else if (is_word(op, len, "resetchannels")) {
        s->flags &= ~SEL_ALLCHANNELS;
        clear_channels(s);
    } else if (is_word(op, len, "allcommands") || is_word(op, len, "+@all")) {
        memset(s->allowed, 255, sizeof(uint64_t) * (size_t)nwords());
        s->flags |= SEL_ALLCOMMANDS;
        free_all_firstargs(s);
    } else if (is_word(op, len, "nocommands") || is_word(op, len, "-@all")) {
        memset(s->allowed, 0, sizeof(uint64_t) * (size_t)nwords());
        s->flags &= ~SEL_ALLCOMMANDS;
        free_all_firstargs(s);
    } else if (op[0] == '~' || op[0] == '%') {
        return add_key_pattern(s, op, len);
    } else if (op[0] == '&') {
        return add_channel(s, op, len);
    } else if (op[0] == '+' && len > 1 && op[1] != '@') {
        return allow_command_rule(s, op + 1, len - 1);
    } else if (op[0] == '-' && len > 1 && op[1] != '@') {
        command *cmd = lookup_fullname(op + 1, len - 1);
        if (!cmd) return RULE_UNKNOWN;
        change_perm(s, cmd, 0);
    } else if ((op[0] == '+' || op[0] == '-') && len > 1 && op[1] == '@') {
        uint64_t cat = acl_category_by_name(op + 2, len - 2);
        if (!cat) return RULE_UNKNOWN;
        apply_category(s, cat, op[0] == '+');
    } else {
        return RULE_SYNTAX;
    }
    return RULE_OK;
}

static int selector_from_opset(const char *op, size_t len, selector **out) {
    kstr inner = kstr_new_len(op + 1, len - 2);
    int argc = 0;
    kstr *argv = kstr_split_args(inner, &argc);
    kstr_free(inner);
    if (!argv) return RULE_SYNTAX;
    selector *s = selector_new(0);
    int err = RULE_OK;
    for (int i = 0; i < argc && err == RULE_OK; i++) err = selector_apply(s, argv[i], kstr_len(argv[i]));
    kstr_free_split(argv, argc);
    if (err != RULE_OK) {
        selector_free(s);
        return err;
    }
    *out = s;
    return RULE_OK;
}

/* ---- Users ---- */

acl_user *acl_user_new(const char *name, size_t len) {
    acl_user *u = zcalloc(sizeof(*u));
    u->name = kstr_new_len(name, len);
    u->flags = USER_OFF;
    u->sels = zmalloc(sizeof(selector *));
    u->sels[0] = selector_new(SEL_ROOT);
    u->nsels = 1;
    return u;
}

static void clear_passwords(acl_user *u) {
    for (int i = 0; i < u->npass; i++) kstr_free(u->passwords[i]);
    zfree(u->passwords);
    u->passwords = NULL;
    u->npass = 0;
}

static void clear_selectors(acl_user *u, int keep_root) {
    for (int i = keep_root ? 1 : 0; i < u->nsels; i++) selector_free(u->sels[i]);
    u->nsels = keep_root ? 1 : 0;
}

void acl_user_free(acl_user *u) {
    if (!u) return;
    clear_passwords(u);
    clear_selectors(u, 0);
    zfree(u->sels);
    kstr_free(u->name);
    zfree(u);
}

void acl_user_copy(acl_user *dst, const acl_user *src) {
    clear_passwords(dst);
    clear_selectors(dst, 0);
    dst->flags = src->flags;
    dst->passwords = zmalloc(sizeof(kstr) * (size_t)(src->npass + 1));
    for (int i = 0; i < src->npass; i++) dst->passwords[i] = kstr_dup(src->passwords[i]);
    dst->npass = src->npass;
    dst->sels = zrealloc(dst->sels, sizeof(selector *) * (size_t)src->nsels);
    for (int i = 0; i < src->nsels; i++) dst->sels[i] = selector_copy(src->sels[i]);
    dst->nsels = src->nsels;
}

static int find_password(const acl_user *u, const char *hex) {
    for (int i = 0; i < u->npass; i++)
        if (!strcmp(u->passwords[i], hex)) return i;
    return -1;
}

static int add_password(acl_user *u, const char *op, size_t len) {
    char hex[65];
    if (op[0] == '>') acl_hash_password(op + 1, len - 1, hex);
    else if (!valid_hash(op + 1, len - 1)) return RULE_BAD_HASH;
    else {
        memcpy(hex, op + 1, 64);
        hex[64] = '\0';
    }
    if (find_password(u, hex) < 0) {
        u->passwords = zrealloc(u->passwords, sizeof(kstr) * (size_t)(u->npass + 1));
        u->passwords[u->npass++] = kstr_new(hex);
    }
    u->flags &= ~USER_NOPASS;
    return RULE_OK;
}

static int remove_password(acl_user *u, const char *op, size_t len) {
    char hex[65];
    if (op[0] == '<') acl_hash_password(op + 1, len - 1, hex);
    else if (!valid_hash(op + 1, len - 1)) return RULE_BAD_HASH;
    else {
        memcpy(hex, op + 1, 64);
        hex[64] = '\0';
    }
    int i = find_password(u, hex);
    if (i < 0) return RULE_NO_PASS;
    kstr_free(u->passwords[i]);
    memmove(u->passwords + i, u->passwords + i + 1, sizeof(kstr) * (size_t)(u->npass - i - 1));
    u->npass--;
    return RULE_OK;
}

static void reset_user(acl_user *u) {
    u->flags &= ~USER_NOPASS;
    clear_passwords(u);
    selector_apply(u->sels[0], "resetkeys", 9);
    selector_apply(u->sels[0], "resetchannels", 13);
    if (acl_pubsub_default & SEL_ALLCHANNELS) selector_apply(u->sels[0], "allchannels", 11);
    u->flags = (u->flags & ~(USER_ON | USER_SKIP_SANITIZE)) | USER_OFF | USER_SANITIZE;
    clear_selectors(u, 1);
    selector_apply(u->sels[0], "-@all", 5);
}

int acl_user_apply(acl_user *u, const char *op, size_t len) {
    if (len == 0) return RULE_OK;
    if (is_word(op, len, "on")) u->flags = (u->flags & ~USER_OFF) | USER_ON;
    else if (is_word(op, len, "off")) u->flags = (u->flags & ~USER_ON) | USER_OFF;
    else if (is_word(op, len, "skip-sanitize-payload")) u->flags = (u->flags & ~USER_SANITIZE) | USER_SKIP_SANITIZE;
    else if (is_word(op, len, "sanitize-payload")) u->flags = (u->flags & ~USER_SKIP_SANITIZE) | USER_SANITIZE;
    else if (is_word(op, len, "nopass")) {
        u->flags |= USER_NOPASS;
        clear_passwords(u);
    } else if (is_word(op, len, "resetpass")) {
        u->flags &= ~USER_NOPASS;
        clear_passwords(u);
    } else if (op[0] == '>' || op[0] == '#') return add_password(u, op, len);
    else if (op[0] == '<' || op[0] == '!') return remove_password(u, op, len);
    else if (op[0] == '(' && op[len - 1] == ')') {
        selector *s;
        int err = selector_from_opset(op, len, &s);
        if (err != RULE_OK) return err;
        u->sels = zrealloc(u->sels, sizeof(selector *) * (size_t)(u->nsels + 1));
        u->sels[u->nsels++] = s;
    } else if (is_word(op, len, "clearselectors")) clear_selectors(u, 1);
    else if (is_word(op, len, "reset")) reset_user(u);
    else return selector_apply(u->sels[0], op, len);
    return RULE_OK;
}

const char *acl_rule_error(int err) {
    switch (err) {
    case RULE_UNKNOWN: return "Unknown command or category name in ACL";
    case RULE_SYNTAX: return "Syntax error";
    case RULE_KEYS_AFTER_ALL:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case RULE_CHANNELS_AFTER_ALL:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
               "any effect. Try 'resetchannels' to start with an empty list of channels";
    case RULE_NO_PASS: return "The password you are trying to remove from the user does not exist";
    case RULE_BAD_HASH:
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case RULE_DUPLICATE_USER: return "Duplicate user found. A user can only be defined once in config files";
    case RULE_SUBCMD_FIRSTARG: return "Allowing first-arg of a subcommand is not supported";
    default: return "Wrong format";
    }
}

kstr *acl_merge_selector_args(kstr *argv, int argc, int *outc, int *bad) {
    kstr *out = zmalloc(sizeof(kstr) * (size_t)(argc ? argc : 1));
    int n = 0, open = -1;
    kstr sel = NULL;
    for (int j = 0; j < argc; j++) {
        size_t l = kstr_len(argv[j]);
        if (open < 0 && l && argv[j][0] == '(' && argv[j][l - 1] != ')') {
            sel = kstr_dup(argv[j]);
            open = j;
            continue;
        }
        if (open >= 0) {
            sel = kstr_cat_len(kstr_cat(sel, " "), argv[j], l);
            if (l && argv[j][l - 1] == ')') {
                out[n++] = sel;
                sel = NULL;
                open = -1;
            }
            continue;
        }
        out[n++] = kstr_dup(argv[j]);
    }
    if (open >= 0) {
        for (int i = 0; i < n; i++) kstr_free(out[i]);
        zfree(out);
        kstr_free(sel);
        if (bad) *bad = open;
        return NULL;
    }
    *outc = n;
    return out;
}

/* ---- Describing ---- */

typedef struct { const selector *s; uint64_t cat; unsigned long on, off; } count_ctx;

static void count_one(command *cmd, void *priv) {
    count_ctx *c = priv;
    if (!(cmd->acl_categories & c->cat)) return;
    if (get_bit(c->s, cmd->acl_id)) c->on++;
    else c->off++;
}

typedef struct { const selector *user; selector *fake; kstr out; } single_ctx;

static void single_one(command *cmd, void *priv) {
    single_ctx *c = priv;
    int ub = get_bit(c->user, cmd->acl_id), fb = get_bit(c->fake, cmd->acl_id);
    if (ub != fb) {
        c->out = kstr_cat_printf(c->out, "%c%s ", ub ? '+' : '-', cmd->fullname);
        change_perm(c->fake, cmd, ub);
    }
    if (!ub && c->user->firstargs && c->user->firstargs[cmd->acl_id])
        for (int j = 0; c->user->firstargs[cmd->acl_id][j]; j++)
            c->out = kstr_cat_printf(c->out, "+%s|%s ", cmd->fullname, c->user->firstargs[cmd->acl_id][j]);
}

/* Walk subcommands right after their parent, as Redis's describe does. */
static void single_walk(command *cmd, void *priv) {
    single_one(cmd, priv);
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) single_one(sub, priv);
}

kstr acl_selector_commands(kstr s, const selector *sel) {
    int additive = !get_bit(sel, all_marker());
    selector *fake = selector_new(0), *temp = selector_new(0);
    kstr out = kstr_new(additive ? "-@all " : "+@all ");
    selector_apply(fake, additive ? "-@all" : "+@all", 5);
    memcpy(temp->allowed, sel->allowed, sizeof(uint64_t) * (size_t)nwords());
    char applied[ACL_NCATS] = {0};
    for (;;) {
        int best = -1;
        unsigned long mindiff = INT_MAX, maxsame = 0;
        for (int j = 0; j < ACL_NCATS; j++) {
            if (applied[j]) continue;
            count_ctx cc = {temp, 1ULL << j, 0, 0};
            walk_commands(count_one, &cc);
            unsigned long diff = additive ? cc.off : cc.on, same = additive ? cc.on : cc.off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0) break;
        apply_category(fake, 1ULL << best, additive);
        apply_category(temp, 1ULL << best, !additive);
        out = kstr_cat_printf(out, "%c@%s ", additive ? '+' : '-', acl_cat_names[best]);
        applied[best] = 1;
    }
    single_ctx sc = {sel, fake, out};
    command_foreach(single_walk, &sc);
    out = sc.out;
    kstr_range(out, 0, (long)kstr_len(out) - 2);
    selector_free(fake);
    selector_free(temp);
    s = kstr_cat_len(s, out, kstr_len(out));
    kstr_free(out);
    return s;
}

static kstr cat_key_pattern(kstr s, const key_pattern *k) {
    const char *prefix = k->perm == ACL_PERM_ALL ? "~" : k->perm == ACL_PERM_READ ? "%R~" : "%W~";
    return kstr_cat_len(kstr_cat(s, prefix), k->pat, kstr_len(k->pat));
}

kstr acl_selector_keys(kstr s, const selector *sel) {
    if (sel->flags & SEL_ALLKEYS) return kstr_cat(s, "~*");
    for (int i = 0; i < sel->nkeys; i++) {
        if (i) s = kstr_cat(s, " ");
        s = cat_key_pattern(s, &sel->keys[i]);
    }
    return s;
}

kstr acl_selector_channels(kstr s, const selector *sel) {
    if (sel->flags & SEL_ALLCHANNELS) return kstr_cat(s, "&*");
    for (int i = 0; i < sel->nchannels; i++) {
        if (i) s = kstr_cat(s, " ");
        s = kstr_cat_len(kstr_cat(s, "&"), sel->channels[i], kstr_len(sel->channels[i]));
    }
    return s;
}

static kstr describe_selector(kstr s, const selector *sel) {
    if (sel->flags & SEL_ALLKEYS) s = kstr_cat(s, "~* ");
    else
        for (int i = 0; i < sel->nkeys; i++) s = kstr_cat(cat_key_pattern(s, &sel->keys[i]), " ");
    if (sel->flags & SEL_ALLCHANNELS) s = kstr_cat(s, "&* ");
    else {
        s = kstr_cat(s, "resetchannels ");
        for (int i = 0; i < sel->nchannels; i++)
            s = kstr_cat(kstr_cat_len(kstr_cat(s, "&"), sel->channels[i], kstr_len(sel->channels[i])), " ");
    }
    return acl_selector_commands(s, sel);
}

kstr acl_user_describe(kstr s, const acl_user *u) {
    static const struct { int flag; const char *name; } flags[] = {
        {USER_ON, "on"}, {USER_OFF, "off"}, {USER_NOPASS, "nopass"},
        {USER_SKIP_SANITIZE, "skip-sanitize-payload"}, {USER_SANITIZE, "sanitize-payload"},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (u->flags & flags[i].flag) s = kstr_cat(kstr_cat(s, flags[i].name), " ");
    for (int i = 0; i < u->npass; i++) s = kstr_cat(kstr_cat(kstr_cat(s, "#"), u->passwords[i]), " ");
    for (int i = 0; i < u->nsels; i++) {
        if (i) s = kstr_cat(s, " (");
        s = describe_selector(s, u->sels[i]);
        if (i) s = kstr_cat(s, ")");
    }
    return s;
}

/* ---- Start-up: ids and categories ---- */

static void assign_id(command *cmd, void *priv) {
    (void)priv;
    cmd->acl_id = acl_ncommand_ids++;
    cmd->acl_categories = acl_cats_of(cmd);
}

void acl_assign_command_ids(void) {
    acl_ncommand_ids = 0;
    walk_commands(assign_id, NULL);
}
