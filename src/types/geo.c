/*
 * geo: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH[STORE], GEORADIUS[_RO],
 * GEORADIUSBYMEMBER[_RO].
 *
 * Points are members of an ordinary sorted set whose score is the 52-bit
 * geohash of the position (lib/geohash.h), exactly like Redis, so ZRANGE,
 * ZREM and persistence need nothing special and the scores are
 * interchangeable with Redis's.
 *
 * A search never walks the whole set: geohash cells are contiguous score
 * ranges, so it asks geo_cover_cells for the (at most 9) cells that
 * contain the shape's bounding box, scans those ranges through
 * zset_range_by_score, and keeps the candidates whose decoded position
 * passes the exact test (haversine distance, or the box test). The price
 * of the cell approximation is only extra candidates, never missed ones.
 *
 * Every GEORADIUS-family command is parsed into one search description
 * (geo_query) and run by the same code, which keeps their many option
 * combinations and error texts consistent with each other.
 */
#include "core/cmdutil.h"
#include "core/command.h"
#include "lib/geohash.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "types/zset.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Coordinates as Redis prints them: "%.17Lf" without trailing zeros, a
 * RESP3 double or a RESP2 bulk string. */
static void reply_coord(client *c, double v) {
    char buf[128];
    int n = long_double_to_string(buf, sizeof(buf), (long double)v);
    if (c->resp >= 3) {
        reply_raw(c, ",", 1);
        reply_raw(c, buf, (size_t)n);
        reply_raw(c, "\r\n", 2);
    } else {
        reply_bulk(c, buf, (size_t)n);
    }
}

/* Distances: always 4 decimals, always a bulk string (as Redis). */
static void reply_distance(client *c, double d) {
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    reply_bulk(c, buf, (size_t)n);
}

static int parse_unit(client *c, const kstr u, double *to_m) {
    if (arg_is(u, "m"))
        *to_m = 1;
    else if (arg_is(u, "km"))
        *to_m = 1000;
    else if (arg_is(u, "ft"))
        *to_m = 0.3048;
    else if (arg_is(u, "mi"))
        *to_m = 1609.34;
    else {
        reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
        return 0;
    }
    return 1;
}

static int parse_lonlat(client *c, kstr *argv, double *lon, double *lat) {
    if (!parse_double(c, argv[0], lon) || !parse_double(c, argv[1], lat)) return 0;
    if (!geo_coords_valid(*lon, *lat)) {
        reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return 0;
    }
    return 1;
}

/* Position of a stored member; 0 if absent or its score is no geohash. */
static int member_position(const entry *e, const kstr m, double *lon, double *lat) {
    double score;
    if (!e || !zset_score(e, m, kstr_len(m), &score)) return 0;
    if (!(score >= 0 && score < (double)(1ULL << 52))) return 0;
    geo_decode((uint64_t)score, lon, lat);
    return 1;
}

static entry *geo_lookup(client *c, const kstr key, int *wrong) {
    return lookup_read_typed(c, key, TYPE_ZSET, wrong);
}

/* ---- GEOADD ---- */

static void geoadd_command(client *c) {
    int flags = 0, ch = 0, j = 2;
    for (; j < c->argc; j++) {
        if (arg_is(c->argv[j], "nx"))
            flags |= ZADD_IN_NX;
        else if (arg_is(c->argv[j], "xx"))
            flags |= ZADD_IN_XX;
        else if (arg_is(c->argv[j], "ch"))
            ch = 1;
        else
            break;
    }
    int triples = c->argc - j;
    if (triples == 0 || triples % 3 || ((flags & ZADD_IN_NX) && (flags & ZADD_IN_XX))) {
        reply_error_syntax(c);
        return;
    }
    triples /= 3;
    double *scores = zmalloc(sizeof(double) * (size_t)triples);
    for (int i = 0; i < triples; i++) {
        double lon, lat;
        if (!parse_lonlat(c, &c->argv[j + 3 * i], &lon, &lat)) goto done;
        scores[i] = (double)geo_encode(lon, lat);
    }
    int wrong;
    kstr key = c->argv[1];
    entry *e = lookup_write_typed(c, key, TYPE_ZSET, &wrong);
    if (wrong) goto done;
    if (!e) {
        if (flags & ZADD_IN_XX) {
            reply_ll(c, 0);
            goto done;
        }
        e = zset_new_entry(key, kstr_len(key), kstr_len(c->argv[j + 2]));
        db_add(c->db, e);
    }
    long added = 0, updated = 0;
    for (int i = 0; i < triples; i++) {
        kstr m = c->argv[j + 3 * i + 2];
        int r = zset_add(e, scores[i], m, kstr_len(m), flags, NULL);
        added += r == ZADD_OUT_ADDED;
        updated += r == ZADD_OUT_UPDATED;
    }
    if (added || updated) signal_modified_key(c, c->db, key);
    if (added || updated) notify_keyspace_event(NOTIFY_ZSET, "zadd", key, db_id(c->db));
    reply_ll(c, ch ? added + updated : added);
done:
    zfree(scores);
}

