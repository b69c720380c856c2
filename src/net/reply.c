/* See reply.h. */
#include "net/reply.h"
#include "net/clientmem.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


static unsigned long long error_replies;

static void mark_pending_write(client *c) {
    if (c->flags & (CLIENT_PENDING_WRITE | CLIENT_FAKE)) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pending_next = server.pending_writes;
    server.pending_writes = c;
}

static reply_block *new_block(client *c, size_t need, int exact) {
    size_t size = (exact || need > REPLY_BLOCK_SIZE) ? need : REPLY_BLOCK_SIZE;
    reply_block *b = zmalloc(sizeof(*b) + size);
    b->size = zmalloc_size(b) - sizeof(*b);
    b->used = 0;
    b->sealed = 0;
    b->next = NULL;
    if (c->reply_tail) c->reply_tail->next = b;
    else c->reply_head = b;
    c->reply_tail = b;
    clientmem_reply_alloc(c, zmalloc_size(b));
    return b;
}

/* Nothing more is queued for a client that will be closed: either its
 * last word was said, or it overcame a limit and its output is doomed. */
static int output_closed(const client *c) {
    return (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0;
}

void reply_raw(client *c, const char *p, size_t len) {
    if (output_closed(c)) return;
    mark_pending_write(c);
    reply_block *b = c->reply_tail;
    if (b && !b->sealed) {
        size_t room = b->size - b->used;
        size_t n = len < room ? len : room;
        memcpy(b->data + b->used, p, n);
        b->used += n;
        p += n;
        len -= n;
        c->reply_bytes += n;
    }
    if (len) {
        b = new_block(c, len, 0);
        memcpy(b->data, p, len);
        b->used = len;
        c->reply_bytes += len;
        /* Limits are checked when output grows by a block, which keeps
         * the common append path free of them. */
        clientmem_output_grew(c);
    }
}

static void reply_cstr(client *c, const char *s) { reply_raw(c, s, strlen(s)); }

/* "<prefix><n>\r\n" */
static void reply_header(client *c, char prefix, long long n) {
    char buf[32];
    buf[0] = prefix;
    int len = 1 + ll_to_string(buf + 1, sizeof(buf) - 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    reply_raw(c, buf, (size_t)len);
}

void reply_ok(client *c) { reply_raw(c, "+OK\r\n", 5); }

void reply_status(client *c, const char *s) {
    reply_raw(c, "+", 1);
    reply_cstr(c, s);
    reply_raw(c, "\r\n", 2);
}

static int has_error_code(const char *msg) {
    const char *p = msg;
    while (*p && isupper((unsigned char)*p)) p++;
    return p > msg && *p == ' ';
}

/* INFO errorstats: replies counted by their error code (the first word:
 * ERR, WRONGTYPE, NOGROUP...). Error codes are few; a plain array with a
 * linear search costs nothing next to sending the error. As in Redis, at
 * most 128 distinct codes are tracked, so that a client inventing codes
 * (scripts can) cannot grow this without bound; later new codes are only
 * counted in total_error_replies. */
#define ERRORSTATS_MAX 128
static struct errorstat {
    char code[32];
    unsigned long long count;
} errorstats[ERRORSTATS_MAX];
static int nerrorstats;

static void count_code(const char *code, size_t n);

static void count_error_code(const char *msg) {
    size_t n = 0;
    if (has_error_code(msg)) {
        while (msg[n] != ' ' && n < 31) n++;
        count_code(msg, n);
    } else {
        count_code("ERR", 3);
    }
}

void reply_note_error(const char *msg, size_t len) {
    error_replies++;
    const char *sp = memchr(msg, ' ', len < 32 ? len : 32);
    if (sp) count_code(msg, (size_t)(sp - msg));
    else count_code("ERR", 3);
}

static void count_code(const char *from, size_t n) {
    char code[32];
    if (n > sizeof(code) - 1) n = sizeof(code) - 1;
    memcpy(code, from, n);
    code[n] = '\0';
    for (int i = 0; i < nerrorstats; i++)
        if (!strcmp(errorstats[i].code, code)) { errorstats[i].count++; return; }
    if (nerrorstats == ERRORSTATS_MAX) return;
    memcpy(errorstats[nerrorstats].code, code, n + 1);
    errorstats[nerrorstats++].count = 1;
}

void reply_errorstats_foreach(reply_errorstat_fn *fn, void *priv) {
    for (int i = 0; i < nerrorstats; i++) fn(priv, errorstats[i].code, errorstats[i].count);
}

void reply_error(client *c, const char *msg) {
    error_replies++;
    count_error_code(msg);
    if (c->cmd) c->cmd->failed_calls++;
    reply_raw(c, "-", 1);
    if (!has_error_code(msg)) reply_raw(c, "ERR ", 4);
    /* An error must stay on one line whatever the user put in it. */
    size_t len = strlen(msg);
    if (memchr(msg, '\r', len) || memchr(msg, '\n', len)) {
        char *copy = zmemdup(msg, len);
        for (size_t i = 0; i < len; i++)
            if (copy[i] == '\r' || copy[i] == '\n') copy[i] = ' ';
        reply_raw(c, copy, len);
        zfree(copy);
    } else {
        reply_raw(c, msg, len);
    }
    reply_raw(c, "\r\n", 2);
}

void reply_error_verbatim(client *c, const char *msg, size_t len, int count_stats) {
    if (count_stats) reply_note_error(msg, len);
    if (c->cmd) c->cmd->failed_calls++;
    reply_raw(c, "-", 1);
    for (size_t i = 0; i < len; i++) {
        size_t j = i;
        while (j < len && msg[j] != '\r' && msg[j] != '\n') j++;
        reply_raw(c, msg + i, j - i);
        if (j < len) reply_raw(c, " ", 1);
        i = j;
    }
    reply_raw(c, "\r\n", 2);
}

void reply_errorf(client *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kstr s = kstr_cat_vprintf(kstr_empty(), fmt, ap);
    va_end(ap);
    reply_error(c, s);
    kstr_free(s);
}

void reply_error_arity(client *c) {
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", c->cmd ? c->cmd->fullname : "?");
}

void reply_error_syntax(client *c) { reply_error(c, "ERR syntax error"); }
void reply_error_wrongtype(client *c) {
    reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}
void reply_error_not_integer(client *c) { reply_error(c, "ERR value is not an integer or out of range"); }
void reply_error_not_float(client *c) { reply_error(c, "ERR value is not a valid float"); }

void reply_error_subcommand(client *c) {
    kstr cmd = kstr_new(c->argv[0]);
    kstr_toupper(cmd);
    reply_errorf(c, "ERR unknown subcommand '%.128s'. Try %s HELP.", c->argc > 1 ? c->argv[1] : "", cmd);
    kstr_free(cmd);
}

void reply_error_subcommand_args(client *c) {
    kstr cmd = kstr_new(c->argv[0]);
    kstr_toupper(cmd);
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
                 c->argc > 1 ? c->argv[1] : "", cmd);
    kstr_free(cmd);
}

void reply_ll(client *c, long long v) {
    if (v == 0) { reply_raw(c, ":0\r\n", 4); return; }
    if (v == 1) { reply_raw(c, ":1\r\n", 4); return; }
    reply_header(c, ':', v);
}

/* Bulks are most of the output of LRANGE, MGET, HGETALL...: when the
 * whole "$len\r\n<bytes>\r\n" fits in the tail block, write it in one go
 * instead of three appends. */
void reply_bulk(client *c, const void *p, size_t len) {
    reply_block *b = c->reply_tail;
    if (b && !b->sealed && !output_closed(c) && b->size - b->used >= len + 26) {
        mark_pending_write(c);
        char *dst = b->data + b->used;
        *dst = '$';
        size_t h = 1 + (size_t)ll_to_string(dst + 1, 24, (long long)len);
        dst[h++] = '\r';
        dst[h++] = '\n';
        memcpy(dst + h, p, len);
        dst[h + len] = '\r';
        dst[h + len + 1] = '\n';
        b->used += h + len + 2;
        c->reply_bytes += h + len + 2;
        return;
    }
    reply_header(c, '$', (long long)len);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_bulk_cstr(client *c, const char *s) {
    if (!s) reply_null(c);
    else reply_bulk(c, s, strlen(s));
}

void reply_bulk_ll(client *c, long long v) {
    char buf[32];
    int n = ll_to_string(buf, sizeof(buf), v);
    reply_bulk(c, buf, (size_t)n);
}

void reply_double(client *c, double d) {
    char buf[64];
    int n = double_to_string(buf, sizeof(buf), d);
    if (c->resp >= 3) {
        reply_raw(c, ",", 1);
        reply_raw(c, buf, (size_t)n);
        reply_raw(c, "\r\n", 2);
    } else {
        reply_bulk(c, buf, (size_t)n);
    }
}

void reply_human_double(client *c, double d) {
    char buf[64];
    int n = double_to_string(buf, sizeof(buf), d);
    reply_bulk(c, buf, (size_t)n);
}

void reply_bool(client *c, int b) {
    if (c->resp >= 3) reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else reply_ll(c, b ? 1 : 0);
}

void reply_null(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "*-1\r\n", 5);
}

void reply_verbatim(client *c, const char *p, size_t len, const char *ext) {
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    reply_header(c, '=', (long long)len + 4);
    reply_raw(c, ext, 3);
    reply_raw(c, ":", 1);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

void reply_array_len(client *c, long n) { reply_header(c, '*', n); }
void reply_map_len(client *c, long n) { reply_header(c, c->resp >= 3 ? '%' : '*', c->resp >= 3 ? n : n * 2); }
void reply_set_len(client *c, long n) { reply_header(c, c->resp >= 3 ? '~' : '*', n); }
void reply_push_len(client *c, long n) { reply_header(c, c->resp >= 3 ? '>' : '*', n); }
void reply_empty_array(client *c) { reply_raw(c, "*0\r\n", 4); }

void *reply_deferred_len(client *c) {
    if (output_closed(c)) return NULL;
    mark_pending_write(c);
    reply_block *b = new_block(c, 32, 1);
    b->sealed = 1;
    clientmem_output_grew(c);
    /* The next reply_raw must not write into the placeholder. */
    return b;
}

static void set_deferred(client *c, void *node, char prefix, long n) {
    reply_block *b = node;
    if (!b) return;
    char buf[32];
    buf[0] = prefix;
    int len = 1 + ll_to_string(buf + 1, sizeof(buf) - 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    memcpy(b->data, buf, (size_t)len);
    b->used = (size_t)len;
    c->reply_bytes += (size_t)len;
}

void reply_set_deferred_array_len(client *c, void *node, long n) { set_deferred(c, node, '*', n); }
void reply_set_deferred_map_len(client *c, void *node, long n) {
    if (c->resp >= 3) set_deferred(c, node, '%', n);
    else set_deferred(c, node, '*', n * 2);
}
void reply_set_deferred_set_len(client *c, void *node, long n) {
    set_deferred(c, node, c->resp >= 3 ? '~' : '*', n);
}

void reply_help(client *c, const char *const *lines) {
    long n = 0;
    while (lines[n]) n++;
    kstr cmd = kstr_new(c->argv[0]);
    kstr_toupper(cmd);
    reply_array_len(c, n + 3);
    kstr head = kstr_cat_printf(kstr_empty(), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    reply_status(c, head);
    for (long i = 0; i < n; i++) reply_status(c, lines[i]);
    reply_status(c, "HELP");
    reply_status(c, "    Prints this help.");
    kstr_free(head);
    kstr_free(cmd);
}

unsigned long long reply_error_count(void) { return error_replies; }
void reply_reset_stats(void) {
    error_replies = 0;
    nerrorstats = 0;
}
