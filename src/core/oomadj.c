/*
 * oomadj: oom-score-adj and oom-score-adj-values, as Redis 7.0 has them.
 * When enabled, the server writes its class's value (the first of the
 * three: Keel is always a primary; the replica and background-child
 * classes are kept for when those exist) to /proc/self/oom_score_adj,
 * either added to the score the process had when Keel took control
 * ("yes" / "relative") or as is ("absolute"), clamped to -1000..1000.
 * Turning it off restores that original score. Off (the default), the
 * file is never touched.
 *
 * The module is only its parameter table (core/config.h): the apply hooks
 * do the work, so a failed write refuses the CONFIG SET and config puts
 * the old values back.
 */
#include "core/config.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { OOM_NO = 0, OOM_RELATIVE = 1, OOM_ABSOLUTE = 2 };
#define OOM_CLASSES 3 /* primary, replica, background child */
#define OOM_PATH "/proc/self/oom_score_adj"

static int oom_mode;
static int oom_values[OOM_CLASSES];
static int adjusted;  /* Keel has written the file and owns the score */
static int base_score; /* the score before that */

static const enum_value oom_enum[] = {
    {"no", OOM_NO}, {"yes", OOM_RELATIVE}, {"relative", OOM_RELATIVE}, {"absolute", OOM_ABSOLUTE}, {NULL, 0}};

static int read_score(int *out) {
    FILE *f = fopen(OOM_PATH, "r");
    if (!f) return 0;
    int ok = fscanf(f, "%d", out) == 1;
    fclose(f);
    return ok;
}

static int write_score(int v) {
    FILE *f = fopen(OOM_PATH, "w");
    if (!f) return 0;
    int ok = fprintf(f, "%d\n", v) > 0;
    ok = (fclose(f) == 0) && ok;
    return ok;
}

/* Bring /proc in line with the settings (Redis's setOOMScoreAdj). */
static int oom_apply(const char **err) {
    int v;
    if (oom_mode != OOM_NO) {
        if (!adjusted) {
            if (!read_score(&base_score)) base_score = 0;
            adjusted = 1;
        }
        v = oom_values[0] + (oom_mode == OOM_RELATIVE ? base_score : 0);
        if (v > 1000) v = 1000;
        if (v < -1000) v = -1000;
    } else if (adjusted) {
        adjusted = 0;
        v = base_score;
    } else {
        return 1;
    }
    if (write_score(v)) return 1;
    server_log(LOG_WARNING, "Unable to write oom_score_adj: %s", strerror(errno));
    if (oom_mode == OOM_NO) adjusted = 1; /* still ours: the old score stays */
    *err = "Failed to set current oom_score_adj. Check server logs.";
    return 0;
}

static int set_values(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    /* One argument holding all three ("0 200 800" from CONFIG SET). */
    int n = argc;
    kstr *parts = NULL;
    if (argc == 1) {
        parts = kstr_split_args(argv[0], &n);
        argv = parts;
    }
    if (!argv || n != OOM_CLASSES) {
        if (parts) kstr_free_split(parts, n);
        *err = "wrong number of arguments";
        return 0;
    }
    int vals[OOM_CLASSES], ok = 1;
    for (int i = 0; ok && i < OOM_CLASSES; i++) {
        long long v;
        ok = string_to_ll(argv[i], strlen(argv[i]), &v) && v >= -2000 && v <= 2000;
        vals[i] = (int)v;
    }
    if (parts) kstr_free_split(parts, n);
    if (!ok) {
        *err = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
        return 0;
    }
    memcpy(oom_values, vals, sizeof(vals));
    return 1;
}

static kstr get_values(const config_entry *ce) {
    (void)ce;
    return kstr_cat_printf(kstr_empty(), "%d %d %d", oom_values[0], oom_values[1], oom_values[2]);
}

config_entry oomadj_configs[] = {
    CONFIG_ENUM("oom-score-adj", &oom_mode, "no", oom_enum, 0, oom_apply),
    CONFIG_SPECIAL("oom-score-adj-values", NULL, "0 200 800", set_values, get_values, 0, .apply = oom_apply),
    CONFIG_END,
};
