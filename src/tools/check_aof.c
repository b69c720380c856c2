/*
 * keel-check-aof [--fix] DIR|MANIFEST|FILE: what redis-check-aof does, for
 * Keel. Given a multi-part AOF (its directory or its manifest) it checks
 * the base (RDB with Keel's loader, or commands) and every incremental
 * file in order; given one file (an old single appendonly.aof, perhaps
 * with an RDB preamble) it checks that file.
 *
 * A file is sound when it is a sequence of complete RESP commands ('#'
 * annotation lines allowed between them) with no MULTI left open. When it
 * is not, the report says where the last good command ends; --fix cuts
 * the file there after asking (a crash in the middle of a write leaves
 * exactly such a tail). Only the last file of a multi-part AOF may be cut:
 * anything before it is needed whole. Exit status 0 when everything is
 * (now) sound, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "core/config.h"
#include "core/entry.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "persist/aof_manifest.h"
#include "persist/rdb.h"

typedef struct check {
    const char *path;
    long long size;
    long long ok_up_to, ok_line, line;
    int multi;
    long long before_multi, before_multi_line;
    char error[640];
    int truncated; /* ended inside a command (or an open MULTI) */
} check;

static int read_line(FILE *fp, check *ck, char *buf, size_t cap) {
    if (!fgets(buf, (int)cap, fp)) return 0;
    ck->line++;
    return 1;
}

/* The number after a one-letter prefix; 0 and an error message if not. */
static int expect_number(check *ck, const char *buf, char prefix, long long *out) {
    if (buf[0] != prefix) {
        snprintf(ck->error, sizeof(ck->error), "0x%16llx: Expected prefix '%c', got: '%c'", (unsigned long long)ck->ok_up_to,
                 prefix, buf[0]);
        return 0;
    }
    char *end;
    *out = strtoll(buf + 1, &end, 10);
    if (end == buf + 1 || (*end != '\r' && *end != '\n')) {
        snprintf(ck->error, sizeof(ck->error), "0x%16llx: Invalid number after '%c'", (unsigned long long)ck->ok_up_to, prefix);
        return 0;
    }
    return 1;
}

/* One command; 1 read, 0 clean end of file, -1 problem (error or short). */
static int check_command(FILE *fp, check *ck) {
    char buf[1024];
    for (;;) {
        if (!read_line(fp, ck, buf, sizeof(buf))) return feof(fp) ? 0 : -1;
        if (buf[0] != '#') break;
        ck->ok_up_to = ftello(fp);
        ck->ok_line = ck->line;
    }
    long long argc;
    if (!expect_number(ck, buf, '*', &argc)) return -1;
    char first[16] = "";
    for (long long i = 0; i < argc; i++) {
        long long len;
        if (!read_line(fp, ck, buf, sizeof(buf))) {
            ck->truncated = 1;
            return -1;
        }
        if (!expect_number(ck, buf, '$', &len) || len < 0) return -1;
        if (ftello(fp) + len + 2 > ck->size) {
            ck->truncated = 1;
            return -1;
        }
        if (i == 0 && len < (long long)sizeof(first)) {
            if (fread(first, 1, (size_t)len, fp) != (size_t)len) return -1;
            first[len] = '\0';
            fseeko(fp, 2, SEEK_CUR);
        } else {
            fseeko(fp, len + 2, SEEK_CUR);
        }
        ck->line++;
    }
    if (!strcasecmp(first, "multi")) {
        if (ck->multi) {
            snprintf(ck->error, sizeof(ck->error), "Unexpected MULTI");
            return -1;
        }
        ck->multi = 1;
        ck->before_multi = ck->ok_up_to;
        ck->before_multi_line = ck->ok_line;
    } else if (!strcasecmp(first, "exec")) {
        if (!ck->multi) {
            snprintf(ck->error, sizeof(ck->error), "Unexpected EXEC");
            return -1;
        }
        ck->multi = 0;
    }
    ck->ok_up_to = ftello(fp);
    ck->ok_line = ck->line;
    return 1;
}

/* Check commands from 'start'; returns 1 sound, 0 not. */
static int check_commands(check *ck, long long start) {
    FILE *fp = fopen(ck->path, "r");
    if (!fp) {
        snprintf(ck->error, sizeof(ck->error), "Cannot open file %s: %s", ck->path, strerror(errno));
        return 0;
    }
    fseeko(fp, start, SEEK_SET);
    ck->ok_up_to = start;
    int r;
    while ((r = check_command(fp, ck)) == 1) {}
    fclose(fp);
    if (r == 0 && ck->multi) {
        snprintf(ck->error, sizeof(ck->error), "Reached EOF before reading EXEC for MULTI");
        ck->ok_up_to = ck->before_multi;
        ck->ok_line = ck->before_multi_line;
        ck->truncated = 1;
        return 0;
    }
    if (r < 0 && ck->truncated && !ck->error[0])
        snprintf(ck->error, sizeof(ck->error), "0x%16llx: Unexpected EOF reading command", (unsigned long long)ck->ok_up_to);
    return r == 0;
}

static int skip_key(void *priv, const rdb_key_info *ki, entry *e) {
    (void)ki;
    (*(long long *)priv)++;
    entry_free(e);
    return 0;
}

