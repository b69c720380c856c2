/*
 * cmsgpack: MessagePack for scripts, with the Lua-visible API of the
 * cmsgpack library Redis embeds: cmsgpack.pack(v1, v2, ...) returns the
 * concatenated encodings; cmsgpack.unpack(s) returns every value;
 * unpack_one(s [, offset]) and unpack_limit(s, limit [, offset]) return the
 * next offset (-1 at the end) and then the values. Encoding choices match
 * Redis's (so packed bytes compare equal): integral numbers as the
 * smallest integer type, other numbers as float32 when exact else
 * float64, strings as fixstr/str8/str16/str32, tables whose keys are
 * exactly 1..n as arrays, others as maps, nil past 16 levels of nesting
 * (which also stops circular references).
 */
#include "script/lua_vm.h"
#include "lib/kstr.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_NESTING 16

/* Output goes to a kstr, not a luaL_Buffer: the walk over tables pushes
 * keys and values on the Lua stack, where a luaL_Buffer keeps its pieces. */
typedef struct outbuf {
    kstr s;
} outbuf;

static void put(outbuf *b, const void *p, size_t n) { b->s = kstr_cat_len(b->s, p, n); }

static void put_be(outbuf *b, unsigned char tag, uint64_t v, int bytes) {
    unsigned char buf[9];
    buf[0] = tag;
    for (int i = 0; i < bytes; i++) buf[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    put(b, buf, (size_t)bytes + 1);
}

static void pack_int(outbuf *b, int64_t v) {
    if (v >= 0) {
        if (v <= 127) {
            unsigned char c = (unsigned char)v;
            put(b, &c, 1);
        } else if (v <= 0xff) put_be(b, 0xcc, (uint64_t)v, 1);
        else if (v <= 0xffff) put_be(b, 0xcd, (uint64_t)v, 2);
        else if (v <= 0xffffffffLL) put_be(b, 0xce, (uint64_t)v, 4);
        else put_be(b, 0xcf, (uint64_t)v, 8);
    } else {
        if (v >= -32) {
            unsigned char c = (unsigned char)(int8_t)v;
            put(b, &c, 1);
        } else if (v >= -128) put_be(b, 0xd0, (uint64_t)v & 0xff, 1);
        else if (v >= -32768) put_be(b, 0xd1, (uint64_t)v & 0xffff, 2);
        else if (v >= -2147483648LL) put_be(b, 0xd2, (uint64_t)v & 0xffffffffULL, 4);
        else put_be(b, 0xd3, (uint64_t)v, 8);
    }
}

static void pack_number(outbuf *b, lua_Number n) {
    if (!isinf(n) && !isnan(n) && n == floor(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0) {
        pack_int(b, (int64_t)n);
        return;
    }
    float f = (float)n;
    if ((lua_Number)f == n) {
        uint32_t u;
        memcpy(&u, &f, 4);
        put_be(b, 0xca, u, 4);
    } else {
        uint64_t u;
        double d = n;
        memcpy(&u, &d, 8);
        put_be(b, 0xcb, u, 8);
    }
}

static void pack_string(outbuf *b, const char *s, size_t len) {
    if (len < 32) {
        unsigned char c = (unsigned char)(0xa0 | len);
        put(b, &c, 1);
    } else if (len <= 0xff) put_be(b, 0xd9, len, 1);
    else if (len <= 0xffff) put_be(b, 0xda, len, 2);
    else put_be(b, 0xdb, len, 4);
    put(b, s, len);
}

/* The array length if the table at idx has exactly the keys 1..n, else -1. */
static long array_length(lua_State *L, int idx) {
    long count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return -1;
        }
        lua_Number k = lua_tonumber(L, -1);
        if (k <= 0 || k != floor(k)) {
            lua_pop(L, 1);
            return -1;
        }
        if (k > max) max = (long)k;
        count++;
    }
    return max == count ? count : -1;
}

static void pack_value(lua_State *L, outbuf *b, int idx, int level);