/* ---- GEOPOS, GEODIST, GEOHASH ---- */

static void geopos_command(client *c) {
    int wrong;
    entry *e = geo_lookup(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double lon, lat;
        if (!member_position(e, c->argv[j], &lon, &lat)) {
            reply_null_array(c);
            continue;
        }
        reply_array_len(c, 2);
        reply_coord(c, lon);
        reply_coord(c, lat);
    }
}

static void geodist_command(client *c) {
    double to_m = 1;
    if (c->argc == 5) {
        if (!parse_unit(c, c->argv[4], &to_m)) return;
    } else if (c->argc > 5) {
        reply_error_syntax(c);
        return;
    }
    int wrong;
    entry *e = geo_lookup(c, c->argv[1], &wrong);
    if (wrong) return;
    double lon1, lat1, lon2, lat2;
    if (!member_position(e, c->argv[2], &lon1, &lat1) ||
        !member_position(e, c->argv[3], &lon2, &lat2)) {
        reply_null(c);
        return;
    }
    reply_distance(c, geo_distance(lon1, lat1, lon2, lat2) / to_m);
}

static void geohash_command(client *c) {
    int wrong;
    entry *e = geo_lookup(c, c->argv[1], &wrong);
    if (wrong) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (!e || !zset_score(e, c->argv[j], kstr_len(c->argv[j]), &score) ||
            !(score >= 0 && score < (double)(1ULL << 52))) {
            reply_null(c);
            continue;
        }
        char buf[12];
        geo_hash_string((uint64_t)score, buf);
        reply_bulk(c, buf, 11);
    }
}

/* ---- searches ---- */

enum { SORT_NONE, SORT_ASC, SORT_DESC };

typedef struct geo_query {
    int is_box, has_from, has_shape;
    double lon, lat;          /* centre */
    double radius_m;          /* circle */
    double width_m, height_m; /* box */
    double to_m;              /* unit of the reply distances */
    int withdist, withhash, withcoord, any, sort;
    long long count; /* 0 = all */
    kstr store;      /* STORE / STOREDIST / GEOSEARCHSTORE key */
    int storedist;
} geo_query;

typedef struct geo_point {
    double dist, score, lon, lat;
    const char *m; /* offset into the arena until the search ends */
    size_t len;
} geo_point;

typedef struct geo_results {
    const geo_query *q;
    geo_point *pts;
    size_t n, cap;
    kstr arena;
} geo_results;

static int collect_point(void *priv, const char *m, size_t len, double score) {
    geo_results *r = priv;
    const geo_query *q = r->q;
    geo_point p;
    geo_decode((uint64_t)score, &p.lon, &p.lat);
    if (q->is_box) {
        if (!geo_in_box(q->lon, q->lat, q->width_m, q->height_m, p.lon, p.lat, &p.dist)) return 1;
    } else {
        p.dist = geo_distance(q->lon, q->lat, p.lon, p.lat);
        if (p.dist > q->radius_m) return 1;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->pts = zrealloc(r->pts, r->cap * sizeof(*r->pts));
    }
    p.score = score;
    p.m = (const char *)(uintptr_t)kstr_len(r->arena);
    p.len = len;
    r->arena = kstr_cat_len(r->arena, m, len);
    r->pts[r->n++] = p;
    /* ANY: the first COUNT matches will do, no need to find the closest. */
    return !(q->any && (long long)r->n >= q->count);
}

