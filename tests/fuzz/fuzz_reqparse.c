/*
 * libFuzzer target for the request parser (src/net/reqparse.c).
 *
 * The input is split into chunks at arbitrary points (the first byte of
 * the input chooses the chunk size), as a socket would deliver it, and fed
 * incrementally with a small bulk limit so that the limit paths are hit.
 * Invariants checked: the parser never consumes more than it was given,
 * never reports a request with argc <= 0, and every argument it returns
 * is a valid kstr whose bytes can be read in full.
 */
#include "net/reqparse.h"
#include "lib/zmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t chunk = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    reqparse p;
    reqparse_init(&p, 4096);
    char *buf = NULL;
    size_t buflen = 0, fed = 0;
    volatile unsigned sink = 0;
    while (fed < size) {
        size_t n = size - fed < chunk ? size - fed : chunk;
        buf = realloc(buf, buflen + n);
        memcpy(buf + buflen, data + fed, n);
        buflen += n;
        fed += n;
        for (;;) {
            size_t used = 0;
            int r = reqparse_feed(&p, buf, buflen, &used);
            if (used > buflen) abort();
            memmove(buf, buf + used, buflen - used);
            buflen -= used;
            if (r == REQ_ERROR) goto done;
            if (r == REQ_NEED_MORE) break;
            int argc;
            kstr *argv = reqparse_take(&p, &argc);
            if (argc <= 0) abort();
            for (int i = 0; i < argc; i++) {
                for (size_t k = 0; k < kstr_len(argv[i]); k++) sink += (unsigned char)argv[i][k];
                kstr_free(argv[i]);
            }
            zfree(argv);
        }
    }
done:
    (void)sink;
    reqparse_free(&p);
    free(buf);
    return 0;
}