static void pack_table(lua_State *L, outbuf *b, int idx, int level) {
    long n = array_length(L, idx);
    if (n >= 0) {
        if (n < 16) {
            unsigned char c = (unsigned char)(0x90 | n);
            put(b, &c, 1);
        } else if (n <= 0xffff) put_be(b, 0xdc, (uint64_t)n, 2);
        else put_be(b, 0xdd, (uint64_t)n, 4);
        for (long i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (int)i);
            pack_value(L, b, lua_gettop(L), level + 1);
            lua_pop(L, 1);
        }
        return;
    }
    long count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
    }
    if (count < 16) {
        unsigned char c = (unsigned char)(0x80 | count);
        put(b, &c, 1);
    } else if (count <= 0xffff) put_be(b, 0xde, (uint64_t)count, 2);
    else put_be(b, 0xdf, (uint64_t)count, 4);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int top = lua_gettop(L);
        pack_value(L, b, top - 1, level + 1);
        pack_value(L, b, top, level + 1);
        lua_pop(L, 1);
    }
}

static void pack_value(lua_State *L, outbuf *b, int idx, int level) {
    unsigned char c;
    size_t len;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        c = lua_toboolean(L, idx) ? 0xc3 : 0xc2;
        put(b, &c, 1);
        return;
    case LUA_TNUMBER: pack_number(b, lua_tonumber(L, idx)); return;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        pack_string(b, s, len);
        return;
    case LUA_TTABLE:
        if (level < MAX_NESTING) {
            pack_table(L, b, idx, level);
            return;
        }
        break; /* too deep: nil */
    default: break;
    }
    c = 0xc0;
    put(b, &c, 1);
}

