/*
 * keel-cli: entry point, connection set-up, and running one command as
 * redis-cli does (repeat, interval, -x / -X, -e, cluster redirections,
 * MONITOR and SUBSCRIBE streams).
 *
 * The flow follows redis-cli's so that scripts see the same behaviour:
 * options; a mode if one was selected; otherwise the prompt when no
 * command is given, or the one command.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "modes.h"
#include "options.h"

cli_session cli_state;

long long cli_ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long cli_mstime(void) {
    return cli_ustime() / 1000;
}

void cli_print_reply(const cli_opts *o, const rr_reply *r, int verbatim) {
    cli_buf out = {0};
    format_reply(&out, r, o->output, verbatim, o->mb_delim, o->cmd_delim);
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    buf_free(&out);
}

/* RESP3 pushes arriving while a reply is awaited (client tracking). */
static void print_push(void *priv, const rr_reply *push) {
    const cli_opts *o = priv;
    cli_buf out = {0};
    if (o->output != OUTPUT_STANDARD || !format_invalidate(&out, push))
        format_reply(&out, push, o->output, 0, o->mb_delim, o->cmd_delim);
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    buf_free(&out);
}

static int handshake_step(cli_conn *c, rr_reply *r, const char *what) {
    if (!r) {
        fprintf(stderr, "\nI/O error\n");
        return -1;
    }
    int failed = r->type == RR_ERROR;
    if (failed) fprintf(stderr, "%s: %s\n", what, r->str);
    rr_reply_free(r);
    return failed ? -1 : 0;
}

static int handshake(cli_conn *c, const cli_opts *o) {
    if (o->pass) {
        rr_reply *r = o->user ? conn_call(c, "AUTH", o->user, o->pass, NULL)
                              : conn_call(c, "AUTH", o->pass, NULL);
        if (handshake_step(c, r, "AUTH failed") < 0) return -1;
    }
    cli_state.dbnum = 0;
    cli_state.in_multi = 0;
    if (o->dbnum != 0) {
        char db[24], what[64];
        snprintf(db, sizeof(db), "%d", o->dbnum);
        snprintf(what, sizeof(what), "SELECT %d failed", o->dbnum);
        if (handshake_step(c, conn_call(c, "SELECT", db, NULL), what) < 0) return -1;
        cli_state.dbnum = o->dbnum;
    }
    if (o->resp3 && !o->resp2) {
        rr_reply *r = conn_call(c, "HELLO", "3", NULL);
        if (!r) {
            fprintf(stderr, "\nI/O error\n");
            return -1;
        }
        int failed = r->type == RR_ERROR;
        if (failed) fprintf(stderr, "HELLO 3 failed: %s\n", r->str);
        rr_reply_free(r);
        if (failed && o->resp3 == 1) return -1;
    }
    return 0;
}

/* keep: a failed AUTH, SELECT or HELLO leaves the connection open (the
 * messages are printed), as redis-cli goes on to send the command anyway. */
static cli_conn *connect_ex(const cli_opts *o, int quiet, int keep) {
    char err[256] = "";
    if (o->tls) {
        if (!quiet) fprintf(stderr, "TLS is not built in this keel-cli yet.\n");
        return NULL;
    }
    cli_conn *c = conn_open(o->host, o->port, o->socket, 0, err, sizeof(err));
    if (!c) {
        if (!quiet) {
            if (o->socket) fprintf(stderr, "Could not connect to Redis at %s: %s\n", o->socket, err);
            else fprintf(stderr, "Could not connect to Redis at %s:%d: %s\n", o->host, o->port, err);
        }
        return NULL;
    }
    if (handshake(c, o) < 0 && !keep) {
        conn_close(c);
        return NULL;
    }
    if (o->push_output) conn_set_push(c, CONN_PUSH_HANDLER, print_push, (void *)o);
    return c;
}

cli_conn *cli_connect(const cli_opts *o, int quiet) {
    return connect_ex(o, quiet, 0);
}

static int is(const char *a, const char *b) {
    return strcasecmp(a, b) == 0;
}

/* Prompt state after a command's reply: SELECT, MULTI, EXEC, ... */
static void track_session(cli_ctx *ctx, int argc, char **argv, const rr_reply *r) {
    int ok = r->type != RR_ERROR;
    const char *c = argv[0];
    if (is(c, "select") && argc == 2 && ok) {
        cli_state.dbnum = ctx->opts->dbnum = atoi(argv[1]);
    } else if (is(c, "auth") && (argc == 2 || argc == 3)) {
        if (ctx->opts->dbnum != cli_state.dbnum) {
            char db[24];
            snprintf(db, sizeof(db), "%d", ctx->opts->dbnum);
            rr_reply *s = conn_call(ctx->conn, "SELECT", db, NULL);
            if (s && s->type != RR_ERROR) cli_state.dbnum = ctx->opts->dbnum;
            if (s) rr_reply_free(s);
        }
    } else if (is(c, "multi") && argc == 1 && ok) {
        cli_state.in_multi = 1;
        cli_state.pre_multi_db = cli_state.dbnum;
    } else if (is(c, "exec") && argc == 1 && cli_state.in_multi) {
        cli_state.in_multi = 0;
        if (r->type == RR_ERROR || r->type == RR_NIL)
            cli_state.dbnum = ctx->opts->dbnum = cli_state.pre_multi_db;
    } else if (is(c, "discard") && argc == 1 && ok) {
        cli_state.in_multi = 0;
        cli_state.dbnum = ctx->opts->dbnum = cli_state.pre_multi_db;
    } else if (is(c, "reset") && argc == 1 && ok) {
        cli_state.in_multi = 0;
        cli_state.dbnum = ctx->opts->dbnum = 0;
        ctx->opts->resp3 = 0;
    }
}

