/*
 * aof_manifest: reading, writing and naming the files of a multi-part AOF
 * directory (see aof_manifest.h for the format and why it is Redis's).
 */
#include "persist/aof_manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/kstr.h"
#include "lib/zmalloc.h"

#define MANIFEST_MAX_LINE 1024

aof_manifest *aof_manifest_new(void) { return zcalloc(sizeof(aof_manifest)); }

static void file_clear(aof_file *f) {
    zfree(f->name);
    f->name = NULL;
}

void aof_manifest_free(aof_manifest *am) {
    if (!am) return;
    if (am->base) {
        file_clear(am->base);
        zfree(am->base);
    }
    for (int i = 0; i < am->nincr; i++) file_clear(&am->incr[i]);
    for (int i = 0; i < am->nhist; i++) file_clear(&am->hist[i]);
    zfree(am->incr);
    zfree(am->hist);
    zfree(am);
}

static aof_file file_dup(const aof_file *f) {
    aof_file d = *f;
    d.name = zstrdup(f->name);
    return d;
}

static void push(aof_file **v, int *n, aof_file f) {
    *v = zrealloc(*v, sizeof(aof_file) * (size_t)(*n + 1));
    (*v)[(*n)++] = f;
}

aof_manifest *aof_manifest_dup(const aof_manifest *am) {
    aof_manifest *d = aof_manifest_new();
    d->base_seq = am->base_seq;
    d->incr_seq = am->incr_seq;
    if (am->base) {
        d->base = zmalloc(sizeof(aof_file));
        *d->base = file_dup(am->base);
    }
    for (int i = 0; i < am->nincr; i++) push(&d->incr, &d->nincr, file_dup(&am->incr[i]));
    for (int i = 0; i < am->nhist; i++) push(&d->hist, &d->nhist, file_dup(&am->hist[i]));
    return d;
}

/* One "key value ..." line into f; returns an error text or NULL. */
static const char *parse_line(const char *line, aof_file *f) {
    int argc;
    kstr *argv = kstr_split_args(line, &argc);
    const char *err = NULL;
    memset(f, 0, sizeof(*f));
    if (!argv || argc < 6 || argc % 2) {
        err = "Invalid AOF manifest file format";
        goto out;
    }
    for (int i = 0; i < argc; i += 2) {
        if (!strcasecmp(argv[i], "file")) {
            if (strchr(argv[i + 1], '/')) {
                err = "File can't be a path, just a filename";
                goto out;
            }
            zfree(f->name);
            f->name = zstrdup(argv[i + 1]);
        } else if (!strcasecmp(argv[i], "seq")) {
            f->seq = atoll(argv[i + 1]);
        } else if (!strcasecmp(argv[i], "type")) {
            f->type = argv[i + 1][0];
        }
    }
    if (!f->name || !f->seq || !f->type) err = "Invalid AOF manifest file format";
out:
    if (argv) kstr_free_split(argv, argc);
    if (err) file_clear(f);
    return err;
}

/* Place a parsed line; returns an error text or NULL. */
static const char *add_file(aof_manifest *am, aof_file f) {
    if (f.type == AOF_TYPE_BASE) {
        if (am->base) return "Found duplicate base file information";
        am->base = zmalloc(sizeof(aof_file));
        *am->base = f;
        am->base_seq = f.seq;
    } else if (f.type == AOF_TYPE_HIST) {
        push(&am->hist, &am->nhist, f);
    } else if (f.type == AOF_TYPE_INCR) {
        if (f.seq <= am->incr_seq) return "Found a non-monotonic sequence number";
        push(&am->incr, &am->nincr, f);
        am->incr_seq = f.seq;
    } else {
        return "Unknown AOF file type";
    }
    return NULL;
}

