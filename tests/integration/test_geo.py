"""GEO commands, checked against Redis 7.0 (the expected values come from
Redis's documentation examples and from redis-server 7.0 itself)."""

import math
import random

import pytest

from keel_helpers import SYNTAX, WRONGTYPE, cmd, err


UNIT = "unsupported unit provided. please use M, KM, FT, MI"

PALERMO = [b"13.36138933897018433", b"38.11555639549629859"]
CATANIA = [b"15.08726745843887329", b"37.50266842333162032"]


@pytest.fixture
def sicily(r):
    assert cmd(r, "GEOADD", "Sicily", "13.361389", "38.115556", "Palermo",
               "15.087269", "37.502669", "Catania") == 2
    return r


def test_geoadd_scores_are_redis_geohashes(sicily):
    r = sicily
    assert cmd(r, "ZSCORE", "Sicily", "Palermo") == b"3479099956230698"
    assert cmd(r, "ZSCORE", "Sicily", "Catania") == b"3479447370796909"
    assert cmd(r, "TYPE", "Sicily") == b"zset"


def test_geoadd_options(sicily):
    r = sicily
    assert cmd(r, "GEOADD", "Sicily", "NX", "13", "38", "Palermo", "14", "37", "X") == 1
    assert cmd(r, "GEOPOS", "Sicily", "Palermo") == [PALERMO]
    assert cmd(r, "GEOADD", "Sicily", "XX", "13", "38", "Palermo", "14", "37", "Y") == 0
    assert cmd(r, "ZSCORE", "Sicily", "Y") is None
    assert cmd(r, "GEOADD", "Sicily", "XX", "CH", "13.5", "38", "Palermo") == 1
    assert cmd(r, "GEOADD", "Sicily", "CH", "13.5", "38", "Palermo", "1", "1", "Z") == 1
    assert cmd(r, "GEOADD", "nokey", "XX", "1", "1", "a") == 0
    assert cmd(r, "EXISTS", "nokey") == 0


def test_geoadd_errors(r):
    assert err(r, "GEOADD", "g", "200", "100", "x") == \
        "invalid longitude,latitude pair 200.000000,100.000000"
    assert err(r, "GEOADD", "g", "0", "85.06", "x") == \
        "invalid longitude,latitude pair 0.000000,85.060000"
    assert err(r, "GEOADD", "g", "1", "x", "a") == "value is not a valid float"
    assert err(r, "GEOADD", "g", "1", "2", "a", "3") == SYNTAX
    assert err(r, "GEOADD", "g", "NX", "XX", "1", "2", "a") == SYNTAX
    assert err(r, "GEOADD", "g", "NX", "1", "2") == SYNTAX
    assert "wrong number of arguments" in err(r, "GEOADD", "g", "1", "2")
    assert cmd(r, "EXISTS", "g") == 0
    cmd(r, "SET", "s", "x")
    assert err(r, "GEOADD", "s", "1", "2", "a") == WRONGTYPE


def test_geodist(sicily):
    r = sicily
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Catania") == b"166274.1516"
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Catania", "km") == b"166.2742"
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Catania", "MI") == b"103.3182"
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Catania", "ft") == b"545518.8700"
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Palermo") == b"0.0000"
    assert cmd(r, "GEODIST", "Sicily", "Palermo", "Nope") is None
    assert cmd(r, "GEODIST", "nokey", "a", "b") is None
    assert err(r, "GEODIST", "Sicily", "Palermo", "Catania", "yd") == UNIT
    assert err(r, "GEODIST", "Sicily", "Palermo", "Catania", "km", "x") == SYNTAX


def test_geopos_geohash(sicily):
    r = sicily
    assert cmd(r, "GEOPOS", "Sicily", "Palermo", "Catania", "Nope") == [PALERMO, CATANIA, None]
    assert cmd(r, "GEOPOS", "nokey", "a") == [None]
    assert cmd(r, "GEOHASH", "Sicily", "Palermo", "Catania", "Nope") == [
        b"sqc8b49rny0", b"sqdtr74hyu0", None]
    assert cmd(r, "GEOHASH", "nokey", "a") == [None]
    cmd(r, "GEOADD", "Sicily", "-180", "-85.05112878", "corner", "180", "85.05112878", "far")
    assert cmd(r, "GEOPOS", "Sicily", "corner") == [
        [b"-179.99999731779098511", b"-85.05112751263942528"]]


def test_georadius_examples(sicily):
    r = sicily
    assert sorted(cmd(r, "GEORADIUS", "Sicily", "15", "37", "200", "km")) == [b"Catania", b"Palermo"]
    assert cmd(r, "GEORADIUS", "Sicily", "15", "37", "100", "km") == [b"Catania"]
    assert cmd(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC") == [
        [b"Catania", b"56.4413"], [b"Palermo", b"190.4424"]]
    assert cmd(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD", "DESC") == [
        [b"Palermo", PALERMO], [b"Catania", CATANIA]]
    assert cmd(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD",
               "WITHHASH", "COUNT", "1") == [[b"Catania", b"56.4413", 3479447370796909, CATANIA]]
    assert cmd(r, "GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "ASC") == [
        b"Catania", b"Palermo"]
    cmd(r, "GEOADD", "Sicily", "13.583333", "37.316667", "Agrigento")
    assert cmd(r, "GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km", "ASC") == [
        b"Agrigento", b"Palermo"]
    assert cmd(r, "GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "WITHDIST",
               "ASC") == [[b"Agrigento", b"0.0000"], [b"Palermo", b"90.9778"]]
    assert cmd(r, "GEORADIUS", "nokey", "15", "37", "200", "km") == []