/* -MOVED / -ASK under -c: point the options at the new node. Returns 1
 * (ask: 2) when the command must be sent again there. */
static int follow_redirect(cli_ctx *ctx, const rr_reply *r) {
    if (!ctx->opts->cluster_mode || r->type != RR_ERROR) return 0;
    int ask = !strncmp(r->str, "ASK ", 4);
    if (!ask && strncmp(r->str, "MOVED ", 6)) return 0;
    const char *slot = strchr(r->str, ' ');
    const char *addr = slot ? strchr(slot + 1, ' ') : NULL;
    const char *colon = addr ? strrchr(addr + 1, ':') : NULL;
    if (!colon) return 0;
    free(ctx->opts->host);
    ctx->opts->host = strndup(addr + 1, (size_t)(colon - addr - 1));
    ctx->opts->port = atoi(colon + 1);
    if (cli_state.interactive)
        printf("-> Redirected to slot [%d] located at %s:%d\n", atoi(slot + 1),
               ctx->opts->host, ctx->opts->port);
    return ask ? 2 : 1;
}

static void print_conn_error(cli_ctx *ctx) {
    if (ctx->conn) fprintf(stderr, "Error: %s\n", conn_error(ctx->conn));
}

/* MONITOR, SUBSCRIBE: print what arrives until the stream ends. */
static int stream_replies(cli_ctx *ctx, int verbatim, int pubsub) {
    if (pubsub && ctx->opts->output != OUTPUT_RAW)
        printf("Reading messages... (press Ctrl-C to quit)\n");
    fflush(stdout);
    conn_set_push(ctx->conn, CONN_PUSH_RETURN, NULL, NULL);
    for (;;) {
        rr_reply *r;
        if (conn_read(ctx->conn, &r) < 0) {
            print_conn_error(ctx);
            exit(1);
        }
        int err = r->type == RR_ERROR;
        cli_print_reply(ctx->opts, r, verbatim);
        rr_reply_free(r);
        if (err) return 0; /* MONITOR refused, SUBSCRIBE refused */
    }
}

void cli_note_pubsub_reply(const rr_reply *r) {
    if ((r->type != RR_ARRAY && r->type != RR_PUSH) || r->elements < 3 ||
        r->element[0]->type != RR_STRING || r->element[2]->type != RR_INTEGER)
        return;
    const char *kind = r->element[0]->str;
    if (is(kind, "subscribe") || is(kind, "psubscribe") || is(kind, "ssubscribe") ||
        is(kind, "unsubscribe") || is(kind, "punsubscribe") || is(kind, "sunsubscribe"))
        cli_state.pubsub_mode = r->element[2]->integer > 0;
}

static int is_subscribe(const char *c) {
    return is(c, "subscribe") || is(c, "psubscribe") || is(c, "ssubscribe");
}

/* One send/receive of the command. 0, -1 on I/O error; *redirect set by
 * follow_redirect. */
static int send_once(cli_ctx *ctx, int argc, char **argv, size_t *lens, int *redirect) {
    int verbatim = format_command_is_verbatim(argc, argv);
    conn_append(ctx->conn, argc, (const char *const *)argv, lens);
    if (is(argv[0], "monitor")) return stream_replies(ctx, verbatim, 0);
    if (is_subscribe(argv[0]) && !cli_state.interactive) return stream_replies(ctx, verbatim, 1);
    /* On the prompt, subscribed mode keeps the prompt (redis-cli 7.2's
     * way): pushes are read as replies while it lasts. */
    if (is_subscribe(argv[0]) || cli_state.pubsub_mode)
        conn_set_push(ctx->conn, CONN_PUSH_RETURN, NULL, NULL);
    rr_reply *r;
    if (conn_read(ctx->conn, &r) < 0) return -1;
    if (cli_state.interactive) {
        cli_note_pubsub_reply(r);
        if (!cli_state.pubsub_mode)
            conn_set_push(ctx->conn, ctx->opts->push_output ? CONN_PUSH_HANDLER : CONN_PUSH_DROP,
                          ctx->opts->push_output ? print_push : NULL, ctx->opts);
    }
    *redirect = follow_redirect(ctx, r);
    if (!*redirect) {
        if (!cli_state.interactive && ctx->opts->set_errcode && r->type == RR_ERROR) {
            fprintf(stderr, "%s\n", r->str);
            exit(1);
        }
        cli_print_reply(ctx->opts, r, verbatim);
        track_session(ctx, argc, argv, r);
    }
    rr_reply_free(r);
    return 0;
}

