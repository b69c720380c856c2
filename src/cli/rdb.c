/*
 * rdb: --rdb FILE and --functions-rdb FILE fetch a dump from a running
 * server through the replication handshake, as a replica would get it:
 * REPLCONF capa eof and rdb-only (the server then sends the snapshot and
 * no command stream), SYNC, then the payload, either "$<length>" followed
 * by that many bytes or, for a disk-less transfer, "$EOF:<40-byte mark>"
 * followed by the bytes up to that mark. FILE "-" writes to stdout.
 * Messages go to stderr in redis-cli's words.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modes.h"

#define EOF_MARK_SIZE 40

static const char *rdb_filename;
static int functions_only;

static int opt_rdb(cli_opts *o, const char *a) {
    rdb_filename = a;
    return cli_select_mode(o, mode_rdb, "--rdb", 1);
}
static int opt_functions_rdb(cli_opts *o, const char *a) {
    rdb_filename = a;
    functions_only = 1;
    return cli_select_mode(o, mode_rdb, "--functions-rdb", 1);
}

const cli_option rdb_options[] = {
    {"--rdb", 1, opt_rdb, "<filename>   Fetch an RDB dump from the server (SYNC) into a file\n"
                          "                     (\"-\": standard output)."},
    {"--functions-rdb", 1, opt_functions_rdb, "<filename> Like --rdb, with the functions only."},
    {NULL, 0, NULL, NULL},
};

/* REPLCONF arg1 arg2: 1 when accepted (an error is reported, not fatal:
 * older servers lack some of them). */
static int send_replconf(cli_conn *c, const char *a1, const char *a2) {
    fprintf(stderr, "sending REPLCONF %s %s\n", a1, a2);
    rr_reply *r = conn_call(c, "REPLCONF", a1, a2, NULL);
    if (!r) {
        fprintf(stderr, "\nI/O error\n");
        exit(1);
    }
    int ok = r->type != RR_ERROR;
    if (!ok) fprintf(stderr, "REPLCONF %s error: %s\n", a1, r->str);
    rr_reply_free(r);
    return ok;
}

/* SYNC, then the payload's header line. Returns the payload length, or 0
 * with eofmark filled for a transfer ended by a mark. */
static unsigned long long send_sync(cli_conn *c, char *eofmark) {
    char line[256];
    size_t n = 0;
    conn_append_raw(c, "SYNC\r\n", 6);
    if (conn_flush(c) < 0) {
        fprintf(stderr, "Error writing to master\n");
        exit(1);
    }
    for (;;) {
        char ch;
        if (conn_read_raw(c, &ch, 1) <= 0) {
            fprintf(stderr, "Error reading bulk length while SYNCing\n");
            exit(1);
        }
        if (ch == '\n' && n == 0) continue; /* keep-alive newlines */
        if (ch == '\n') break;
        if (n < sizeof(line) - 1) line[n++] = ch;
    }
    if (n && line[n - 1] == '\r') n--;
    line[n] = '\0';
    if (line[0] == '-') {
        fprintf(stderr, "SYNC with master failed: %s\n", line);
        exit(1);
    }
    if (!strncmp(line + 1, "EOF:", 4) && strlen(line + 5) >= EOF_MARK_SIZE) {
        memcpy(eofmark, line + 5, EOF_MARK_SIZE);
        return 0;
    }
    return strtoull(line + 1, NULL, 10);
}

static int open_output(const char *name) {
    if (!strcmp(name, "-")) return STDOUT_FILENO;
    int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Error opening '%s': %s\n", name, strerror(errno));
        exit(1);
    }
    return fd;
}

/* Keep the last EOF_MARK_SIZE bytes seen, to spot the end mark. */
static void track_tail(char *tail, const char *buf, size_t n) {
    if (n >= EOF_MARK_SIZE) {
        memcpy(tail, buf + n - EOF_MARK_SIZE, EOF_MARK_SIZE);
    } else {
        memmove(tail, tail + n, EOF_MARK_SIZE - n);
        memcpy(tail + EOF_MARK_SIZE - n, buf, n);
    }
}

int mode_rdb(cli_ctx *ctx) {
    cli_conn *c = ctx->conn;
    char eofmark[EOF_MARK_SIZE], tail[EOF_MARK_SIZE] = {0}, buf[16384];
    send_replconf(c, "capa", "eof");
    send_replconf(c, "rdb-only", "1");
    if (functions_only && !send_replconf(c, "rdb-filter-only", "functions")) {
        fprintf(stderr, "Failed requesting functions only RDB from server, aborting\n");
        return 1;
    }
    unsigned long long payload = send_sync(c, eofmark);
    int usemark = payload == 0;
    if (usemark) {
        payload = ULLONG_MAX;
        fprintf(stderr, "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '%s'\n",
                rdb_filename);
    } else {
        fprintf(stderr, "SYNC sent to master, writing %llu bytes to '%s'\n", payload, rdb_filename);
    }
    int to_stdout = !strcmp(rdb_filename, "-");
    int fd = open_output(rdb_filename);
    while (payload) {
        size_t want = payload > sizeof(buf) ? sizeof(buf) : (size_t)payload;
        long n = conn_read_raw(c, buf, want);
        if (n <= 0) {
            fprintf(stderr, "I/O Error reading RDB payload from socket\n");
            return 1;
        }
        ssize_t w = write(fd, buf, (size_t)n);
        if (w != n) {
            fprintf(stderr, "Error writing data to file: %s\n", w < 0 ? strerror(errno) : "short write");
            return 1;
        }
        payload -= (unsigned long long)n;
        if (usemark) {
            track_tail(tail, buf, (size_t)n);
            if (!memcmp(tail, eofmark, EOF_MARK_SIZE)) break;
        }
    }
    if (usemark) {
        payload = ULLONG_MAX - payload - EOF_MARK_SIZE;
        if (!to_stdout && ftruncate(fd, (off_t)payload) < 0)
            fprintf(stderr, "ftruncate failed: %s.\n", strerror(errno));
        fprintf(stderr, "Transfer finished with success after %llu bytes\n", payload);
    } else {
        fprintf(stderr, "Transfer finished with success.\n");
    }
    conn_close(c);
    ctx->conn = NULL;
    if (!to_stdout && fsync(fd) < 0) {
        fprintf(stderr, "Fail to fsync '%s': %s\n", rdb_filename, strerror(errno));
        return 1;
    }
    if (!to_stdout) close(fd);
    return 0;
}
