/*
 * util: small conversions shared by every layer.
 *
 * Number parsing is strict on purpose: Redis clients rely on "12 " or
 * "+1" or "01" NOT being integers (they stay strings), so string_to_ll
 * accepts only the canonical decimal form. That same rule decides whether
 * a value can be stored with the int encoding.
 */
#ifndef KEEL_UTIL_H
#define KEEL_UTIL_H

#include <limits.h>
#include <stddef.h>

/* Canonical int64 parse: optional '-', no leading zeros, no spaces. */
int string_to_ll(const char *s, size_t len, long long *value);
/* Like string_to_ll but also accepts what strtoll would, used for user
 * arguments where Redis is equally strict: same rules. */
int string_to_double(const char *s, size_t len, double *value); /* rejects NaN, spaces */
int string_to_long_double(const char *s, size_t len, long double *value);
/* Would a + b overflow a long long? (INCRBY, HINCRBY) */
static inline int ll_add_overflows(long long a, long long b) {
    return (b < 0 && a < 0 && b < LLONG_MIN - a) || (b > 0 && a > 0 && b > LLONG_MAX - a);
}
/* Write v in decimal; returns the length (dst must hold 21 bytes). */
int ll_to_string(char *dst, size_t dstlen, long long v);
/* A RESP length header, "*<n>\r\n" or "$<n>\r\n" (kind '*' or '$'), into
 * out (32 bytes); returns its length. The AOF and the replication stream
 * write one per argument of every write: snprintf cost about 700
 * instructions a call, most of a replicated SET's overhead
 * (bench/repl/cost.py). */
size_t resp_header(char *out, char kind, long long n);
/* Shortest "%.17g" form Redis uses for doubles in replies ("inf", "-inf"). */
int double_to_string(char *buf, size_t len, double v);
/* INCRBYFLOAT's formatting: fixed notation, no trailing zeros. */
int long_double_to_string(char *buf, size_t len, long double v);

/* Glob-style match (*, ?, [a-z], [^a], \x), as KEYS/SCAN MATCH/CONFIG GET. */
int glob_match(const char *pattern, size_t plen, const char *str, size_t slen, int nocase);

/* "1gb", "100mb", "5kb", "2000mb", "1k" (1000), plain bytes. Returns 0 on
 * error. Redis's units: k=1000, kb=1024, m=1e6, mb=1024^2, g=1e9, gb=1024^3. */
int parse_memory_size(const char *s, long long *bytes);
/* "1.50M" style used by *_human INFO fields. */
void bytes_to_human(char *buf, size_t len, unsigned long long n);

long long ustime(void);   /* wall clock, microseconds */
long long mstime(void);   /* wall clock, milliseconds */
long long monotonic_us(void);

/* Random bytes from /dev/urandom (falls back to time-based seed). */
void get_random_bytes(unsigned char *p, size_t len);

#endif