static int reconnect(cli_ctx *ctx) {
    if (ctx->conn) conn_close(ctx->conn);
    ctx->conn = connect_ex(ctx->opts, 0, 1);
    return ctx->conn ? 0 : -1;
}

static int send_asking(cli_ctx *ctx) {
    rr_reply *r = conn_call(ctx->conn, "ASKING", NULL);
    if (!r) return -1;
    int failed = r->type == RR_ERROR;
    if (failed) fprintf(stderr, "ASKING failed: %s\n", r->str);
    rr_reply_free(r);
    return failed ? -1 : 0;
}

int cli_issue_command(cli_ctx *ctx, int argc, char **argv, size_t *lens, long long repeat) {
    int redirect = 0;
    for (;;) {
        if (redirect || !ctx->conn) {
            if (reconnect(ctx) < 0) return -1;
        }
        if (redirect == 2 && send_asking(ctx) < 0) return -1;
        redirect = 0;
        /* A redirected command is sent again with its whole repeat count,
         * as redis-cli does. */
        long long left = repeat;
        while (left < 0 || left-- > 0) {
            if (send_once(ctx, argc, argv, lens, &redirect) < 0) {
                print_conn_error(ctx);
                conn_close(ctx->conn);
                ctx->conn = NULL;
                return -1;
            }
            if (redirect) break;
            if (ctx->opts->interval_us) usleep((useconds_t)ctx->opts->interval_us);
            fflush(stdout);
        }
        if (!redirect) return 0;
    }
}

static char *read_stdin_arg(size_t *len) {
    cli_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) buf_append(&b, chunk, n);
    *len = b.len;
    return buf_take(&b);
}

/* The command line's arguments, unquoted with --quoted-input. */
static char **command_args(const cli_opts *o, int argc, char **argv, size_t **lens) {
    char **out = cli_xmalloc(sizeof(char *) * (size_t)(argc + 1));
    size_t *lv = cli_xmalloc(sizeof(size_t) * (size_t)(argc + 1));
    for (int i = 0; i < argc; i++) {
        if (o->quoted_input) {
            out[i] = cli_unquote(argv[i], &lv[i]);
            if (!out[i]) {
                cli_free_args(out, i, lv);
                return NULL;
            }
        } else {
            out[i] = cli_xstrdup(argv[i]);
            lv[i] = strlen(argv[i]);
        }
    }
    *lens = lv;
    return out;
}

static int run_noninteractive(cli_ctx *ctx) {
    const cli_opts *o = ctx->opts;
    int argc = ctx->argc;
    size_t *lens;
    char **args = command_args(o, argc, ctx->argv, &lens);
    if (!args) {
        printf("Invalid quoted string\n");
        return 1;
    }
    if (o->stdin_lastarg) {
        args[argc] = read_stdin_arg(&lens[argc]);
        argc++;
    } else if (o->stdin_tag) {
        int i;
        for (i = 0; i < argc; i++) {
            if (strcmp(o->stdin_tag, args[i]) != 0) continue;
            free(args[i]);
            args[i] = read_stdin_arg(&lens[i]);
            break;
        }
        if (i == argc) {
            cli_free_args(args, argc, lens);
            fprintf(stderr, "Using -X option but stdin tag not match.\n");
            return 1;
        }
    }
    int rc = cli_issue_command(ctx, argc, args, lens, o->repeat);
    cli_free_args(args, argc, lens);
    return rc == 0 ? 0 : 1;
}

static int run_mode(cli_ctx *ctx) {
    if (ctx->opts->mode_connects) {
        ctx->conn = cli_connect(ctx->opts, 0);
        if (!ctx->conn) return 1;
    }
    int rc = ctx->opts->mode(ctx);
    conn_close(ctx->conn); /* the mode may have closed it (NULL) */
    ctx->conn = NULL;
    return rc;
}

int main(int argc, char **argv) {
    static cli_opts opts;
    int tty = isatty(STDOUT_FILENO) || getenv("FAKETTY") != NULL;
    cli_opts_init(&opts, tty);
    int first = cli_parse_options(&opts, argc, argv);
    if (first < 0) return 1;
    cli_parse_env(&opts);
    if (opts.askpass) {
        free(opts.pass);
        opts.pass = cli_ask_password("Please input password: ");
    }
    cli_ctx ctx = {.opts = &opts, .argc = argc - first, .argv = argv + first};
    if (opts.mode) return run_mode(&ctx);
    if (ctx.argc == 0) {
        signal(SIGPIPE, SIG_IGN);
        return repl_run(&opts);
    }
    ctx.conn = connect_ex(&opts, 1, 1);
    int rc = run_noninteractive(&ctx);
    conn_close(ctx.conn);
    return rc;
}
