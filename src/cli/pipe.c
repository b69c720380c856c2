/*
 * pipe: --pipe, mass insertion. Raw RESP read from stdin is written to the
 * server while its replies are read and counted, so neither side waits for
 * the other (a server's output buffer never fills up with replies nobody
 * reads). At the end of stdin an ECHO of 20 random bytes is sent; its
 * reply coming back proves that every earlier reply has been read. The
 * summary lines are redis-cli's, so scripts that grep them keep working:
 *   All data transferred. Waiting for the last reply...
 *   Last reply received from server.
 *   errors: 0, replies: 1000
 * Error replies are printed on stderr; the exit code is 1 when there was
 * any. --pipe-timeout N (default 30, 0: forever) gives up when no reply
 * arrives for N seconds after stdin ended.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "modes.h"

#define PIPE_DEFAULT_TIMEOUT 30
#define PIPE_WRITE_BURST (128 * 1024)

static int pipe_timeout = PIPE_DEFAULT_TIMEOUT;

static int opt_pipe(cli_opts *o, const char *a) {
    return cli_select_mode(o, mode_pipe, "--pipe", 1);
}
static int opt_pipe_timeout(cli_opts *o, const char *a) {
    pipe_timeout = atoi(a);
    return 0;
}

const cli_option pipe_options[] = {
    {"--pipe", 0, opt_pipe, "             Send raw RESP from STDIN to the server (mass insertion)."},
    {"--pipe-timeout", 1, opt_pipe_timeout, "<n> In --pipe mode, give up when no reply comes for <n>\n"
                                            "                     seconds after all data was sent (default 30, 0: never)."},
    {NULL, 0, NULL, NULL},
};

typedef struct pipe_state {
    char obuf[16 * 1024];
    size_t olen, opos;
    int eof;            /* stdin is exhausted, the ECHO is queued */
    int done;           /* the ECHO's reply came back */
    char magic[20];
    long long errors, replies;
    time_t last_reply;
} pipe_state;

static void queue_final_echo(pipe_state *s) {
    /* A leading CRLF: if stdin ended in a partial command, the ECHO still
     * parses as its own request more often than not (empty lines are
     * ignored by the server). */
    static const char head[] = "\r\n*2\r\n$4\r\nECHO\r\n$20\r\n";
    for (int i = 0; i < 20; i++) s->magic[i] = (char)(rand() & 0xff);
    memcpy(s->obuf, head, sizeof(head) - 1);
    memcpy(s->obuf + sizeof(head) - 1, s->magic, 20);
    memcpy(s->obuf + sizeof(head) - 1 + 20, "\r\n", 2);
    s->olen = sizeof(head) - 1 + 22;
    s->opos = 0;
    s->eof = 1;
    printf("All data transferred. Waiting for the last reply...\n");
    fflush(stdout);
}

static void read_replies(cli_conn *c, pipe_state *s) {
    int fill = conn_fill_nowait(c);
    rr_reply *r;
    int st;
    while ((st = conn_next(c, &r)) == 1) {
        s->last_reply = time(NULL);
        if (r->type == RR_ERROR) {
            fprintf(stderr, "%s\n", r->str);
            s->errors++;
        } else if (s->eof && r->type == RR_STRING && r->len == 20 &&
                   memcmp(r->str, s->magic, 20) == 0) {
            printf("Last reply received from server.\n");
            s->done = 1;
            s->replies--;
        }
        s->replies++;
        rr_reply_free(r);
    }
    if (st < 0 || fill < 0) {
        fprintf(stderr, "Error reading replies from server\n");
        exit(1);
    }
}

static void write_some(cli_conn *c, pipe_state *s) {
    size_t burst = 0;
    for (;;) {
        if (s->olen) {
            ssize_t n = send(conn_fd(c), s->obuf + s->opos, s->olen, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR) {
                    fprintf(stderr, "Error writing to the server: %s\n", strerror(errno));
                    exit(1);
                }
                n = 0;
            }
            s->olen -= (size_t)n;
            s->opos += (size_t)n;
            burst += (size_t)n;
            if (s->olen) return; /* the socket is full */
        }
        if (s->eof || burst > PIPE_WRITE_BURST) return;
        ssize_t n = read(STDIN_FILENO, s->obuf, sizeof(s->obuf));
        if (n == 0) {
            queue_final_echo(s);
        } else if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "Error reading from stdin: %s\n", strerror(errno));
            exit(1);
        } else {
            s->olen = (size_t)n;
            s->opos = 0;
        }
    }
}

int mode_pipe(cli_ctx *ctx) {
    static pipe_state s;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    s.last_reply = time(NULL);
    while (!s.done) {
        struct pollfd p = {.fd = conn_fd(ctx->conn), .events = POLLIN};
        if (!s.eof || s.olen) p.events |= POLLOUT;
        int n = poll(&p, 1, 1000);
        if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) read_replies(ctx->conn, &s);
        if (n > 0 && (p.revents & POLLOUT)) write_some(ctx->conn, &s);
        if (s.eof && pipe_timeout > 0 && time(NULL) - s.last_reply > pipe_timeout) {
            fprintf(stderr, "No replies for %d seconds: exiting.\n", pipe_timeout);
            s.errors++;
            break;
        }
    }
    printf("errors: %lld, replies: %lld\n", s.errors, s.replies);
    return s.errors ? 1 : 0;
}
