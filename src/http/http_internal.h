/* Private to src/http: INFO's text split into fields, shared by the
 * metrics and the dashboard so both read the very figures INFO prints. */
#ifndef KEEL_HTTP_INTERNAL_H
#define KEEL_HTTP_INTERNAL_H

#include "lib/kstr.h"

#define INFO_MAX_FIELDS 1024

typedef struct info_field { const char *name, *value; } info_field;

typedef struct info_fields {
    kstr text;
    info_field f[INFO_MAX_FIELDS];
    int n;
} info_fields;

/* INFO for one section argument ("everything", "memory", ...); free with
 * info_fields_free. */
info_fields *info_fields_get(const char *section);
void info_fields_free(info_fields *in);
/* A field's value, or NULL. */
const char *info_get(const info_fields *in, const char *name);
/* INFO's ok/err become 1/0, numbers are numbers; NULL gives def. */
double info_number(const info_fields *in, const char *name, double def);
/* The number after `key=` in a "k=v,k=v" value, or -1. */
double info_sub_value(const char *list, const char *key);

#endif
