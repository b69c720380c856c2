/*
 * geohash: see geohash.h for the encoding.
 *
 * Interleaving uses the usual "spread the bits" mask cascade (each step
 * doubles the gap between the bits), which is branch-free and cheaper
 * than a 26-iteration loop on every GEOADD and every decoded candidate.
 *
 * Searches (geo_cover_cells) pick the finest step whose 3x3 block of cells
 * around the centre still contains the whole bounding box of the search
 * shape. Finer steps mean fewer candidate points to measure; the loop
 * simply walks the steps from the finest down, so correctness does not
 * depend on an estimate of the cell size in metres (which is what breaks
 * near the poles and the antimeridian).
 */
#include "lib/geohash.h"

#include <math.h>

#define DEG2RAD(d) ((d) * (M_PI / 180.0))
#define RAD2DEG(r) ((r) * (180.0 / M_PI))

/* Put the 32 bits of v on the even bit positions of the result. */
static uint64_t spread_bits(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* Inverse of spread_bits: gather the even bits. */
static uint32_t gather_bits(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* Latitude on the even bits, longitude on the odd ones (so the top bit of
 * a hash is a longitude bit, as in the geohash description). */
static uint64_t interleave(uint32_t ilat, uint32_t ilon) {
    return spread_bits(ilat) | (spread_bits(ilon) << 1);
}

int geo_coords_valid(double lon, double lat) {
    return lon >= GEO_LON_MIN && lon <= GEO_LON_MAX && lat >= GEO_LAT_MIN && lat <= GEO_LAT_MAX;
}

uint64_t geo_encode_range(double lon, double lat, double lat_min, double lat_max, int step) {
    double scale = (double)(1ULL << step);
    double lat_off = (lat - lat_min) / (lat_max - lat_min) * scale;
    double lon_off = (lon - GEO_LON_MIN) / (GEO_LON_MAX - GEO_LON_MIN) * scale;
    /* The top edge belongs to the last cell, not to a cell past the end. */
    if (lat_off >= scale) lat_off = scale - 1;
    if (lon_off >= scale) lon_off = scale - 1;
    if (lat_off < 0) lat_off = 0;
    if (lon_off < 0) lon_off = 0;
    return interleave((uint32_t)lat_off, (uint32_t)lon_off);
}

uint64_t geo_encode(double lon, double lat) {
    return geo_encode_range(lon, lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP_MAX);
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

void geo_decode(uint64_t bits, double *lon, double *lat) {
    uint32_t ilat = gather_bits(bits), ilon = gather_bits(bits >> 1);
    double cells = (double)(1ULL << GEO_STEP_MAX);
    double lat_scale = GEO_LAT_MAX - GEO_LAT_MIN, lon_scale = GEO_LON_MAX - GEO_LON_MIN;
    double lat_lo = GEO_LAT_MIN + (ilat / cells) * lat_scale;
    double lat_hi = GEO_LAT_MIN + ((ilat + 1.0) / cells) * lat_scale;
    double lon_lo = GEO_LON_MIN + (ilon / cells) * lon_scale;
    double lon_hi = GEO_LON_MIN + ((ilon + 1.0) / cells) * lon_scale;
    *lon = clamp((lon_lo + lon_hi) / 2, GEO_LON_MIN, GEO_LON_MAX);
    *lat = clamp((lat_lo + lat_hi) / 2, GEO_LAT_MIN, GEO_LAT_MAX);
}

void geo_hash_string(uint64_t bits, char *buf) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double lon, lat;
    geo_decode(bits, &lon, &lat);
    /* The textual geohash is defined over the full [-90, 90] latitude. */
    uint64_t h = geo_encode_range(lon, lat, -90.0, 90.0, GEO_STEP_MAX);
    for (int i = 0; i < 11; i++) {
        /* 52 bits fill 10 characters and 2 bits of the 11th; those two
         * bits would be the top of a 5-bit group we don't have, so the
         * last character is written as '0'. */
        int idx = i == 10 ? 0 : (int)((h >> (52 - (i + 1) * 5)) & 0x1f);
        buf[i] = alphabet[idx];
    }
    buf[11] = '\0';
}

geo_cell geo_cell_of(uint64_t bits52, int step) {
    geo_cell c = {bits52 >> (2 * (GEO_STEP_MAX - step)), step};
    return c;
}

void geo_cell_range(geo_cell cell, uint64_t *lo, uint64_t *hi) {
    int shift = 2 * (GEO_STEP_MAX - cell.step);
    *lo = cell.bits << shift;
    *hi = (cell.bits + 1) << shift;
}

static double lat_distance(double lat1, double lat2) {
    return GEO_EARTH_RADIUS_M * fabs(DEG2RAD(lat2) - DEG2RAD(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2) {
    double v = sin((DEG2RAD(lon2) - DEG2RAD(lon1)) / 2);
    /* Same meridian: the haversine reduces to the latitude difference,
     * computed directly (cheaper, and exact rather than via asin). */
    if (v == 0.0) return lat_distance(lat1, lat2);
    double lat1r = DEG2RAD(lat1), lat2r = DEG2RAD(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

int geo_in_box(double clon, double clat, double width_m, double height_m, double lon, double lat,
               double *dist) {
    if (lat_distance(clat, lat) > height_m / 2) return 0;
    if (geo_distance(clon, lat, lon, lat) > width_m / 2) return 0;
    *dist = geo_distance(clon, clat, lon, lat);
    return 1;
}

/* A hair of slack so that floating-point rounding at a cell edge never
 * drops a point the exact test would keep: scanning a little more only
 * costs a few extra distance computations. */
static double widen(double deg) { return deg * (1 + 1e-9) + 1e-9; }

void geo_radius_extent(double lat, double radius_m, double *dlon, double *dlat) {
    double d = radius_m / GEO_EARTH_RADIUS_M; /* angular radius */
    *dlat = widen(RAD2DEG(d));
    if (d >= M_PI / 2 || fabs(lat) + RAD2DEG(d) >= 90.0) {
        *dlon = 180.0; /* the cap reaches a pole: every longitude */
        return;
    }
    double s = sin(d) / cos(DEG2RAD(lat));
    *dlon = s >= 1.0 ? 180.0 : widen(RAD2DEG(asin(s)));
}

void geo_box_extent(double lat, double width_m, double height_m, double *dlon, double *dlat) {
    double hd = RAD2DEG(height_m / 2 / GEO_EARTH_RADIUS_M);
    *dlat = widen(hd);
    double maxlat = fabs(lat) + hd;
    double q = width_m / 4 / GEO_EARTH_RADIUS_M;
    if (maxlat >= 90.0 || q >= M_PI / 2) {
        *dlon = 180.0;
        return;
    }
    /* The width test measures at the point's latitude, so the widest
     * longitude span is at the latitude of the band farthest from the
     * equator. */
    double ratio = sin(q) / cos(DEG2RAD(maxlat));
    *dlon = ratio >= 1.0 ? 180.0 : widen(2 * RAD2DEG(asin(ratio)));
}

/* Does the 3x3 block of step-'step' cells around (lon, lat) contain the
 * box? Fills the cell coordinates when it does. */
static int block_covers(double lon, double lat, double dlon, double dlat, int step, long *ilon,
                        long *ilat) {
    long n = 1L << step;
    double clon = (GEO_LON_MAX - GEO_LON_MIN) / n, clat = (GEO_LAT_MAX - GEO_LAT_MIN) / n;
    long x = (long)((lon - GEO_LON_MIN) / clon), y = (long)((lat - GEO_LAT_MIN) / clat);
    if (x >= n) x = n - 1;
    if (y >= n) y = n - 1;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    *ilon = x;
    *ilat = y;
    if (n > 3) { /* with 3 columns or fewer the block wraps the globe */
        if (dlon >= 180.0) return 0;
        double left = GEO_LON_MIN + (x - 1) * clon, right = GEO_LON_MIN + (x + 2) * clon;
        if (lon - dlon < left || lon + dlon > right) return 0;
    }
    double lo = lat - dlat, hi = lat + dlat;
    double bottom = y > 0 ? GEO_LAT_MIN + (y - 1) * clat : -90.0;
    double top = y < n - 1 ? GEO_LAT_MIN + (y + 2) * clat : 90.0;
    return lo >= bottom && hi <= top;
}

int geo_cover_cells(double lon, double lat, double dlon, double dlat, geo_cell *out) {
    int step;
    long x = 0, y = 0;
    for (step = GEO_STEP_MAX; step > 0; step--)
        if (block_covers(lon, lat, dlon, dlat, step, &x, &y)) break;
    if (step == 0) {
        out[0].bits = 0;
        out[0].step = 0;
        return 1;
    }
    long n = 1L << step;
    int count = 0;
    for (long dy = -1; dy <= 1; dy++) {
        long cy = y + dy;
        if (cy < 0 || cy >= n) continue;
        for (long dx = -1; dx <= 1; dx++) {
            long cx = ((x + dx) % n + n) % n;
            uint64_t bits = interleave((uint32_t)cy, (uint32_t)cx);
            int dup = 0;
            for (int i = 0; i < count; i++) dup |= out[i].bits == bits;
            if (dup) continue;
            out[count].bits = bits;
            out[count].step = step;
            count++;
        }
    }
    return count;
}
