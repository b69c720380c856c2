/* See util.h. */
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int string_to_ll(const char *s, size_t len, long long *value) {
    if (len == 0 || len > 20) return 0;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1) return 0;
    }
    if (s[i] == '0') {
        if (len == 1) { *value = 0; return 1; }
        return 0; /* leading zero or "-0" */
    }
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *value = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *value = (long long)v;
    }
    return 1;
}

/* Redis puts no length limit on a double argument (DBL_MAX written out in
 * full is over 300 digits), so long inputs get a heap copy for strtod. */
int string_to_double(const char *s, size_t len, double *value) {
    char small[256];
    if (len == 0) return 0;
    if (isspace((unsigned char)s[0])) return 0;
    char *buf = len < sizeof(small) ? small : zmalloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int ok = (size_t)(end - buf) == len && !isnan(v) &&
             !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO));
    if (buf != small) zfree(buf);
    if (!ok) return 0;
    *value = v;
    return 1;
}

/* Redis accepts long doubles written with up to 5 KB of characters
 * (INCRBYFLOAT of a fully written-out 1e308, say). */
#define LONG_DOUBLE_MAX_CHARS (5 * 1024)

int string_to_long_double(const char *s, size_t len, long double *value) {
    char small[256];
    if (len == 0 || len > LONG_DOUBLE_MAX_CHARS) return 0;
    if (isspace((unsigned char)s[0])) return 0;
    char *buf = len < sizeof(small) ? small : zmalloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    int ok = (size_t)(end - buf) == len && !isnan(v) && errno != ERANGE;
    if (buf != small) zfree(buf);
    if (!ok) return 0;
    *value = v;
    return 1;
}

/* Hand-rolled: every reply header goes through here, and snprintf's
 * format parsing showed up as the top cost of LRANGE replies. */
int ll_to_string(char *dst, size_t dstlen, long long v) {
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[n++] = '-';
    if ((size_t)n >= dstlen) return 0;
    for (int i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
    dst[n] = '\0';
    return n;
}

size_t resp_header(char *out, char kind, long long n) {
    out[0] = kind;
    size_t len = 1 + (size_t)ll_to_string(out + 1, 30, n);
    out[len++] = '\r';
    out[len++] = '\n';
    return len;
}

int double_to_string(char *buf, size_t len, double v) {
    if (isinf(v)) return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    if (isnan(v)) return snprintf(buf, len, "nan");
    /* Integral values in the exactly-representable range print without
     * exponent, as Redis does. */
    if (v == floor(v) && fabs(v) < 1e17) return snprintf(buf, len, "%.0f", v);
    return snprintf(buf, len, "%.17g", v);
}

int long_double_to_string(char *buf, size_t len, long double v) {
    if (isinf(v)) return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    int n = snprintf(buf, len, "%.17Lf", v);
    if (n < 0 || (size_t)n >= len) return 0;
    if (strchr(buf, '.')) {
        char *p = buf + n - 1;
        while (*p == '0') { p--; n--; }
        if (*p == '.') n--;
        buf[n] = '\0';
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; buf[1] = '\0'; n = 1; }
    return n;
}

static inline int fold(int c, int nocase) { return nocase ? tolower(c) : c; }

/* Iterative glob matcher with one backtrack point for '*', which keeps it
 * linear-ish and free of recursion depth problems on hostile patterns. */
static int match_class(const char **pp, const char *pend, int c, int nocase) {
    const char *p = *pp + 1; /* after '[' */
    int negate = 0, matched = 0;
    if (p < pend && *p == '^') { negate = 1; p++; }
    for (;;) {
        if (p >= pend) { p--; break; } /* unterminated: treat rest as class */
        if (*p == ']') break;
        if (*p == '\\' && p + 1 < pend) {
            p++;
            if (fold((unsigned char)*p, nocase) == c) matched = 1;
        } else if (p + 2 < pend && p[1] == '-' && p[2] != ']') {
            int lo = fold((unsigned char)p[0], nocase), hi = fold((unsigned char)p[2], nocase);
            if (lo > hi) { int t = lo; lo = hi; hi = t; }
            if (c >= lo && c <= hi) matched = 1;
            p += 2;
        } else if (fold((unsigned char)*p, nocase) == c) {
            matched = 1;
        }
        p++;
    }
    *pp = p; /* on the closing ']' */
    return negate ? !matched : matched;
}

int glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase) {
    const char *p = pat, *pend = pat + plen, *s = str, *send = str + slen;
    const char *star_p = NULL, *star_s = NULL;
    while (s < send) {
        if (p < pend && *p == '*') {
            while (p < pend && *p == '*') p++;
            if (p == pend) return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < pend) {
            int c = fold((unsigned char)*s, nocase);
            int ok = 0;
            const char *next = p + 1;
            if (*p == '?') {
                ok = 1;
            } else if (*p == '[') {
                const char *q = p;
                ok = match_class(&q, pend, c, nocase);
                next = q + 1;
            } else if (*p == '\\' && p + 1 < pend) {
                ok = fold((unsigned char)p[1], nocase) == c;
                next = p + 2;
            } else {
                ok = fold((unsigned char)*p, nocase) == c;
            }
            if (ok) { p = next; s++; continue; }
        }
        if (!star_p) return 0;
        p = star_p;
        s = ++star_s;
    }
    while (p < pend && *p == '*') p++;
    return p == pend;
}

int parse_memory_size(const char *s, long long *bytes) {
    const char *u = s;
    if (*u == '-') u++;
    while (isdigit((unsigned char)*u)) u++;
    long long mul;
    if (*u == '\0') mul = 1;
    else if (!strcasecmp(u, "b")) mul = 1;
    else if (!strcasecmp(u, "k")) mul = 1000;
    else if (!strcasecmp(u, "kb")) mul = 1024;
    else if (!strcasecmp(u, "m")) mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb")) mul = 1024 * 1024;
    else if (!strcasecmp(u, "g")) mul = 1000LL * 1000 * 1000;
    else if (!strcasecmp(u, "gb")) mul = 1024LL * 1024 * 1024;
    else return 0;
    long long v;
    if (u == s || !string_to_ll(s, (size_t)(u - s), &v)) return 0;
    if (v != 0 && (v > LLONG_MAX / mul || v < LLONG_MIN / mul)) return 0;
    *bytes = v * mul;
    return 1;
}

void bytes_to_human(char *buf, size_t len, unsigned long long n) {
    double d = (double)n;
    if (n < 1024) snprintf(buf, len, "%lluB", n);
    else if (n < 1024ULL * 1024) snprintf(buf, len, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024) snprintf(buf, len, "%.2fM", d / (1024.0 * 1024));
    else if (n < 1024ULL * 1024 * 1024 * 1024) snprintf(buf, len, "%.2fG", d / (1024.0 * 1024 * 1024));
    else snprintf(buf, len, "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
}

long long ustime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long mstime(void) { return ustime() / 1000; }

long long monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void get_random_bytes(unsigned char *p, size_t len) {
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, p, len);
        close(fd);
        if (n == (ssize_t)len) return;
    }
    unsigned long long seed = (unsigned long long)ustime() ^ (unsigned long long)getpid();
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (unsigned char)(seed >> 56);
    }
}
