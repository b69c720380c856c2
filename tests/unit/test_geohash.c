/*
 * Unit tests for lib/geohash: encoding and decoding against values taken
 * from Redis 7.0 (GEOADD Palermo/Catania from its documentation), the
 * distance formula, and the coverage property of geo_cover_cells (every
 * point within the searched radius lies in one of the returned cells).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/geohash.h"

Test(geohash, encode_matches_redis_scores)
{
    cr_assert_eq(geo_encode(13.361389, 38.115556), 3479099956230698ULL);
    cr_assert_eq(geo_encode(15.087269, 37.502669), 3479447370796909ULL);
}

Test(geohash, decode_is_cell_centre)
{
    double lon, lat;
    geo_decode(3479099956230698ULL, &lon, &lat);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17f %.17f", lon, lat);
    cr_assert_str_eq(buf, "13.36138933897018433 38.11555639549629859");
    cr_assert_eq(geo_encode(lon, lat), 3479099956230698ULL);
}

Test(geohash, hash_string)
{
    char buf[12];
    geo_hash_string(3479099956230698ULL, buf);
    cr_assert_str_eq(buf, "sqc8b49rny0");
    geo_hash_string(3479447370796909ULL, buf);
    cr_assert_str_eq(buf, "sqdtr74hyu0");
}

Test(geohash, distance)
{
    double a_lon, a_lat, b_lon, b_lat;
    geo_decode(3479099956230698ULL, &a_lon, &a_lat);
    geo_decode(3479447370796909ULL, &b_lon, &b_lat);
    char buf[32];
    snprintf(buf, sizeof buf, "%.4f", geo_distance(a_lon, a_lat, b_lon, b_lat));
    cr_assert_str_eq(buf, "166274.1516");
    cr_assert_float_eq(geo_distance(0, 0, 0, 1), GEO_EARTH_RADIUS_M * M_PI / 180, 1e-6);
    cr_assert_eq(geo_distance(5, 5, 5, 5), 0.0);
}

Test(geohash, validity_and_edges)
{
    cr_assert(geo_coords_valid(180, 85.05112878));
    cr_assert(!geo_coords_valid(180.0001, 0));
    cr_assert(!geo_coords_valid(0, 85.06));
    /* the top edges stay inside 52 bits */
    cr_assert_lt(geo_encode(180, 85.05112878), 1ULL << 52);
}

static int score_in_cells(uint64_t s, const geo_cell *cells, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t lo, hi;
        geo_cell_range(cells[i], &lo, &hi);
        if (s >= lo && s < hi) return 1;
    }
    return 0;
}

Test(geohash, cover_cells_contain_every_point_in_radius)
{
    srand(42);
    for (int t = 0; t < 300; t++) {
        double clon = rand() / (double)RAND_MAX * 360 - 180;
        double clat = rand() / (double)RAND_MAX * 170 - 85;
        double radius = pow(10, rand() / (double)RAND_MAX * 7); /* 1 m .. 10000 km */
        double dlon, dlat;
        geo_radius_extent(clat, radius, &dlon, &dlat);
        geo_cell cells[9];
        int n = geo_cover_cells(clon, clat, dlon, dlat, cells);
        cr_assert(n >= 1 && n <= 9);
        for (int k = 0; k < 200; k++) {
            double plon = clon + (rand() / (double)RAND_MAX * 2 - 1) * dlon;
            double plat = clat + (rand() / (double)RAND_MAX * 2 - 1) * dlat;
            if (plon < -180) plon += 360;
            if (plon > 180) plon -= 360;
            if (!geo_coords_valid(plon, plat)) continue;
            uint64_t s = geo_encode(plon, plat);
            double dlon2, dlat2;
            geo_decode(s, &dlon2, &dlat2);
            if (geo_distance(clon, clat, dlon2, dlat2) > radius) continue;
            cr_assert(score_in_cells(s, cells, n), "t=%d point %f,%f r=%f", t, plon, plat, radius);
        }
    }
}

Test(geohash, box_membership)
{
    double d;
    cr_assert(geo_in_box(0, 0, 200000, 200000, 0.5, 0.5, &d));
    cr_assert(!geo_in_box(0, 0, 200000, 200000, 1.0, 0.0, &d));
    cr_assert(!geo_in_box(0, 0, 200000, 200000, 0.0, 1.0, &d));
}
