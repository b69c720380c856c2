/*
 * acl_users: the set of users (kept sorted by name, as ACL LIST and
 * ACL SAVE show them), the default user, changes applied all-or-nothing
 * (ACL SETUSER stages its rules on a copy), the ACL file (LOAD replaces
 * every user or nothing, SAVE writes a temporary file and renames it),
 * and the clients a change must disconnect: those of a deleted user, and
 * subscribers whose channels their user may no longer read.
 */
#include "acl/acl_internal.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "pubsub/pubsub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

acl_user *acl_default_user;
char *acl_filename;
static acl_user **users;
static int nusers, users_cap;

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c) return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of name, or -(insertion point) - 1. */
static int user_index(const char *name, size_t len) {
    int lo = 0, hi = nusers - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = name_cmp(users[mid]->name, kstr_len(users[mid]->name), name, len);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

acl_user *acl_find_user(const char *name, size_t len) {
    int i = user_index(name, len);
    return i >= 0 ? users[i] : NULL;
}

int acl_user_exists(const char *name, size_t len) { return acl_find_user(name, len) != NULL; }

acl_user **acl_users_sorted(int *n) {
    *n = nusers;
    return users;
}

void acl_users_insert(acl_user *u) {
    int i = user_index(u->name, kstr_len(u->name));
    if (i >= 0) return;
    i = -i - 1;
    if (nusers == users_cap) {
        users_cap = users_cap ? users_cap * 2 : 8;
        users = zrealloc(users, sizeof(acl_user *) * (size_t)users_cap);
    }
    memmove(users + i + 1, users + i, sizeof(acl_user *) * (size_t)(nusers - i));
    users[i] = u;
    nusers++;
}

static void users_unlink(int i) {
    memmove(users + i, users + i + 1, sizeof(acl_user *) * (size_t)(nusers - i - 1));
    nusers--;
}

/* The client running this command is closed once its reply is queued
 * (acl_close_self_if_doomed, called by the handler after replying: a
 * client marked to close after its reply gets no more replies). */
static int self_doomed;

static void close_client(client *c) {
    if (c == server.current_client) self_doomed = 1;
    else client_close_async(c);
}

void acl_close_self_if_doomed(client *c) {
    if (self_doomed) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    self_doomed = 0;
}

/* A deleted user's clients are closed (after the reply, for the one
 * running this command) and fall back to the default user meanwhile. */
void acl_kill_clients_of(acl_user *u) {
    for (client *c = server.clients; c; c = c->next) {
        if (c->user != u) continue;
        c->user = NULL;
        c->flags &= ~CLIENT_AUTHENTICATED;
        close_client(c);
    }
}

int acl_users_remove(const char *name, size_t len) {
    int i = user_index(name, len);
    if (i < 0) return 0;
    acl_user *u = users[i];
    users_unlink(i);
    acl_kill_clients_of(u);
    acl_user_free(u);
    return 1;
}

/* ---- Pub/Sub clients whose channels were revoked ---- */

static int all_channels(const acl_user *u) {
    for (int i = 0; i < u->nsels; i++)
        if (u->sels[i]->flags & SEL_ALLCHANNELS) return 1;
    return 0;
}

static int has_channel(const acl_user *u, const kstr ch) {
    for (int i = 0; i < u->nsels; i++)
        for (int j = 0; j < u->sels[i]->nchannels; j++)
            if (kstr_len(u->sels[i]->channels[j]) == kstr_len(ch) && !memcmp(u->sels[i]->channels[j], ch, kstr_len(ch)))
                return 1;
    return 0;
}

/* Whether every channel pattern of old is still among new's. */
static int channels_kept(const acl_user *newu, const acl_user *old) {
    for (int i = 0; i < old->nsels; i++) {
        if (old->sels[i]->flags & SEL_ALLCHANNELS) return 0;
        for (int j = 0; j < old->sels[i]->nchannels; j++)
            if (!has_channel(newu, old->sels[i]->channels[j])) return 0;
    }
    return 1;
}

static int subscription_denied(void *priv, const char *name, size_t len, int is_pattern) {
    const acl_user *u = priv;
    for (int i = 0; i < u->nsels; i++)
        if (acl_channel_matches(u->sels[i], name, len, is_pattern)) return 0;
    return 1;
}

void acl_kill_pubsub_clients_if_needed(const acl_user *newu, const acl_user *old) {
    if (all_channels(newu) || channels_kept(newu, old)) return;
    for (client *c = server.clients; c; c = c->next) {
        if (acl_client_user(c) != old) continue;
        if (!pubsub_client_any(c, subscription_denied, (void *)newu)) continue;
        close_client(c);
    }
}

/* ---- ACL SETUSER ---- */

kstr acl_set_user_from_args(const char *name, size_t len, kstr *argv, int argc) {
    int merged = 0, bad = 0;
    kstr *ops = acl_merge_selector_args(argv, argc, &merged, &bad);
    if (!ops) return kstr_cat_printf(kstr_empty(), "Unmatched parenthesis in acl selector starting at '%s'.", argv[bad]);
    acl_user *u = acl_find_user(name, len);
    acl_user *staged = acl_user_new(name, len);
    if (u) acl_user_copy(staged, u);
    kstr err = NULL;
    for (int j = 0; j < merged && !err; j++) {
        int e = acl_user_apply(staged, ops[j], kstr_len(ops[j]));
        if (e != RULE_OK)
            err = kstr_cat_printf(kstr_empty(), "Error in ACL SETUSER modifier '%s': %s", ops[j], acl_rule_error(e));
    }
    if (!err) {
        if (u) {
            acl_kill_pubsub_clients_if_needed(staged, u);
            acl_user_copy(u, staged);
        } else {
            u = acl_user_new(name, len);
            acl_user_copy(u, staged);
            acl_users_insert(u);
        }
    }
    acl_user_free(staged);
    for (int j = 0; j < merged; j++) kstr_free(ops[j]);
    zfree(ops);
    return err;
}

/* ---- The ACL file ---- */

static kstr read_whole_file(const char *path, kstr *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = kstr_cat_printf(kstr_empty(), "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return NULL;
    }
    kstr text = kstr_empty();
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text = kstr_cat_len(text, buf, n);
    fclose(f);
    return text;
}

static void trim(kstr s, const char *chars) {
    size_t start = 0, end = kstr_len(s);
    while (start < end && strchr(chars, s[start])) start++;
    while (end > start && strchr(chars, s[end - 1])) end--;
    if (end == start) kstr_clear(s);
    else kstr_range(s, (long)start, (long)end - 1);
}

/* Split on single spaces, as Redis reads ACL files (no quoting). */
static kstr *split_spaces(const kstr line, int *argc) {
    kstr *v = NULL;
    int n = 0;
    size_t start = 0, len = kstr_len(line);
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ' ') {
            v = zrealloc(v, sizeof(kstr) * (size_t)(n + 1));
            v[n++] = kstr_new_len(line + start, i - start);
            start = i + 1;
        }
    }
    *argc = n;
    return v;
}

