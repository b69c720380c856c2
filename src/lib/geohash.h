/*
 * geohash: the 52-bit interleaved geohash Keel stores as the score of a
 * geo member, plus the distance maths of the GEO commands.
 *
 * A position is encoded by quantising longitude over [-180, 180] and
 * latitude over the Web-Mercator band [-85.05112878, 85.05112878] into
 * 26 bits each, then interleaving them with the longitude bit first (the
 * most significant bit of the result is the longitude's top bit). This is
 * the public geohash scheme, and it is the same layout Redis uses, so a
 * score written by one server decodes to the same place in the other.
 * The interleaving makes every geohash cell at a coarser step a
 * contiguous range of scores, which is what lets a radius search become a
 * handful of ZRANGEBYSCORE-like scans.
 *
 * Decoding returns the centre of the 52-bit cell (an error of at most
 * ~0.6 m), which is why GEOPOS does not return exactly what GEOADD got.
 *
 * Distances use the haversine formula on a sphere of radius
 * 6372797.560856 m, as Redis documents; it is off by up to ~0.5% on the
 * real ellipsoid, but matching Redis's figures matters more here.
 */
#ifndef KEEL_GEOHASH_H
#define KEEL_GEOHASH_H

#include <stdint.h>

#define GEO_LON_MIN        -180.0
#define GEO_LON_MAX        180.0
#define GEO_LAT_MIN        -85.05112878
#define GEO_LAT_MAX        85.05112878
#define GEO_STEP_MAX       26 /* bits per coordinate: 52-bit hashes */
#define GEO_EARTH_RADIUS_M 6372797.560856

/* A cell: the hash of its top 2*step bits (right-aligned) and its step. */
typedef struct {
    uint64_t bits;
    int step;
} geo_cell;

/* 1 if lon/lat can be encoded (inside the ranges above). */
int geo_coords_valid(double lon, double lat);
/* 52-bit score of a position (caller checked geo_coords_valid). */
uint64_t geo_encode(double lon, double lat);
/* Same with arbitrary ranges and step (GEOHASH's standard [-90, 90]). */
uint64_t geo_encode_range(double lon, double lat, double lat_min, double lat_max, int step);
/* Centre of the 52-bit cell of a score. */
void geo_decode(uint64_t bits, double *lon, double *lat);
/* The 11-character base32 geohash string of a score (buf: 12 bytes). */
void geo_hash_string(uint64_t bits, char *buf);

/* The cell of step 'step' holding a 52-bit score. */
geo_cell geo_cell_of(uint64_t bits52, int step);
/* Score range [*lo, *hi) covered by a cell. */
void geo_cell_range(geo_cell cell, uint64_t *lo, uint64_t *hi);

/* Great-circle distance in metres (haversine). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Is (lon, lat) inside the box of width_m x height_m centred on
 * (clon, clat)? The height is measured along the meridian, the width as
 * the distance at the point's own latitude. If so, *dist gets the
 * distance to the centre. */
int geo_in_box(double clon, double clat, double width_m, double height_m, double lon, double lat,
               double *dist);

/* The cells to scan so that every point within the bounding box
 * [lon +- dlon] x [lat +- dlat] (degrees) lies in one of them. Writes up
 * to 9 distinct cells to out and returns their count. */
int geo_cover_cells(double lon, double lat, double dlon, double dlat, geo_cell *out);
/* Half-extents in degrees of the bounding box of a circle or a box. */
void geo_radius_extent(double lat, double radius_m, double *dlon, double *dlat);
void geo_box_extent(double lat, double width_m, double height_m, double *dlon, double *dlat);

#endif
