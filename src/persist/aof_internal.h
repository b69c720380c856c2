/*
 * aof_internal: what the files of the AOF module share (aof.c: state,
 * writing, rewrite orchestration; aof_load.c: replaying files;
 * aof_rewrite.c: base files). Not an interface for other modules: theirs
 * is aof.h.
 */
#ifndef KEEL_AOF_INTERNAL_H
#define KEEL_AOF_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

/* Results of loading one file, as Redis names them. */
enum { AOF_OK = 0, AOF_NOT_EXIST, AOF_EMPTY, AOF_OPEN_ERR, AOF_FAILED, AOF_TRUNCATED };

/* write() until done (EINTR retried). 0 or -1 with errno. */
int aof_write_fully(int fd, const void *p, size_t len);

/* Replay dir/name into the keyspace. An RDB image at the start (a .rdb
 * base, or an old-style preamble) is loaded first, then commands follow.
 * last_file: a truncated tail may be dropped (with load_truncated) only
 * in the last file. */
int aof_load_file(const char *dir, const char *name, int load_truncated, int last_file);

/* aof-rewrite-incremental-fsync: fsync the base every 4 MB written. */
extern int aof_rewrite_incremental_fsync;

/* aof-timestamp-enabled: #TS:<unix time> annotations in the AOF. */
extern int aof_cfg_timestamp;

/* The base of a rewrite, from the keyspace, to fd. 0 or -1 with err. */
int aof_write_base(int fd, int rdb_format, char *err, size_t errlen);

/* Size of a file, -1 if it cannot be stat'ed. */
off_t aof_file_size(const char *dir, const char *name);

#endif