static void free_args(kstr *v, int n) {
    for (int i = 0; i < n; i++) kstr_free(v[i]);
    zfree(v);
}

/* One "user name rules..." line into the staging set; appends errors. */
static kstr load_line(kstr line, int linenum, const char *path, acl_user ***set, int *nset, kstr errors) {
    int argc;
    kstr *argv = split_spaces(line, &argc);
    if (argc < 2 || strcmp(argv[0], "user")) {
        errors = kstr_cat_printf(errors, "%s:%d should start with user keyword followed by the username. ", path, linenum);
        free_args(argv, argc);
        return errors;
    }
    if (acl_has_spaces(argv[1], kstr_len(argv[1]))) {
        errors = kstr_cat_printf(errors, "'%s:%d: username '%s' contains invalid characters. ", path, linenum, argv[1]);
        free_args(argv, argc);
        return errors;
    }
    for (int i = 0; i < *nset; i++) {
        if (kstr_len((*set)[i]->name) == kstr_len(argv[1]) && !memcmp((*set)[i]->name, argv[1], kstr_len(argv[1]))) {
            errors = kstr_cat_printf(errors, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], linenum);
            free_args(argv, argc);
            return errors;
        }
    }
    acl_user *u = acl_user_new(argv[1], kstr_len(argv[1]));
    *set = zrealloc(*set, sizeof(acl_user *) * (size_t)(*nset + 1));
    (*set)[(*nset)++] = u;
    int merged = 0;
    kstr *ops = acl_merge_selector_args(argv + 2, argc - 2, &merged, NULL);
    if (!ops) {
        errors = kstr_cat_printf(errors, "%s:%d: Unmatched parenthesis in selector definition.", path, linenum);
        merged = 0;
    }
    int syntax_error = 0;
    for (int j = 0; j < merged; j++) {
        trim(ops[j], "\t\r\n");
        int e = acl_user_apply(u, ops[j], kstr_len(ops[j]));
        if (e == RULE_UNKNOWN)
            errors = kstr_cat_printf(errors, "%s:%d: Error in applying operation '%s': %s. ", path, linenum, ops[j],
                                     acl_rule_error(e));
        else if (e != RULE_OK && !syntax_error) {
            errors = kstr_cat_printf(errors, "%s:%d: %s. ", path, linenum, acl_rule_error(e));
            syntax_error = 1;
        }
    }
    if (ops) free_args(ops, merged);
    free_args(argv, argc);
    return errors;
}

