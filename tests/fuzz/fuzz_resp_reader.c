/* libFuzzer target for the client-side reply reader: arbitrary bytes, fed
 * in chunks whose sizes come from the input's first byte, must never crash,
 * leak or loop; every reply returned is walked and freed. */
#include <stddef.h>
#include <stdint.h>

#include "lib/resp_reader.h"

static size_t walk(const rr_reply *rep) {
    size_t n = 1 + rep->len;
    for (size_t i = 0; i < rep->elements; i++) n += walk(rep->element[i]);
    if (rep->attribute) n += walk(rep->attribute);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] % 16 + 1;
    data++, size--;
    rr_reader *r = rr_reader_new();
    volatile size_t total = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        rr_reader_feed(r, (const char *)data + off, n);
        rr_reply *rep;
        int st;
        while ((st = rr_reader_next(r, &rep)) == RR_OK) {
            total += walk(rep);
            rr_reply_free(rep);
        }
        if (st == RR_PROTO_ERROR) break;
    }
    rr_reader_free(r);
    return 0;
}
