/* See http_internal.h. */
#include "http/http_internal.h"
#include "http/http.h"
#include "lib/zmalloc.h"

#include <stdlib.h>
#include <string.h>

/* Splits INFO's text in place into name/value pairs. */
static void split_fields(info_fields *in) {
    in->n = 0;
    char *p = in->text;
    while (p && *p && in->n < INFO_MAX_FIELDS) {
        char *eol = strstr(p, "\r\n");
        if (eol) *eol = '\0';
        char *colon = strchr(p, ':');
        if (*p != '#' && colon) {
            *colon = '\0';
            in->f[in->n++] = (info_field){p, colon + 1};
        }
        p = eol ? eol + 2 : NULL;
    }
}

info_fields *info_fields_get(const char *section) {
    info_fields *in = zmalloc(sizeof(*in));
    in->text = http_info(section);
    split_fields(in);
    return in;
}

void info_fields_free(info_fields *in) {
    kstr_free(in->text);
    zfree(in);
}

const char *info_get(const info_fields *in, const char *name) {
    for (int i = 0; i < in->n; i++)
        if (!strcmp(in->f[i].name, name)) return in->f[i].value;
    return NULL;
}

double info_number(const info_fields *in, const char *name, double def) {
    const char *v = info_get(in, name);
    if (!v) return def;
    if (!strcmp(v, "ok")) return 1;
    if (!strcmp(v, "err")) return 0;
    return strtod(v, NULL);
}

double info_sub_value(const char *list, const char *key) {
    size_t klen = strlen(key);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, key, klen) && p[klen] == '=') return strtod(p + klen + 1, NULL);
    return -1;
}
