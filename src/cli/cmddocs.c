/*
 * cmddocs: help, hints and completion from COMMAND DOCS (see cmddocs.h).
 *
 * Each command and subcommand becomes one entry: its words ("CONFIG",
 * "GET"), summary, since, group and argument tree. The argument tree is
 * turned into redis-cli's syntax line (key value [NX|XX] [GET] [EX
 * seconds|...]); while typing, the arguments already given are taken off
 * its front. The matching is positional and simple: required arguments
 * take their words in order, an optional argument takes a word when it is
 * its token (or, without a token, the next word); what remains is hinted.
 */
#include "cmddocs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "options.h"

enum arg_type { ARG_PLAIN, ARG_PURE_TOKEN, ARG_ONEOF, ARG_BLOCK };

typedef struct doc_arg {
    char *name;
    char *token;
    enum arg_type type;
    int optional, multiple, multiple_token;
    struct doc_arg *sub;
    int nsub;
} doc_arg;

typedef struct doc_entry {
    char *words[2];
    int nwords;
    char *full;     /* "CONFIG GET" or "@string" */
    int is_group;
    char *summary, *since, *group;
    doc_arg *args;
    int nargs;
    char *params;   /* the whole syntax line */
} doc_entry;

static doc_entry *entries;
static int nentries;

static const rr_reply *field(const rr_reply *map, const char *name) {
    if (!map || (map->type != RR_MAP && map->type != RR_ARRAY)) return NULL;
    for (size_t i = 0; i + 1 < map->elements; i += 2) {
        const rr_reply *k = map->element[i];
        if (k->str && !strcasecmp(k->str, name)) return map->element[i + 1];
    }
    return NULL;
}

static char *text(const rr_reply *r) {
    return r && r->str ? cli_xstrdup(r->str) : NULL;
}

static char *upper(const char *s) {
    char *u = cli_xstrdup(s);
    for (char *p = u; *p; p++) *p = (char)toupper((unsigned char)*p);
    return u;
}

static void parse_args(const rr_reply *list, doc_arg **out, int *n);

static void parse_arg(const rr_reply *spec, doc_arg *a) {
    memset(a, 0, sizeof(*a));
    const rr_reply *v;
    const char *display = (v = field(spec, "display_text")) && v->str ? v->str : NULL;
    a->name = cli_xstrdup(display ? display : (v = field(spec, "name")) && v->str ? v->str : "arg");
    a->token = text(field(spec, "token"));
    const char *type = (v = field(spec, "type")) && v->str ? v->str : "";
    a->type = !strcmp(type, "pure-token") ? ARG_PURE_TOKEN
              : !strcmp(type, "oneof")    ? ARG_ONEOF
              : !strcmp(type, "block")    ? ARG_BLOCK
                                          : ARG_PLAIN;
    if ((v = field(spec, "flags"))) {
        for (size_t i = 0; i < v->elements; i++) {
            const char *f = v->element[i]->str ? v->element[i]->str : "";
            if (!strcmp(f, "optional")) a->optional = 1;
            else if (!strcmp(f, "multiple")) a->multiple = 1;
            else if (!strcmp(f, "multiple_token")) a->multiple_token = 1;
        }
    }
    if ((v = field(spec, "arguments"))) parse_args(v, &a->sub, &a->nsub);
}

static void parse_args(const rr_reply *list, doc_arg **out, int *n) {
    *n = (int)list->elements;
    *out = calloc(list->elements ? list->elements : 1, sizeof(doc_arg));
    for (size_t i = 0; i < list->elements; i++) parse_arg(list->element[i], &(*out)[i]);
}

static void syntax_args(cli_buf *b, const doc_arg *args, int n, const char *sep);

/* One argument's syntax: [TOKEN name], NX|XX, "[name ...]" repeats. */
static void syntax_arg(cli_buf *b, const doc_arg *a) {
    if (a->optional) buf_puts(b, "[");
    if (a->token) {
        buf_puts(b, a->token);
        if (a->type != ARG_PURE_TOKEN) buf_puts(b, " ");
    }
    if (a->type == ARG_ONEOF) syntax_args(b, a->sub, a->nsub, "|");
    else if (a->type == ARG_BLOCK) syntax_args(b, a->sub, a->nsub, " ");
    else if (a->type == ARG_PLAIN) buf_puts(b, a->name);
    if (a->multiple) {
        buf_puts(b, " [");
        if (a->multiple_token && a->token) {
            buf_puts(b, a->token);
            if (a->type != ARG_PURE_TOKEN) buf_puts(b, " ");
        }
        if (a->type == ARG_ONEOF) syntax_args(b, a->sub, a->nsub, "|");
        else if (a->type == ARG_BLOCK) syntax_args(b, a->sub, a->nsub, " ");
        else if (a->type == ARG_PLAIN) buf_puts(b, a->name);
        buf_puts(b, " ...]");
    }
    if (a->optional) buf_puts(b, "]");
}

