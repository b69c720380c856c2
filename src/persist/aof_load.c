/*
 * aof_load: replays an AOF file into the keyspace, as Redis does: each
 * command runs in a fake client (replies dropped) exactly as it was
 * recorded; '#' lines (timestamp annotations) are skipped; a file that
 * starts with "REDIS" holds an RDB image first (a .rdb base, or the
 * preamble of an old single-file AOF) and commands after it.
 *
 * A file cut short (a crash in the middle of a write) is the expected
 * failure: its last complete command is known (and the one before an
 * unfinished MULTI), so with aof-load-truncated the tail is cut off and
 * loading goes on with a warning naming the file and offset; without it
 * start-up stops with the same facts. Anything else malformed stops
 * start-up: replaying a damaged stream would load wrong data silently.
 */
#include "persist/aof_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/command.h"
#include "core/db.h"
#include "core/multi.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/client.h"
#include "persist/aof_manifest.h"
#include "persist/loading.h"
#include "persist/rdb.h"

#define LINE_MAX_LEN 1024

off_t aof_file_size(const char *dir, const char *name) {
    char *path = aof_path(dir, name);
    struct stat st;
    off_t r = stat(path, &st) == 0 ? st.st_size : -1;
    zfree(path);
    return r;
}

typedef struct loader {
    const char *name;
    char *path;
    FILE *fp;
    off_t size;
    client *c;
    off_t valid_up_to, valid_before_multi;
} loader;

enum { READ_OK, READ_EOF, READ_SHORT, READ_FORMAT, READ_IOERR };

/* One "<prefix><number>\r\n" line; READ_EOF only before any byte. */
static int read_number_line(loader *l, char prefix, long long *out, int first) {
    char buf[LINE_MAX_LEN];
    for (;;) {
        if (!fgets(buf, sizeof(buf), l->fp)) {
            if (ferror(l->fp)) return READ_IOERR;
            return first ? READ_EOF : READ_SHORT;
        }
        if (first && buf[0] == '#') {
            /* An annotation (#TS:...); a line longer than the buffer is
             * read to its end. */
            while (!strchr(buf, '\n') && fgets(buf, sizeof(buf), l->fp)) {}
            l->valid_up_to = ftello(l->fp);
            continue;
        }
        break;
    }
    if (!strchr(buf, '\n')) return feof(l->fp) ? READ_SHORT : READ_FORMAT;
    if (buf[0] != prefix) return READ_FORMAT;
    char *end;
    errno = 0;
    long long v = strtoll(buf + 1, &end, 10);
    if (errno || end == buf + 1 || (*end != '\r' && *end != '\n')) return READ_FORMAT;
    *out = v;
    return READ_OK;
}

/* Read one command into l->c->argv. */
static int read_command(loader *l) {
    long long argc;
    int r = read_number_line(l, '*', &argc, 1);
    if (r != READ_OK) return r;
    if (argc < 1 || argc > 1024 * 1024 * 1024) return READ_FORMAT;
    client *c = l->c;
    c->argv = zmalloc(sizeof(kstr) * (size_t)argc);
    c->argc = 0;
    for (long long j = 0; j < argc; j++) {
        long long len;
        r = read_number_line(l, '$', &len, 0);
        if (r != READ_OK) return r;
        off_t pos = ftello(l->fp);
        if (len < 0) return READ_FORMAT;
        if (pos + len + 2 > l->size) return READ_SHORT;
        kstr s = kstr_new_len(NULL, (size_t)len);
        c->argv[c->argc++] = s;
        char crlf[2];
        if ((len && fread(s, (size_t)len, 1, l->fp) != 1) || fread(crlf, 2, 1, l->fp) != 1)
            return ferror(l->fp) ? READ_IOERR : READ_SHORT;
        if (crlf[0] != '\r' || crlf[1] != '\n') return READ_FORMAT;
    }
    return READ_OK;
}

/* Run the command just read; 0, or -1 for an unknown command. */
static int run_command(loader *l) {
    client *c = l->c;
    command *cmd = command_lookup_argv(c->argc, c->argv);
    if (!cmd) {
        server_log(LOG_WARNING, "Unknown command '%.64s' reading the append only file %s", c->argv[0], l->name);
        return -1;
    }
    if (!strcmp(cmd->name, "multi")) l->valid_before_multi = l->valid_up_to;
    c->cmd = c->lastcmd = cmd;
    if ((c->flags & CLIENT_MULTI) && !multi_is_exec(cmd)) {
        multi_queue(c, cmd);
    } else {
        db_set_command_time(server_mstime());
        cmd->proc(c);
    }
    client_free_argv(c);
    return 0;
}

