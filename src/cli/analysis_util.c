/*
 * analysis_util: the small output and parsing helpers every analysis mode
 * uses (human byte counts in redis-cli's style, JSON strings, memory
 * sizes with redis.conf's units), kept in one place so all modes print
 * figures the same way.
 */
#include "cli/analysis.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void analysis_human_bytes(char *buf, size_t len, double bytes) {
    const char *neg = "";
    if (bytes < 0) {
        neg = "-";
        bytes = -bytes;
    }
    if (bytes < 1024)
        snprintf(buf, len, "%s%lldB", neg, (long long)bytes);
    else if (bytes < 1024.0 * 1024)
        snprintf(buf, len, "%s%.2fK", neg, bytes / 1024);
    else if (bytes < 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%s%.2fM", neg, bytes / (1024.0 * 1024));
    else if (bytes < 1024.0 * 1024 * 1024 * 1024)
        snprintf(buf, len, "%s%.2fG", neg, bytes / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, len, "%s%.2fT", neg, bytes / (1024.0 * 1024 * 1024 * 1024));
}

void analysis_json_string(FILE *out, const char *s, size_t len) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            /* Bytes above 0x7f are written as \u00XX (Latin-1), so that
             * any binary key gives valid JSON. */
            if (ch < 0x20 || ch >= 0x7f)
                fprintf(out, "\\u%04x", ch);
            else
                fputc(ch, out);
        }
    }
    fputc('"', out);
}

long long analysis_parse_memory(const char *s) {
    char *end;
    if (!s || !*s || !isdigit((unsigned char)*s)) return -1;
    double v = strtod(s, &end);
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"k", 1000},
                 {"kb", 1024},
                 {"m", 1000 * 1000},
                 {"mb", 1024 * 1024},
                 {"g", 1000.0 * 1000 * 1000},
                 {"gb", 1024.0 * 1024 * 1024},
                 {"t", 1e12},
                 {"tb", 1024.0 * 1024 * 1024 * 1024}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].unit) == 0) return (long long)(v * units[i].mul);
    return -1;
}