static void syntax_args(cli_buf *b, const doc_arg *args, int n, const char *sep) {
    for (int i = 0; i < n; i++) {
        if (i) buf_puts(b, sep);
        syntax_arg(b, &args[i]);
    }
}

static doc_entry *new_entry(void) {
    entries = cli_xrealloc(entries, sizeof(doc_entry) * (size_t)(nentries + 1));
    doc_entry *e = &entries[nentries++];
    memset(e, 0, sizeof(*e));
    return e;
}

static void add_group(const char *group) {
    if (!group) return;
    char full[128];
    snprintf(full, sizeof(full), "@%s", group);
    for (int i = 0; i < nentries; i++)
        if (entries[i].is_group && !strcmp(entries[i].full, full)) return;
    doc_entry *e = new_entry();
    e->is_group = 1;
    e->full = cli_xstrdup(full);
    e->words[0] = cli_xstrdup(full);
    e->nwords = 1;
}

static void add_command(const char *name, const char *sub, const rr_reply *spec) {
    doc_entry *e = new_entry();
    e->words[0] = upper(name);
    e->nwords = 1;
    if (sub) {
        const char *bar = strchr(sub, '|');
        e->words[1] = upper(bar ? bar + 1 : sub);
        e->nwords = 2;
    }
    cli_buf full = {0};
    buf_puts(&full, e->words[0]);
    if (sub) buf_printf(&full, " %s", e->words[1]);
    e->full = buf_take(&full);
    e->summary = text(field(spec, "summary"));
    e->since = text(field(spec, "since"));
    e->group = text(field(spec, "group"));
    const rr_reply *args = field(spec, "arguments");
    cli_buf params = {0};
    if (args) {
        parse_args(args, &e->args, &e->nargs);
        syntax_args(&params, e->args, e->nargs, " ");
    }
    e->params = buf_take(&params);
    char *group = e->group ? cli_xstrdup(e->group) : NULL;
    add_group(group); /* may move entries: e is not used after this */
    free(group);
    const rr_reply *subs = field(spec, "subcommands");
    for (size_t i = 0; subs && i + 1 < subs->elements; i += 2)
        add_command(name, subs->element[i]->str, subs->element[i + 1]);
}

/* A server whose COMMAND DOCS has no argument lists (Keel's, today): the
 * hint is built from COMMAND's arity and key positions instead, "key arg
 * [arg ...]", which at least says how many words are needed. */
static void synthesize_args(doc_entry *e, long long arity, long long first, long long last,
                            long long step) {
    long long n = (arity < 0 ? -arity : arity) - e->nwords;
    if (n < 0) n = 0;
    e->nargs = (int)n + (arity < 0 ? 1 : 0);
    e->args = calloc((size_t)e->nargs + 1, sizeof(doc_arg));
    for (long long i = 1; i <= n; i++) {
        long long pos = i + e->nwords - 1; /* position in the full argv */
        int is_key = first > 0 && pos >= first && (last < 0 || pos <= last) &&
                     (step <= 0 || (pos - first) % step == 0);
        e->args[i - 1].name = cli_xstrdup(is_key ? "key" : "arg");
    }
    if (arity < 0) {
        doc_arg *more = &e->args[n];
        more->name = cli_xstrdup(last < 0 ? "key ..." : "arg ...");
        more->optional = 1;
    }
    cli_buf params = {0};
    syntax_args(&params, e->args, e->nargs, " ");
    free(e->params);
    e->params = buf_take(&params);
}

static doc_entry *entry_named(const char *full) {
    for (int i = 0; i < nentries; i++)
        if (!entries[i].is_group && !strcasecmp(entries[i].full, full)) return &entries[i];
    return NULL;
}