aof_manifest *aof_manifest_load(const char *path, int *missing, char *err, size_t errlen) {
    *missing = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT) *missing = 1;
        snprintf(err, errlen, "Can't open the AOF manifest %s for reading: %s", path, strerror(errno));
        return NULL;
    }
    aof_manifest *am = aof_manifest_new();
    char buf[MANIFEST_MAX_LINE + 1];
    int lineno = 0, nfiles = 0;
    const char *why = NULL;
    while (fgets(buf, sizeof(buf), fp)) {
        lineno++;
        if (buf[0] == '#') continue;
        if (!strchr(buf, '\n') && !feof(fp)) {
            why = "The AOF manifest file contains too long line";
            break;
        }
        size_t len = strlen(buf);
        while (len && strchr(" \t\r\n", buf[len - 1])) buf[--len] = '\0';
        aof_file f;
        if (len == 0) why = "Invalid AOF manifest file format";
        else if (!(why = parse_line(buf, &f)) && (why = add_file(am, f))) file_clear(&f);
        if (why) break;
        nfiles++;
    }
    if (!why && ferror(fp)) why = "Read AOF manifest failed";
    if (!why && nfiles == 0) why = "Found an empty AOF manifest";
    fclose(fp);
    if (why) {
        if (lineno) snprintf(err, errlen, "%s (manifest %s, line %d)", why, path, lineno);
        else snprintf(err, errlen, "%s (manifest %s)", why, path);
        aof_manifest_free(am);
        return NULL;
    }
    return am;
}

static kstr format_file(kstr s, const aof_file *f) {
    /* A name with spaces or quotes is written quoted, as Redis does. */
    if (strpbrk(f->name, " \t\r\n\"'\\")) {
        s = kstr_cat(s, "file ");
        s = kstr_cat_repr(s, f->name, strlen(f->name));
    } else {
        s = kstr_cat_printf(s, "file %s", f->name);
    }
    return kstr_cat_printf(s, " seq %lld type %c\n", f->seq, f->type);
}

char *aof_manifest_format(const aof_manifest *am) {
    kstr s = kstr_empty();
    if (am->base) s = format_file(s, am->base);
    for (int i = 0; i < am->nhist; i++) s = format_file(s, &am->hist[i]);
    for (int i = 0; i < am->nincr; i++) s = format_file(s, &am->incr[i]);
    char *out = zstrdup(s);
    kstr_free(s);
    return out;
}

char *aof_path(const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = zmalloc(dl + nl + 2);
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

int aof_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static int write_all(int fd, const char *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int aof_manifest_persist(const aof_manifest *am, const char *dir, const char *prefix, char *err,
                         size_t errlen) {
    char name[512], tmpname[520];
    snprintf(name, sizeof(name), "%s.manifest", prefix);
    snprintf(tmpname, sizeof(tmpname), "temp-%s", name);
    char *path = aof_path(dir, name), *tmp = aof_path(dir, tmpname);
    char *text = aof_manifest_format(am);
    int ret = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Can't open the AOF manifest file %s: %s", tmpname, strerror(errno));
        goto out;
    }
    if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "Error writing the AOF manifest file %s: %s", tmpname, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpname,
                 name, strerror(errno));
        unlink(tmp);
        goto out;
    }
    aof_fsync_dir(dir);
    ret = 0;
out:
    zfree(text);
    zfree(path);
    zfree(tmp);
    return ret;
}

const char *aof_manifest_new_base(aof_manifest *am, const char *prefix, int rdb_format) {
    if (am->base) {
        am->base->type = AOF_TYPE_HIST;
        push(&am->hist, &am->nhist, *am->base);
        zfree(am->base);
    }
    am->base = zmalloc(sizeof(aof_file));
    am->base->seq = ++am->base_seq;
    am->base->type = AOF_TYPE_BASE;
    kstr n = kstr_cat_printf(kstr_empty(), "%s.%lld.base.%s", prefix, am->base->seq, rdb_format ? "rdb" : "aof");
    am->base->name = zstrdup(n);
    kstr_free(n);
    return am->base->name;
}

const char *aof_manifest_new_incr(aof_manifest *am, const char *prefix) {
    aof_file f = {NULL, ++am->incr_seq, AOF_TYPE_INCR};
    kstr n = kstr_cat_printf(kstr_empty(), "%s.%lld.incr.aof", prefix, f.seq);
    f.name = zstrdup(n);
    kstr_free(n);
    push(&am->incr, &am->nincr, f);
    return am->incr[am->nincr - 1].name;
}

void aof_manifest_retire_incrs(aof_manifest *am, int keep_last) {
    int keep = keep_last && am->nincr > 0 ? 1 : 0;
    for (int i = 0; i < am->nincr - keep; i++) {
        am->incr[i].type = AOF_TYPE_HIST;
        push(&am->hist, &am->nhist, am->incr[i]);
    }
    if (keep) am->incr[0] = am->incr[am->nincr - 1];
    am->nincr = keep;
}

void aof_manifest_clear_history(aof_manifest *am) {
    for (int i = 0; i < am->nhist; i++) file_clear(&am->hist[i]);
    am->nhist = 0;
}