static void run_search(const entry *e, geo_results *r) {
    const geo_query *q = r->q;
    double dlon, dlat;
    if (q->is_box)
        geo_box_extent(q->lat, q->width_m, q->height_m, &dlon, &dlat);
    else
        geo_radius_extent(q->lat, q->radius_m, &dlon, &dlat);
    geo_cell cells[9];
    int n = geo_cover_cells(q->lon, q->lat, dlon, dlat, cells);
    for (int i = 0; i < n; i++) {
        if (q->any && (long long)r->n >= q->count) break;
        uint64_t lo, hi;
        geo_cell_range(cells[i], &lo, &hi);
        sl_range range = {(double)lo, (double)hi, 0, 1};
        zset_range_by_score(e, &range, collect_point, r);
    }
    for (size_t i = 0; i < r->n; i++) r->pts[i].m = r->arena + (uintptr_t)r->pts[i].m;
}

static int by_dist_asc(const void *a, const void *b) {
    double x = ((const geo_point *)a)->dist, y = ((const geo_point *)b)->dist;
    return x < y ? -1 : (x > y ? 1 : 0);
}

static int by_dist_desc(const void *a, const void *b) { return by_dist_asc(b, a); }

static void reply_point(client *c, const geo_query *q, const geo_point *p) {
    int extra = q->withdist + q->withhash + q->withcoord;
    if (!extra) {
        reply_bulk(c, p->m, p->len);
        return;
    }
    reply_array_len(c, extra + 1);
    reply_bulk(c, p->m, p->len);
    if (q->withdist) reply_distance(c, p->dist / q->to_m);
    if (q->withhash) reply_ll(c, (long long)p->score);
    if (q->withcoord) {
        reply_array_len(c, 2);
        reply_coord(c, p->lon);
        reply_coord(c, p->lat);
    }
}

static void store_points(client *c, const geo_query *q, geo_point *pts, size_t n) {
    zset_item *items = zmalloc(sizeof(*items) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        items[i].score = q->storedist ? pts[i].dist / q->to_m : pts[i].score;
        items[i].m = pts[i].m;
        items[i].len = pts[i].len;
    }
    /* Members are distinct (one zset); only the order must be fixed. */
    zset_sort_items(items, n);
    zset_store_result(c, q->store, items, n);
    zfree(items);
}

static void search_and_reply(client *c, const entry *e, geo_query *q) {
    geo_results r = {q, NULL, 0, 0, kstr_empty()};
    run_search(e, &r);
    /* COUNT without an order still means "the closest N". */
    if (q->count && q->sort == SORT_NONE && !q->any) q->sort = SORT_ASC;
    if (q->sort == SORT_ASC) qsort(r.pts, r.n, sizeof(*r.pts), by_dist_asc);
    if (q->sort == SORT_DESC) qsort(r.pts, r.n, sizeof(*r.pts), by_dist_desc);
    size_t n = r.n;
    if (q->count && (long long)n > q->count) n = (size_t)q->count;
    if (q->store) {
        store_points(c, q, r.pts, n);
    } else {
        reply_array_len(c, (long)n);
        for (size_t i = 0; i < n; i++) reply_point(c, q, &r.pts[i]);
    }
    zfree(r.pts);
    kstr_free(r.arena);
}

/* "<value> <unit>" at argv[0..1]; *v in metres. */
static int parse_distance(client *c, kstr *argv, const char *what, double *v, double *to_m) {
    double d;
    if (!string_to_double(argv[0], kstr_len(argv[0]), &d)) {
        reply_errorf(c, "ERR need numeric %s", what);
        return 0;
    }
    if (d < 0) {
        reply_error(c, "ERR radius cannot be negative");
        return 0;
    }
    if (!parse_unit(c, argv[1], to_m)) return 0;
    *v = d * *to_m;
    return 1;
}

