/*
 * rdb_file.c: an RDB file mapped for the loader (rdb_load.c parses
 * memory: a mapped file costs no copy, and the kernel drops the pages
 * behind the parser), and the file form of the visitor parse
 * (keel-check-rdb, reports). Kept apart from the parser, which reads
 * memory or a stream and knows nothing of files.
 */
#include "persist/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int rdb_map_file(const char *path, const unsigned char **buf, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    *len = (size_t)sb.st_size;
    if (*len == 0) {
        close(fd);
        *buf = (const unsigned char *)"";
        return 0;
    }
    void *m = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        errno = e;
        snprintf(err, errlen, "%s: mmap: %s", path, strerror(e));
        return -1;
    }
    madvise(m, *len, MADV_SEQUENTIAL);
    *buf = m;
    return 0;
}

void rdb_unmap_file(const unsigned char *buf, size_t len) {
    if (len) munmap((void *)buf, len);
}

int rdb_parse_file(const char *path, const rdb_visitor *v, rdb_load_stats *st, char *err, size_t errlen) {
    const unsigned char *buf;
    size_t len;
    if (rdb_map_file(path, &buf, &len, err, errlen) < 0) return -1;
    int rc = rdb_parse_named(path, buf, len, v, st, err, errlen);
    rdb_unmap_file(buf, len);
    return rc;
}