def test_geosearch_examples(sicily):
    r = sicily
    cmd(r, "GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
    assert cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
               "ASC") == [b"Catania", b"Palermo"]
    assert cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
               "ASC", "WITHCOORD", "WITHDIST") == [
        [b"Catania", b"56.4413", CATANIA],
        [b"Palermo", b"190.4424", PALERMO],
        [b"edge2", b"279.7403", [b"17.24151045083999634", b"38.78813451624225195"]],
        [b"edge1", b"279.7405", [b"12.7584877610206604", b"38.78813451624225195"]]]
    assert cmd(r, "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "170", "km",
               "DESC", "WITHDIST") == [[b"Catania", b"166.2742"], [b"edge1", b"91.4007"],
                                       [b"Palermo", b"0.0000"]]
    got = cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
              "COUNT", "2", "ANY")
    assert len(got) == 2
    assert cmd(r, "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
               "COUNT", "2", "DESC") == [b"edge1", b"edge2"]
    assert cmd(r, "GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km") == []


def test_geosearchstore(sicily):
    r = sicily
    cmd(r, "GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
    assert cmd(r, "GEOSEARCHSTORE", "key1", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400",
               "400", "km", "ASC", "COUNT", "3") == 3
    assert cmd(r, "GEOSEARCH", "key1", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
               "ASC", "WITHCOORD", "WITHDIST", "WITHHASH") == [
        [b"Catania", b"56.4413", 3479447370796909, CATANIA],
        [b"Palermo", b"190.4424", 3479099956230698, PALERMO],
        [b"edge2", b"279.7403", 3481342659049484,
         [b"17.24151045083999634", b"38.78813451624225195"]]]
    assert cmd(r, "GEOSEARCHSTORE", "key2", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400",
               "400", "km", "ASC", "COUNT", "3", "STOREDIST") == 3
    assert cmd(r, "ZRANGE", "key2", "0", "-1", "WITHSCORES") == [
        b"Catania", b"56.441257870158204", b"Palermo", b"190.44242984775784",
        b"edge2", b"279.7403417843143"]
    assert cmd(r, "OBJECT", "ENCODING", "key2") == b"listpack"
    # STORE / STOREDIST of the legacy commands
    assert cmd(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "key3") == 2
    assert cmd(r, "ZRANGE", "key3", "0", "-1", "WITHSCORES") == [
        b"Palermo", b"3479099956230698", b"Catania", b"3479447370796909"]
    assert cmd(r, "GEORADIUSBYMEMBER", "Sicily", "Palermo", "10", "km", "STOREDIST", "key4") == 1
    assert cmd(r, "ZRANGE", "key4", "0", "-1", "WITHSCORES") == [b"Palermo", b"0"]
    # empty results delete the destination
    assert cmd(r, "GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "key3") == 0
    assert cmd(r, "EXISTS", "key3") == 0
    cmd(r, "SET", "key4", "x")
    assert cmd(r, "GEOSEARCHSTORE", "key4", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1",
               "m") == 0
    assert cmd(r, "EXISTS", "key4") == 0


def test_search_errors(sicily):
    r = sicily
    S = ["GEOSEARCH", "Sicily"]
    assert err(r, *S, "FROMMEMBER", "x", "BYRADIUS", "10", "km") == \
        "could not decode requested zset member"
    assert err(r, *S, "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1",
                 "km") == SYNTAX
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
                 "km") == SYNTAX
    assert err(r, *S, "COUNT", "1", "BYRADIUS", "1", "km", "ASC") == \
        "exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"
    assert err(r, *S, "FROMMEMBER", "Palermo", "COUNT", "1", "ASC") == \
        "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "-1", "km") == \
        "radius cannot be negative"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "x", "km") == "need numeric radius"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km") == "need numeric width"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "km") == "need numeric height"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km") == \
        "height or width cannot be negative"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "yd") == UNIT
    assert err(r, *S, "FROMLONLAT", "200", "100", "BYRADIUS", "1", "km") == \
        "invalid longitude,latitude pair 200.000000,100.000000"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "COUNT", "0") == \
        "COUNT must be > 0"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "COUNT", "x") == \
        "value is not an integer or out of range"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "ANY") == \
        "the ANY argument requires COUNT argument"
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x") == SYNTAX
    assert err(r, *S, "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STOREDIST") == SYNTAX
    assert err(r, "GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1",
                 "km", "WITHDIST") == \
        "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    assert err(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "x") == \
        "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    assert err(r, "GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x") == SYNTAX
    assert err(r, "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE") == SYNTAX
    assert err(r, "GEORADIUS", "Sicily", "15", "37", "x", "km") == "need numeric radius"
    assert err(r, "GEORADIUS", "Sicily", "200", "100", "1", "km") == \
        "invalid longitude,latitude pair 200.000000,100.000000"
    assert err(r, "GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km") == \
        "could not decode requested zset member"
    assert cmd(r, "GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "STORE", "d") == 0
    cmd(r, "SET", "s", "x")
    for args in (["GEOPOS", "s", "a"], ["GEODIST", "s", "a", "b"], ["GEOHASH", "s", "a"],
                 ["GEOSEARCH", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
                 ["GEORADIUS", "s", "0", "0", "1", "km"]):
        assert err(r, *args) == WRONGTYPE


def test_resp3_geo_shapes(raw):
    c = raw()
    c.cmd("HELLO", "3")
    c.cmd("GEOADD", "g3", "13.361389", "38.115556", "Palermo")
    c.send(b"*4\r\n$6\r\nGEOPOS\r\n$2\r\ng3\r\n$7\r\nPalermo\r\n$4\r\nnope\r\n")
    expected = b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    assert c.read_bytes(len(expected)) == expected
    assert c.cmd("GEODIST", "g3", "Palermo", "Palermo") == b"0.0000"
    assert c.cmd("GEOSEARCH", "g3", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km",
                 "WITHDIST", "WITHCOORD") == [
        [b"Palermo", b"34.1601", [13.36138933897018433, 38.11555639549629859]]]
    c.cmd("DEL", "g3")


# --------------------------------------------------------------------------
# Search correctness on random data, against a brute-force haversine
# --------------------------------------------------------------------------

R_EARTH = 6372797.560856


def haversine(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(math.radians, (lon1, lat1, lon2, lat2))
    u = math.sin((lat2 - lat1) / 2)
    v = math.sin((lon2 - lon1) / 2)
    return 2 * R_EARTH * math.asin(math.sqrt(u * u + math.cos(lat1) * math.cos(lat2) * v * v))


@pytest.mark.parametrize("center", [(2.35, 48.85), (179.9, 0.0), (-70.0, 80.0), (0.0, -84.9)])
def test_radius_and_box_match_brute_force(r, center):
    rnd = random.Random(hash(center))
    clon, clat = center
    args = []
    for i in range(2000):
        lon = clon + rnd.uniform(-8, 8)
        lon = (lon + 180) % 360 - 180
        lat = max(-85, min(85, clat + rnd.uniform(-4, 4)))
        args += [repr(lon), repr(lat), "p%d" % i]
    cmd(r, "GEOADD", "pts", *args)
    names = ["p%d" % i for i in range(2000)]
    pos = dict(zip(names, cmd(r, "GEOPOS", "pts", *names)))
    for radius_km in (1, 50, 200, 400):
        got = set(cmd(r, "GEOSEARCH", "pts", "FROMLONLAT", repr(clon), repr(clat), "BYRADIUS",
                      str(radius_km), "km"))
        # members well inside / well outside must agree; ignore a 1 m band
        for n, (plon, plat) in pos.items():
            d = haversine(clon, clat, float(plon), float(plat))
            if d < radius_km * 1000 - 1:
                assert n.encode() in got, (n, d)
            elif d > radius_km * 1000 + 1:
                assert n.encode() not in got, (n, d)
    for w_km, h_km in ((100, 50), (600, 300)):
        got = set(cmd(r, "GEOSEARCH", "pts", "FROMLONLAT", repr(clon), repr(clat), "BYBOX",
                      str(w_km), str(h_km), "km"))
        for n, (plon, plat) in pos.items():
            plon, plat = float(plon), float(plat)
            dlat = R_EARTH * abs(math.radians(plat) - math.radians(clat))
            dlon = haversine(clon, plat, plon, plat)
            inside = dlat < h_km * 500 - 1 and dlon < w_km * 500 - 1
            outside = dlat > h_km * 500 + 1 or dlon > w_km * 500 + 1
            if inside:
                assert n.encode() in got, (n, dlat, dlon)
            elif outside:
                assert n.encode() not in got, (n, dlat, dlon)


def test_large_set_and_count(r):
    args = []
    for i in range(3000):
        args += [repr(-1 + (i % 60) * 0.03), repr(50 + (i // 60) * 0.02), "m%d" % i]
    cmd(r, "GEOADD", "big", *args)
    assert cmd(r, "OBJECT", "ENCODING", "big") == b"skiplist"
    res = cmd(r, "GEOSEARCH", "big", "FROMMEMBER", "m0", "BYRADIUS", "5", "km", "ASC",
              "COUNT", "4", "WITHDIST")
    assert res[0] == [b"m0", b"0.0000"]
    dists = [float(d) for _, d in res]
    assert dists == sorted(dists) and len(res) == 4
    everything = cmd(r, "GEOSEARCH", "big", "FROMLONLAT", "0", "50", "BYRADIUS", "5000", "km")
    assert len(everything) == 3000