static int mp_pack(lua_State *L) {
    int n = lua_gettop(L);
    if (n == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    luaL_checkstack(L, 3 * MAX_NESTING + 8, "cmsgpack: stack");
    outbuf b = {kstr_empty()};
    for (int i = 1; i <= n; i++) pack_value(L, &b, i, 0);
    lua_pushlstring(L, b.s, kstr_len(b.s));
    kstr_free(b.s);
    return 1;
}

/* ---- decoding ---- */

typedef struct cur {
    const unsigned char *p;
    size_t left;
    int err; /* 1: missing bytes, 2: bad format */
} cur;

static uint64_t get_be(cur *c, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | c->p[i];
    c->p += bytes;
    c->left -= (size_t)bytes;
    return v;
}

static int need(cur *c, size_t n) {
    if (c->left < n) {
        c->err = 1;
        return 0;
    }
    return 1;
}

static void unpack_value(lua_State *L, cur *c);

static void unpack_string(lua_State *L, cur *c, size_t len) {
    if (!need(c, len)) return;
    lua_pushlstring(L, (const char *)c->p, len);
    c->p += len;
    c->left -= len;
}

static void unpack_array(lua_State *L, cur *c, uint64_t n) {
    luaL_checkstack(L, 4, "cmsgpack: too deep");
    lua_newtable(L);
    for (uint64_t i = 1; i <= n && !c->err; i++) {
        unpack_value(L, c);
        if (c->err) return;
        lua_rawseti(L, -2, (int)i);
    }
}

static void unpack_map(lua_State *L, cur *c, uint64_t n) {
    luaL_checkstack(L, 4, "cmsgpack: too deep");
    lua_newtable(L);
    for (uint64_t i = 0; i < n && !c->err; i++) {
        unpack_value(L, c);
        if (c->err) return;
        unpack_value(L, c);
        if (c->err) return;
        if (lua_isnil(L, -2)) lua_pop(L, 2); /* a nil key cannot be stored */
        else lua_rawset(L, -3);
    }
}

static void unpack_value(lua_State *L, cur *c) {
    if (!need(c, 1)) return;
    unsigned char t = *c->p++;
    c->left--;
    if (t <= 0x7f) lua_pushnumber(L, t);
    else if (t >= 0xe0) lua_pushnumber(L, (int8_t)t);
    else if ((t & 0xe0) == 0xa0) unpack_string(L, c, t & 0x1f);
    else if ((t & 0xf0) == 0x90) unpack_array(L, c, t & 0x0f);
    else if ((t & 0xf0) == 0x80) unpack_map(L, c, t & 0x0f);
    else {
        int hdr;
        switch (t) {
        case 0xc4: case 0xd9: case 0xcc: case 0xd0: hdr = 1; break;
        case 0xc5: case 0xda: case 0xcd: case 0xd1: case 0xdc: case 0xde: hdr = 2; break;
        case 0xc6: case 0xdb: case 0xce: case 0xd2: case 0xca: case 0xdd: case 0xdf: hdr = 4; break;
        case 0xcf: case 0xd3: case 0xcb: hdr = 8; break;
        case 0xc0: case 0xc2: case 0xc3: hdr = 0; break;
        default: c->err = 2; return; /* extension types are not given to scripts */
        }
        if (!need(c, (size_t)hdr)) return;
        uint64_t v;
        float f;
        double d;
        switch (t) {
        case 0xc0: lua_pushnil(L); break;
        case 0xc2: lua_pushboolean(L, 0); break;
        case 0xc3: lua_pushboolean(L, 1); break;
        case 0xcc: lua_pushnumber(L, (lua_Number)get_be(c, 1)); break;
        case 0xcd: lua_pushnumber(L, (lua_Number)get_be(c, 2)); break;
        case 0xce: lua_pushnumber(L, (lua_Number)get_be(c, 4)); break;
        case 0xcf: lua_pushnumber(L, (lua_Number)get_be(c, 8)); break;
        case 0xd0: lua_pushnumber(L, (int8_t)get_be(c, 1)); break;
        case 0xd1: lua_pushnumber(L, (int16_t)get_be(c, 2)); break;
        case 0xd2: lua_pushnumber(L, (int32_t)get_be(c, 4)); break;
        case 0xd3: lua_pushnumber(L, (lua_Number)(int64_t)get_be(c, 8)); break;
        case 0xca:
            v = get_be(c, 4);
            { uint32_t u = (uint32_t)v; memcpy(&f, &u, 4); }
            lua_pushnumber(L, f);
            break;
        case 0xcb:
            v = get_be(c, 8);
            memcpy(&d, &v, 8);
            lua_pushnumber(L, d);
            break;
        case 0xc4: case 0xd9: unpack_string(L, c, get_be(c, 1)); break;
        case 0xc5: case 0xda: unpack_string(L, c, get_be(c, 2)); break;
        case 0xc6: case 0xdb: unpack_string(L, c, get_be(c, 4)); break;
        case 0xdc: unpack_array(L, c, get_be(c, 2)); break;
        case 0xdd: unpack_array(L, c, get_be(c, 4)); break;
        case 0xde: unpack_map(L, c, get_be(c, 2)); break;
        case 0xdf: unpack_map(L, c, get_be(c, 4)); break;
        default: c->err = 2; /* extension types are not given to scripts */
        }
    }
}

static int unpack_full(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = limit == 0 && offset == 0;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, (int)len);
    if ((size_t)offset > len) return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    if (all) limit = 0x7fffffff;
    cur c = {(const unsigned char *)s + offset, len - (size_t)offset, 0};
    int base = lua_gettop(L), n = 0;
    while (c.left > 0 && n < limit) {
        luaL_checkstack(L, 2, "too many values to unpack");
        unpack_value(L, &c);
        if (c.err == 1) return luaL_error(L, "Missing bytes in input.");
        if (c.err) return luaL_error(L, "Bad data format in input.");
        n++;
    }
    if (!all) {
        lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
        lua_insert(L, base + 1);
        n++;
    }
    return n;
}

static int mp_unpack(lua_State *L) { return unpack_full(L, 0, 0); }
static int mp_unpack_one(lua_State *L) { return unpack_full(L, 1, (int)luaL_optinteger(L, 2, 0)); }
static int mp_unpack_limit(lua_State *L) {
    return unpack_full(L, (int)luaL_checkinteger(L, 2), (int)luaL_optinteger(L, 3, 0));
}

int luaopen_keel_cmsgpack(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"pack", mp_pack}, {"unpack", mp_unpack}, {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_register(L, NULL, fns);
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "0.4.0");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