static long long int_at(const rr_reply *info, size_t i) {
    return info->elements > i && info->element[i]->type == RR_INTEGER ? info->element[i]->integer : 0;
}

static void arity_hint(const rr_reply *info, const char *parent) {
    if (info->type != RR_ARRAY || info->elements < 6 || !info->element[0]->str) return;
    cli_buf full = {0};
    const char *name = info->element[0]->str;
    if (parent) {
        const char *bar = strchr(name, '|');
        buf_printf(&full, "%s %s", parent, bar ? bar + 1 : name);
    } else {
        buf_puts(&full, name);
    }
    doc_entry *e = entry_named(full.data);
    if (e && e->nargs == 0)
        synthesize_args(e, int_at(info, 1), int_at(info, 3), int_at(info, 4), int_at(info, 5));
    if (!parent && info->elements > 9 && info->element[9]->type == RR_ARRAY)
        for (size_t i = 0; i < info->element[9]->elements; i++)
            arity_hint(info->element[9]->element[i], full.data);
    buf_free(&full);
}

static void fill_missing_hints(cli_conn *c) {
    int missing = 0;
    for (int i = 0; i < nentries && !missing; i++)
        if (!entries[i].is_group && entries[i].nargs == 0) missing = 1;
    if (!missing) return;
    rr_reply *r = conn_call(c, "COMMAND", NULL);
    if (!r) return;
    if (r->type == RR_ARRAY)
        for (size_t i = 0; i < r->elements; i++) arity_hint(r->element[i], NULL);
    rr_reply_free(r);
}

static int by_full_name(const void *a, const void *b) {
    return strcmp(((const doc_entry *)a)->full, ((const doc_entry *)b)->full);
}

int docs_load(cli_conn *c) {
    if (!c) return -1;
    rr_reply *r = conn_call(c, "COMMAND", "DOCS", NULL);
    if (!r) return -1;
    if (r->type != RR_MAP && r->type != RR_ARRAY) {
        rr_reply_free(r);
        return -1;
    }
    docs_free();
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->str) add_command(r->element[i]->str, NULL, r->element[i + 1]);
    rr_reply_free(r);
    fill_missing_hints(c);
    if (nentries) qsort(entries, (size_t)nentries, sizeof(doc_entry), by_full_name);
    return 0;
}

int docs_loaded(void) {
    return nentries > 0;
}

static void free_args(doc_arg *a, int n) {
    for (int i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].token);
        free_args(a[i].sub, a[i].nsub);
    }
    free(a);
}

void docs_free(void) {
    for (int i = 0; i < nentries; i++) {
        doc_entry *e = &entries[i];
        free(e->words[0]);
        free(e->words[1]);
        free(e->full);
        free(e->summary);
        free(e->since);
        free(e->group);
        free(e->params);
        free_args(e->args, e->nargs);
    }
    free(entries);
    entries = NULL;
    nentries = 0;
}

static void print_entry(const doc_entry *e, int with_group) {
    printf("\r\n  \x1b[1m%s\x1b[0m \x1b[90m%s\x1b[0m\r\n", e->full, e->params ? e->params : "");
    printf("  \x1b[33msummary:\x1b[0m %s\r\n", e->summary ? e->summary : "");
    if (e->since) printf("  \x1b[33msince:\x1b[0m %s\r\n", e->since);
    if (with_group) printf("  \x1b[33mgroup:\x1b[0m %s\r\n", e->group ? e->group : "");
}

void docs_print_help(int argc, char **argv) {
    if (argc == 0) {
        printf("keel-cli, a redis-cli compatible client\n"
               "To get help about commands type:\n"
               "      \"help @<group>\" to get a list of commands in <group>\n"
               "      \"help <command>\" for help on <command>\n"
               "      \"help <tab>\" to get a list of possible help topics\n"
               "      \"quit\" to exit\n");
        return;
    }
    const char *group = argv[0][0] == '@' ? argv[0] + 1 : NULL;
    for (int i = 0; i < nentries; i++) {
        const doc_entry *e = &entries[i];
        if (e->is_group) continue;
        if (group) {
            if (e->group && !strcasecmp(group, e->group)) print_entry(e, 0);
            continue;
        }
        if (argc > e->nwords) continue;
        int j;
        for (j = 0; j < argc; j++)
            if (strcasecmp(argv[j], e->words[j])) break;
        if (j == argc) print_entry(e, 1);
    }
    printf("\r\n");
}