static int parse_box(client *c, kstr *argv, geo_query *q) {
    double w, h;
    if (!string_to_double(argv[0], kstr_len(argv[0]), &w)) {
        reply_error(c, "ERR need numeric width");
        return 0;
    }
    if (!string_to_double(argv[1], kstr_len(argv[1]), &h)) {
        reply_error(c, "ERR need numeric height");
        return 0;
    }
    if (w < 0 || h < 0) {
        reply_error(c, "ERR height or width cannot be negative");
        return 0;
    }
    if (!parse_unit(c, argv[2], &q->to_m)) return 0;
    q->width_m = w * q->to_m;
    q->height_m = h * q->to_m;
    return 1;
}

/* Command shapes. */
#define GEO_RADIUS_COORDS 1  /* GEORADIUS key lon lat radius unit */
#define GEO_RADIUS_MEMBER 2  /* GEORADIUSBYMEMBER key member radius unit */
#define GEO_SEARCH        4  /* GEOSEARCH key ... */
#define GEO_SEARCHSTORE   8  /* GEOSEARCHSTORE dst key ... */
#define GEO_NOSTORE       16 /* the _RO variants */

static int parse_option(client *c, int flags, const entry *e, geo_query *q, int *i,
                        int *missing_from) {
    kstr a = c->argv[*i];
    int left = c->argc - *i - 1;
    int search = flags & (GEO_SEARCH | GEO_SEARCHSTORE);
    int legacy_store = !(flags & GEO_NOSTORE) && !search;
    if (arg_is(a, "withdist"))
        q->withdist = 1;
    else if (arg_is(a, "withhash"))
        q->withhash = 1;
    else if (arg_is(a, "withcoord"))
        q->withcoord = 1;
    else if (arg_is(a, "any"))
        q->any = 1;
    else if (arg_is(a, "asc"))
        q->sort = SORT_ASC;
    else if (arg_is(a, "desc"))
        q->sort = SORT_DESC;
    else if (arg_is(a, "count") && left >= 1) {
        if (!parse_ll(c, c->argv[*i + 1], &q->count)) return 0;
        if (q->count <= 0) {
            reply_error(c, "ERR COUNT must be > 0");
            return 0;
        }
        (*i)++;
    } else if (legacy_store && left >= 1 && (arg_is(a, "store") || arg_is(a, "storedist"))) {
        q->store = c->argv[*i + 1];
        q->storedist = arg_is(a, "storedist");
        (*i)++;
    } else if ((flags & GEO_SEARCHSTORE) && arg_is(a, "storedist")) {
        q->storedist = 1;
    } else if (search && arg_is(a, "frommember") && left >= 1 && q->has_from != 2) {
        if (e && !member_position(e, c->argv[*i + 1], &q->lon, &q->lat)) {
            reply_error(c, "ERR could not decode requested zset member");
            return 0;
        }
        if (!e) *missing_from = 1;
        q->has_from = 1;
        (*i)++;
    } else if (search && arg_is(a, "fromlonlat") && left >= 2 && q->has_from != 1) {
        if (!parse_lonlat(c, &c->argv[*i + 1], &q->lon, &q->lat)) return 0;
        q->has_from = 2;
        *i += 2;
    } else if (search && arg_is(a, "byradius") && left >= 2 && q->has_shape != 2) {
        if (!parse_distance(c, &c->argv[*i + 1], "radius", &q->radius_m, &q->to_m)) return 0;
        q->is_box = 0;
        q->has_shape = 1;
        *i += 2;
    } else if (search && arg_is(a, "bybox") && left >= 3 && q->has_shape != 1) {
        if (!parse_box(c, &c->argv[*i + 1], q)) return 0;
        q->is_box = 1;
        q->has_shape = 2;
        *i += 3;
    } else {
        reply_error_syntax(c);
        return 0;
    }
    return 1;
}