/* RDB at the start (a .rdb base or a preamble): checked with the loader. */
static int check_rdb_part(check *ck, long long *end) {
    long long keys = 0;
    rdb_visitor v = {.priv = &keys, .on_key = skip_key};
    rdb_load_stats st = {0};
    char err[512];
    if (rdb_parse_file(ck->path, &v, &st, err, sizeof(err)) < 0) {
        snprintf(ck->error, sizeof(ck->error), "RDB preamble is broken: %s", err);
        return 0;
    }
    printf("RDB preamble is OK (%lld keys), proceeding with AOF tail...\n", keys);
    *end = st.bytes;
    return 1;
}

static int starts_with_rdb(const char *path) {
    FILE *fp = fopen(path, "r");
    char sig[5];
    int yes = fp && fread(sig, 1, 5, fp) == 5 && !memcmp(sig, "REDIS", 5);
    if (fp) fclose(fp);
    return yes;
}

static int ask_yes(void) {
    char answer[16] = "";
    if (!fgets(answer, sizeof(answer), stdin)) return 0;
    return answer[0] == 'y' || answer[0] == 'Y';
}

/* Check one file; fix it when allowed. Returns 1 sound (or fixed). */
static int check_file(const char *path, int fix, int may_fix) {
    struct stat sb;
    check ck = {.path = path};
    if (stat(path, &sb) < 0) {
        printf("Cannot stat file: %s, aborting...\n", path);
        return 0;
    }
    ck.size = sb.st_size;
    long long start = 0;
    int ok = 1;
    if (starts_with_rdb(path)) {
        printf("The AOF appears to start with an RDB preamble.\nChecking the RDB preamble to start:\n");
        ok = check_rdb_part(&ck, &start);
    }
    if (ok) ok = check_commands(&ck, start);
    if (ok) return 1;
    printf("%s\n", ck.error);
    long long diff = ck.size - ck.ok_up_to;
    printf("AOF analyzed: filename=%s, size=%lld, ok_up_to=%lld, ok_up_to_line=%lld, diff=%lld\n", path, ck.size,
           ck.ok_up_to, ck.ok_line, diff);
    if (!fix) {
        printf("AOF %s is not valid. Use the --fix option to try fixing it.\n", path);
        return 0;
    }
    if (!may_fix || ck.ok_up_to < start || (!ck.truncated && ck.ok_up_to == 0)) {
        printf("AOF %s can not be fixed: only a damaged tail of the last file can be cut.\n", path);
        return 0;
    }
    printf("This will shrink the AOF %s from %lld bytes, with %lld bytes, to %lld bytes\nContinue? [y/N]: ", path, ck.size,
           diff, ck.ok_up_to);
    fflush(stdout);
    if (!ask_yes()) {
        printf("Aborting...\n");
        return 0;
    }
    if (truncate(path, ck.ok_up_to) < 0) {
        printf("Failed to truncate AOF %s: %s\n", path, strerror(errno));
        return 0;
    }
    printf("Successfully truncated AOF %s\n", path);
    return 1;
}

/* A directory: its (only) manifest. */
static char *manifest_in(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *de;
    char *found = NULL;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 9 && !strcmp(de->d_name + n - 9, ".manifest") && strncmp(de->d_name, "temp-", 5)) {
            zfree(found);
            found = aof_path(dir, de->d_name);
        }
    }
    closedir(d);
    return found;
}

static int check_multipart(const char *manifest, int fix) {
    char err[768];
    int missing;
    aof_manifest *am = aof_manifest_load(manifest, &missing, err, sizeof(err));
    if (!am) {
        printf("%s\n", err);
        return 0;
    }
    char *dir = zstrdup(manifest);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    printf("Start checking Multi Part AOF\n");
    int total = (am->base ? 1 : 0) + am->nincr, n = 0, ok = 1;
    if (am->base) {
        char *p = aof_path(dir, am->base->name);
        printf("Start to check BASE AOF (%s format).\n", starts_with_rdb(p) ? "RDB" : "RESP");
        ok = check_file(p, fix, ++n == total);
        if (ok) printf("BASE AOF %s is valid\n", am->base->name);
        zfree(p);
    }
    if (ok && am->nincr) printf("Start to check INCR files.\n");
    for (int i = 0; ok && i < am->nincr; i++) {
        char *p = aof_path(dir, am->incr[i].name);
        ok = check_file(p, fix, ++n == total);
        if (ok) printf("INCR AOF %s is valid\n", am->incr[i].name);
        zfree(p);
    }
    if (ok) printf("All AOF files and manifest are valid\n");
    zfree(dir);
    aof_manifest_free(am);
    return ok;
}

int main(int argc, char **argv) {
    int fix = 0;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fix")) fix = 1;
        else if (!target && argv[i][0] != '-') target = argv[i];
        else target = NULL, i = argc;
    }
    if (!target) {
        fprintf(stderr, "Usage: %s [--fix] <AOF directory|file.manifest|file.aof>\n", argv[0]);
        return 1;
    }
    char *cfg_argv[] = {argv[0], NULL};
    config_load(1, cfg_argv);
    server_update_cached_time();
    struct stat sb;
    if (stat(target, &sb) < 0) {
        printf("Cannot stat file: %s, aborting...\n", target);
        return 1;
    }
    int ok;
    if (S_ISDIR(sb.st_mode)) {
        char *m = manifest_in(target);
        if (!m) {
            printf("No AOF manifest found in %s\n", target);
            return 1;
        }
        ok = check_multipart(m, fix);
        zfree(m);
    } else {
        size_t n = strlen(target);
        if (n > 9 && !strcmp(target + n - 9, ".manifest")) ok = check_multipart(target, fix);
        else {
            ok = check_file(target, fix, 1);
            if (ok) printf("AOF %s is valid\n", target);
        }
    }
    return ok ? 0 : 1;
}