/* A short read: cut the file at the last complete command when allowed. */
static int handle_truncated(loader *l, int load_truncated, int last_file) {
    if (!last_file) {
        /* Later files build on this one: cutting it would lose data. */
        server_log(LOG_WARNING, "Fatal error: the truncated file is not the last file (%s ends inside a command "
                   "after offset %lld)", l->name, (long long)l->valid_up_to);
        return AOF_FAILED;
    }
    if (load_truncated && last_file) {
        server_log(LOG_WARNING, "!!! Warning: short read while loading the AOF file %s!!!", l->name);
        server_log(LOG_WARNING, "!!! Truncating the AOF %s at offset %lld !!!", l->name,
                   (long long)l->valid_up_to);
        if (truncate(l->path, l->valid_up_to) == -1) {
            server_log(LOG_WARNING, "Error truncating the AOF file %s: %s", l->name, strerror(errno));
        } else {
            server_log(LOG_WARNING, "AOF %s loaded anyway because aof-load-truncated is enabled", l->name);
            return AOF_TRUNCATED;
        }
    }
    server_log(LOG_WARNING,
               "Unexpected end of file reading the append only file %s (last complete command ends at "
               "offset %lld of %lld bytes). You can: 1) Make a backup of your AOF file, then use "
               "keel-check-aof --fix <filename.manifest>. 2) Alternatively you can set the "
               "'aof-load-truncated' configuration option to yes and restart the server.",
               l->name, (long long)l->valid_up_to, (long long)l->size);
    return AOF_FAILED;
}

/* An RDB image at the start of the file: load it, then go on after it. */
static int load_rdb_part(loader *l, int legacy) {
    rdb_load_stats st;
    memset(&st, 0, sizeof(st));
    char err[512];
    server_log(LOG_NOTICE, legacy ? "Reading RDB preamble from AOF file..." : "Reading RDB base file on AOF loading...");
    if (rdb_load_file(l->path, &st, err, sizeof(err)) != 0) {
        server_log(LOG_WARNING, "Error reading the RDB %s %s, AOF loading aborted: %s",
                   legacy ? "preamble of the AOF file" : "base file", l->name, err);
        return -1;
    }
    if (fseeko(l->fp, (off_t)st.bytes, SEEK_SET) != 0) return -1;
    l->valid_up_to = (off_t)st.bytes;
    if (legacy && st.bytes < l->size) server_log(LOG_NOTICE, "Reading the remaining AOF tail...");
    return 0;
}

static int replay(loader *l, int load_truncated, int last_file) {
    long long loops = 0;
    for (;;) {
        if ((++loops & 1023) == 0) server_update_cached_time();
        int r = read_command(l);
        if (r == READ_OK) {
            if (run_command(l) < 0) return AOF_FAILED;
            l->valid_up_to = ftello(l->fp);
            loading_progress((long long)l->valid_up_to);
            continue;
        }
        client_free_argv(l->c);
        if (r == READ_EOF) break;
        if (r == READ_SHORT) return handle_truncated(l, load_truncated, last_file);
        if (r == READ_IOERR) {
            server_log(LOG_WARNING, "Unrecoverable error reading the append only file %s: %s", l->name,
                       strerror(errno));
            return AOF_FAILED;
        }
        server_log(LOG_WARNING,
                   "Bad file format reading the append only file %s (at offset %lld, after the last valid "
                   "command): make a backup of your AOF file, then use keel-check-aof --fix <filename.manifest>",
                   l->name, (long long)l->valid_up_to);
        return AOF_FAILED;
    }
    if (l->c->flags & CLIENT_MULTI) {
        server_log(LOG_WARNING, "Revert incomplete MULTI/EXEC transaction in AOF file %s", l->name);
        l->valid_up_to = l->valid_before_multi;
        return handle_truncated(l, load_truncated, last_file);
    }
    return AOF_OK;
}

int aof_load_file(const char *dir, const char *name, int load_truncated, int last_file) {
    loader l = {.name = name, .path = aof_path(dir, name)};
    int ret;
    l.fp = fopen(l.path, "r");
    if (!l.fp) {
        int en = errno;
        server_log(LOG_WARNING, "Fatal error: can't open the append log file %s for reading: %s", name, strerror(en));
        zfree(l.path);
        return en == ENOENT ? AOF_NOT_EXIST : AOF_OPEN_ERR;
    }
    struct stat st;
    if (fstat(fileno(l.fp), &st) == 0 && st.st_size == 0) {
        fclose(l.fp);
        zfree(l.path);
        return AOF_EMPTY;
    }
    l.size = st.st_size;
    l.c = client_create_fake();
    l.c->flags |= CLIENT_REPLY_OFF;
    char sig[5];
    db_set_loading(1);
    loading_begin((long long)l.size);
    if (fread(sig, 1, 5, l.fp) == 5 && !memcmp(sig, "REDIS", 5)) {
        int legacy = strstr(name, ".base.rdb") == NULL;
        ret = load_rdb_part(&l, legacy) == 0 ? replay(&l, load_truncated, last_file) : AOF_FAILED;
    } else {
        ret = fseeko(l.fp, 0, SEEK_SET) == 0 ? replay(&l, load_truncated, last_file) : AOF_FAILED;
    }
    loading_end();
    db_set_loading(0);
    client_free(l.c);
    fclose(l.fp);
    zfree(l.path);
    return ret;
}