/* The entry whose words are the longest prefix of argv. */
static const doc_entry *find_entry(int argc, char **argv) {
    const doc_entry *best = NULL;
    for (int i = 0; i < nentries; i++) {
        const doc_entry *e = &entries[i];
        if (e->is_group || e->nwords > argc) continue;
        int j;
        for (j = 0; j < e->nwords; j++)
            if (strcasecmp(e->words[j], argv[j])) break;
        if (j == e->nwords && (!best || e->nwords > best->nwords)) best = e;
    }
    return best;
}

/* Does word start argument a (its token, or one of its branches' tokens)? */
static int arg_starts_with(const doc_arg *a, const char *word) {
    if (a->token) return !strcasecmp(a->token, word);
    if (a->type == ARG_ONEOF)
        for (int i = 0; i < a->nsub; i++)
            if (arg_starts_with(&a->sub[i], word)) return 1;
    return 0;
}

/* How many of the n typed words argument a takes. */
static int arg_take(const doc_arg *a, char **words, int n) {
    int w = 0;
    if (a->token) {
        w = 1;
        if (a->type == ARG_PURE_TOKEN) return 1;
    }
    if (a->type == ARG_ONEOF) {
        for (int i = 0; i < a->nsub; i++)
            if (w < n && arg_starts_with(&a->sub[i], words[w]))
                return w + arg_take(&a->sub[i], words + w, n - w);
        return w + 1;
    }
    if (a->type == ARG_BLOCK) {
        for (int i = 0; i < a->nsub; i++) {
            const doc_arg *s = &a->sub[i];
            if (s->optional && !(w < n && arg_starts_with(s, words[w]))) continue;
            w += arg_take(s, words + (w < n ? w : n), w < n ? n - w : 0);
        }
        return w;
    }
    return w + 1;
}

static char *hint_for(const doc_entry *e, int nwords, char **words) {
    cli_buf b = {0};
    int w = 0, first = 1;
    for (int i = 0; i < e->nargs; i++) {
        const doc_arg *a = &e->args[i];
        if (w >= nwords) {
            if (!first) buf_puts(&b, " ");
            syntax_arg(&b, a);
            first = 0;
            continue;
        }
        if (a->multiple) { /* takes whatever follows */
            w = nwords;
            continue;
        }
        if (!a->optional || arg_starts_with(a, words[w]))
            w += arg_take(a, words + w, nwords - w);
        else if (!a->token && a->type == ARG_PLAIN)
            w += 1;
        if (w > nwords) break; /* inside an argument: no hint */
    }
    return buf_take(&b);
}

char *docs_hint(const char *line) {
    int argc;
    size_t *lens;
    char **argv = cli_split_args(line, &argc, &lens);
    if (!argv || argc == 0) {
        cli_free_args(argv, argc, lens);
        return NULL;
    }
    size_t len = strlen(line);
    int endspace = len && isspace((unsigned char)line[len - 1]);
    int typed = endspace ? argc : argc - 1; /* the last word counts once followed by a space */
    const doc_entry *e = find_entry(typed, argv);
    char *hint = NULL;
    if (e) {
        char *h = hint_for(e, typed - e->nwords, argv + e->nwords);
        if (*h && !endspace) {
            hint = cli_xmalloc(strlen(h) + 2);
            hint[0] = ' ';
            strcpy(hint + 1, h);
            free(h);
        } else if (*h) {
            hint = h;
        } else {
            free(h);
        }
    }
    cli_free_args(argv, argc, lens);
    return hint;
}

void docs_complete(const char *line, void (*add)(void *priv, const char *completion), void *priv) {
    size_t start = 0;
    int with_groups = 0;
    if (!strncasecmp(line, "help ", 5)) {
        start = 5;
        while (isspace((unsigned char)line[start])) start++;
        with_groups = 1;
    }
    size_t plen = strlen(line + start);
    for (int i = 0; i < nentries; i++) {
        const doc_entry *e = &entries[i];
        if (e->is_group && !with_groups) continue;
        if (strncasecmp(line + start, e->full, plen)) continue;
        cli_buf b = {0};
        buf_append(&b, line, start);
        buf_puts(&b, e->full);
        add(priv, b.data);
        buf_free(&b);
    }
}