static void georadius_generic(client *c, int src_index, int flags) {
    int wrong;
    entry *e = geo_lookup(c, c->argv[src_index], &wrong);
    if (wrong) return;
    geo_query q;
    memset(&q, 0, sizeof(q));
    q.to_m = 1;
    int base, missing_from = 0;
    if (flags & GEO_RADIUS_COORDS) {
        base = 6;
        if (!parse_lonlat(c, &c->argv[2], &q.lon, &q.lat)) return;
        if (!parse_distance(c, &c->argv[4], "radius", &q.radius_m, &q.to_m)) return;
    } else if (flags & GEO_RADIUS_MEMBER) {
        base = 5;
        if (e) {
            if (!member_position(e, c->argv[2], &q.lon, &q.lat)) {
                reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            if (!parse_distance(c, &c->argv[3], "radius", &q.radius_m, &q.to_m)) return;
        }
    } else {
        base = src_index + 1;
        if (flags & GEO_SEARCHSTORE) q.store = c->argv[1];
    }
    for (int i = base; i < c->argc; i++)
        if (!parse_option(c, flags, e, &q, &i, &missing_from)) return;
    (void)missing_from;
    if (q.store && (q.withdist || q.withhash || q.withcoord)) {
        reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & GEO_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & (GEO_SEARCH | GEO_SEARCHSTORE)) && !q.has_from) {
        reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s",
                     c->argv[0]);
        return;
    }
    if ((flags & (GEO_SEARCH | GEO_SEARCHSTORE)) && !q.has_shape) {
        reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %s",
                     c->argv[0]);
        return;
    }
    if (q.any && !q.count) {
        reply_error(c, "ERR the ANY argument requires COUNT argument");
        return;
    }
    if (!e) {
        if (q.store) {
            if (db_delete(c->db, q.store, kstr_len(q.store))) {
                signal_modified_key(c, c->db, q.store);
                notify_keyspace_event(NOTIFY_GENERIC, "del", q.store, db_id(c->db));
            }
            reply_ll(c, 0);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    search_and_reply(c, e, &q);
}

static void georadius_command(client *c) { georadius_generic(c, 1, GEO_RADIUS_COORDS); }
static void georadius_ro_command(client *c) {
    georadius_generic(c, 1, GEO_RADIUS_COORDS | GEO_NOSTORE);
}
static void georadiusbymember_command(client *c) { georadius_generic(c, 1, GEO_RADIUS_MEMBER); }
static void georadiusbymember_ro_command(client *c) {
    georadius_generic(c, 1, GEO_RADIUS_MEMBER | GEO_NOSTORE);
}
static void geosearch_command(client *c) { georadius_generic(c, 1, GEO_SEARCH); }
static void geosearchstore_command(client *c) {
    georadius_generic(c, 2, GEO_SEARCH | GEO_SEARCHSTORE);
}

command geo_commands[] = {
    {"geoadd", geoadd_command, -5, "write denyoom", 1, 1, 1, "geo", "3.2.0",
     "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
     NULL},
    {"geopos", geopos_command, -2, "readonly", 1, 1, 1, "geo", "3.2.0",
     "Returns the longitude and latitude of members from a geospatial index.", NULL},
    {"geodist", geodist_command, -4, "readonly", 1, 1, 1, "geo", "3.2.0",
     "Returns the distance between two members of a geospatial index.", NULL},
    {"geohash", geohash_command, -2, "readonly", 1, 1, 1, "geo", "3.2.0",
     "Returns members from a geospatial index as geohash strings.", NULL},
    {"georadius", georadius_command, -6, "write denyoom movablekeys", 1, 1, 1, "geo", "3.2.0",
     "Queries a geospatial index for members within a distance from a coordinate, optionally "
     "stores the result.",
     NULL},
    {"georadius_ro", georadius_ro_command, -6, "readonly", 1, 1, 1, "geo", "3.2.10",
     "Returns members from a geospatial index that are within a distance from a coordinate.", NULL},
    {"georadiusbymember", georadiusbymember_command, -5, "write denyoom movablekeys", 1, 1, 1,
     "geo", "3.2.0",
     "Queries a geospatial index for members within a distance from a member, optionally stores "
     "the result.",
     NULL},
    {"georadiusbymember_ro", georadiusbymember_ro_command, -5, "readonly", 1, 1, 1, "geo", "3.2.10",
     "Returns members from a geospatial index that are within a distance from a member.", NULL},
    {"geosearch", geosearch_command, -7, "readonly", 1, 1, 1, "geo", "6.2.0",
     "Queries a geospatial index for members inside an area of a box or a circle.", NULL},
    {"geosearchstore", geosearchstore_command, -8, "write denyoom", 1, 2, 1, "geo", "6.2.0",
     "Queries a geospatial index for members inside an area of a box or a circle, optionally "
     "stores the result.",
     NULL},
    {0}};