kstr acl_load_file(const char *path) {
    kstr errors = NULL;
    kstr text = read_whole_file(path, &errors);
    if (!text) return errors;
    errors = kstr_empty();
    acl_user **set = NULL;
    int nset = 0, linenum = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        kstr line = kstr_new_len(p, len);
        p += len + (nl ? 1 : 0);
        linenum++;
        trim(line, " \t\r\n");
        if (kstr_len(line)) errors = load_line(line, linenum, path, &set, &nset, errors);
        kstr_free(line);
    }
    kstr_free(text);
    if (kstr_len(errors)) {
        for (int i = 0; i < nset; i++) acl_user_free(set[i]);
        zfree(set);
        return kstr_cat(errors, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
    }
    kstr_free(errors);
    /* Swap: every old user but default goes (its clients with it); the
     * default user keeps its identity and takes the file's rules. */
    acl_user *newdef = NULL;
    while (nusers > 0) {
        acl_user *u = users[nusers - 1];
        nusers--;
        if (u == acl_default_user) continue;
        acl_kill_clients_of(u);
        acl_user_free(u);
    }
    for (int i = 0; i < nset; i++) {
        if (!strcmp(set[i]->name, "default")) {
            newdef = set[i];
            continue;
        }
        acl_users_insert(set[i]);
    }
    if (newdef) {
        acl_user_copy(acl_default_user, newdef);
        acl_user_free(newdef);
    } else {
        acl_user *fresh = acl_user_new("default", 7);
        for (const char *const *r = (const char *const[]){"+@all", "~*", "&*", "on", "nopass", NULL}; *r; r++)
            acl_user_apply(fresh, *r, strlen(*r));
        acl_user_copy(acl_default_user, fresh);
        acl_user_free(fresh);
    }
    acl_users_insert(acl_default_user);
    zfree(set);
    return NULL;
}

int acl_save_file(const char *path) {
    kstr text = kstr_empty();
    for (int i = 0; i < nusers; i++) {
        text = kstr_cat_len(kstr_cat(text, "user "), users[i]->name, kstr_len(users[i]->name));
        text = kstr_cat(acl_user_describe(kstr_cat(text, " "), users[i]), "\n");
    }
    kstr tmp = kstr_cat_printf(kstr_empty(), "%s.tmp-%d-%lld", path, (int)getpid(), mstime());
    int ok = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) server_log(LOG_WARNING, "Opening temp ACL file for ACL SAVE: %s", strerror(errno));
    else if (write(fd, text, kstr_len(text)) != (ssize_t)kstr_len(text))
        server_log(LOG_WARNING, "Writing ACL file for ACL SAVE: %s", strerror(errno));
    else if (fsync(fd) != 0 || close(fd) != 0)
        server_log(LOG_WARNING, "Writing ACL file for ACL SAVE: %s", strerror(errno));
    else {
        fd = -1;
        if (rename(tmp, path) != 0) server_log(LOG_WARNING, "Renaming ACL file for ACL SAVE: %s", strerror(errno));
        else ok = 1;
    }
    if (fd >= 0) close(fd);
    if (!ok) unlink(tmp);
    kstr_free(tmp);
    kstr_free(text);
    return ok;
}
