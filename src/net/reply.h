/*
 * reply: building RESP2/RESP3 replies into a client's output.
 *
 * Command handlers only call these functions; they never format protocol
 * themselves. The protocol version of the client decides the encoding of
 * nulls, maps, sets, doubles and booleans, so a handler written once
 * speaks both RESP2 and RESP3 correctly.
 */
#ifndef KEEL_REPLY_H
#define KEEL_REPLY_H

#include <stddef.h>
#include "net/client.h"

void reply_raw(client *c, const char *p, size_t len);

void reply_ok(client *c);
void reply_status(client *c, const char *s);           /* +s */
/* "-ERR ..." : msg starts with the error code ("ERR", "WRONGTYPE", ...).
 * If it doesn't start with an uppercase code, "ERR " is prepended.
 * Newlines in msg are replaced by spaces (protocol safety). */
void reply_error(client *c, const char *msg);
void reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "-<msg>" exactly as given (msg carries its own code, or none: script
 * error tables are replied verbatim, as in Redis). count_stats 0: the
 * error was already counted in INFO errorstats where it happened (a
 * command a script called). */
void reply_error_verbatim(client *c, const char *msg, size_t len, int count_stats);
/* Count an error in INFO errorstats / total_error_replies without
 * replying it (a command refused inside a script). Its code is the text
 * up to the first space (in the first 32 bytes), else ERR, as Redis. */
void reply_note_error(const char *msg, size_t len);
void reply_error_arity(client *c);
void reply_error_syntax(client *c);
void reply_error_wrongtype(client *c);
void reply_error_not_integer(client *c);
void reply_error_not_float(client *c);
void reply_error_subcommand(client *c);
/* A known subcommand given the wrong number of arguments, in Redis's
 * words for the container commands that check it themselves. */
void reply_error_subcommand_args(client *c);

void reply_ll(client *c, long long v);                 /* :v */
void reply_bulk(client *c, const void *p, size_t len); /* $len */
void reply_bulk_cstr(client *c, const char *s);        /* NULL -> null */
void reply_bulk_ll(client *c, long long v);
void reply_double(client *c, double d);                /* RESP3 ',', else bulk */
void reply_human_double(client *c, double d);          /* bulk in both */
void reply_bool(client *c, int b);                     /* RESP3 '#', else :0/1 */
void reply_null(client *c);                            /* $-1 / _ */
void reply_null_array(client *c);                      /* *-1 / _ */
void reply_verbatim(client *c, const char *p, size_t len, const char *ext);

void reply_array_len(client *c, long n);
void reply_map_len(client *c, long n);                 /* RESP2: array of 2n */
void reply_set_len(client *c, long n);                 /* RESP2: array */
void reply_push_len(client *c, long n);
void reply_empty_array(client *c);

/* Deferred lengths: for replies whose size is known only at the end. */
void *reply_deferred_len(client *c);
void reply_set_deferred_array_len(client *c, void *node, long n);
void reply_set_deferred_map_len(client *c, void *node, long n);
void reply_set_deferred_set_len(client *c, void *node, long n);

/* "HELP" replies: an array of status lines, with the command's name
 * uppercased in the header line, as Redis does. */
void reply_help(client *c, const char *const *lines);

/* Error counter for INFO errorstats / total_error_replies. */
unsigned long long reply_error_count(void);
void reply_reset_stats(void);
/* INFO errorstats: each error code seen since the last reset, in the
 * order first seen. */
typedef void reply_errorstat_fn(void *priv, const char *code, unsigned long long count);
void reply_errorstats_foreach(reply_errorstat_fn *fn, void *priv);

#endif
