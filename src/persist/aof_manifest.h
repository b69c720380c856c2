/*
 * aof_manifest: Redis 7's multi-part AOF layout. An AOF is a directory
 * (appenddirname) holding one base file (a snapshot: RDB, or AOF commands),
 * incremental files (the commands written since, in order) and a manifest
 * naming them, one line per file:
 *
 *   file appendonly.aof.1.base.rdb seq 1 type b
 *   file appendonly.aof.1.incr.aof seq 1 type i
 *
 * b = base, i = incremental, h = history (replaced by a rewrite, waiting
 * to be deleted). Names follow Redis: <appendfilename>.<seq>.base.rdb|aof,
 * <appendfilename>.<seq>.incr.aof, <appendfilename>.manifest. Lines are
 * key/value pairs (at least file, seq and type; unknown keys are allowed
 * for forward compatibility); '#' starts a comment line. The same grammar
 * as Redis 7.0, so either server loads the other's directory.
 *
 * The manifest is replaced atomically (temp file, fsync, rename, fsync of
 * the directory): at every instant the directory on disk describes a
 * complete dataset. Used by the server and by keel-check-aof (no server
 * state in here).
 */
#ifndef KEEL_AOF_MANIFEST_H
#define KEEL_AOF_MANIFEST_H

#include <stddef.h>

#define AOF_TYPE_BASE 'b'
#define AOF_TYPE_HIST 'h'
#define AOF_TYPE_INCR 'i'

typedef struct aof_file {
    char *name;
    long long seq;
    char type;
} aof_file;

typedef struct aof_manifest {
    aof_file *base;        /* NULL when none */
    aof_file *incr;        /* in sequence order */
    int nincr;
    aof_file *hist;
    int nhist;
    long long base_seq, incr_seq; /* highest used */
} aof_manifest;

aof_manifest *aof_manifest_new(void);
void aof_manifest_free(aof_manifest *am);
aof_manifest *aof_manifest_dup(const aof_manifest *am);

/* Parse a manifest file. NULL with a message in err (naming the line)
 * when it is invalid or cannot be read; *missing set when it does not
 * exist. */
aof_manifest *aof_manifest_load(const char *path, int *missing, char *err, size_t errlen);
/* The manifest text: base, history, incremental lines. Caller frees
 * (zfree). */
char *aof_manifest_format(const aof_manifest *am);
/* Write dir/<prefix>.manifest atomically. 0 ok, -1 with err. */
int aof_manifest_persist(const aof_manifest *am, const char *dir, const char *prefix, char *err,
                         size_t errlen);

/* Naming: a new base (the old one becomes history), a new incremental
 * file. Return the name (owned by the manifest). */
const char *aof_manifest_new_base(aof_manifest *am, const char *prefix, int rdb_format);
const char *aof_manifest_new_incr(aof_manifest *am, const char *prefix);
/* Incremental files become history (after a rewrite whose base covers
 * them): all of them, or all but the last when keep_last is set. */
void aof_manifest_retire_incrs(aof_manifest *am, int keep_last);
/* Forget the history entries (after their files were deleted). */
void aof_manifest_clear_history(aof_manifest *am);

/* "dir/name" in a new zmalloc'd string. */
char *aof_path(const char *dir, const char *name);
/* fsync a directory so that renames and creations in it are durable. */
int aof_fsync_dir(const char *dir);

#endif
