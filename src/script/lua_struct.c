/*
 * struct: binary packing for scripts, with the Lua-visible API of the
 * struct library Redis embeds: struct.pack(fmt, ...), struct.unpack(fmt,
 * s [, pos]) (the values, then the position after them) and
 * struct.size(fmt). Format: '<' '>' '=' byte order (little, big, native),
 * '!'[n] alignment, 'x' a zero byte, 'b' 'B' 'h' 'H' 'l' 'L' 'T' 'i'[n]
 * 'I'[n] integers (signed lowercase), 'f' 'd' float and double, 's' a
 * zero-terminated string, 'c'[n] a fixed-size string ('c0': the length is
 * the argument itself when packing, the previous value when unpacking),
 * spaces ignored.
 */
#include "script/lua_vm.h"
#include "lib/kstr.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

#define MAXINTSIZE 32
#define MAXALIGN 8

typedef struct header {
    int little;
    int align;
} header;

static int is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static size_t read_number(const char **fmt, size_t def) {
    if (!isdigit((unsigned char)**fmt)) return def;
    size_t a = 0;
    do {
        a = a * 10 + (size_t)(*((*fmt)++) - '0');
    } while (isdigit((unsigned char)**fmt) && a < 100000);
    return a;
}

static size_t int_size(lua_State *L, const char **fmt) {
    size_t sz = read_number(fmt, sizeof(int));
    if (sz > MAXINTSIZE) luaL_error(L, "integral size %d is larger than limit of %d", (int)sz, MAXINTSIZE);
    if (sz == 0) luaL_error(L, "integral size out of limits");
    return sz;
}

/* Size of the option opt (fmt moves past its count). */
static size_t option_size(lua_State *L, char opt, const char **fmt) {
    switch (opt) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': return 8;
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return read_number(fmt, 1);
    case 'i': case 'I': return int_size(L, fmt);
    default: return 0;
    }
}

static size_t align_pad(size_t len, const header *h, char opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

/* Options that change the header; returns 1 when opt was one. */
static int control_option(lua_State *L, char opt, const char **fmt, header *h) {
    switch (opt) {
    case ' ': return 1;
    case '>': h->little = 0; return 1;
    case '<': h->little = 1; return 1;
    case '=': h->little = is_little_endian(); return 1;
    case '!': {
        size_t a = read_number(fmt, MAXALIGN);
        if (a == 0 || (a & (a - 1))) luaL_error(L, "alignment %d is not a power of 2", (int)a);
        h->align = (int)a;
        return 1;
    }
    default: return 0;
    }
}

static void put_int(kstr *out, uint64_t v, int little, size_t size) {
    unsigned char buf[MAXINTSIZE];
    for (size_t i = 0; i < size; i++) {
        unsigned char byte = i < 8 ? (unsigned char)(v >> (8 * i)) : ((int64_t)v < 0 ? 0xff : 0);
        buf[little ? i : size - 1 - i] = byte;
    }
    *out = kstr_cat_len(*out, buf, size);
}

static void put_raw(kstr *out, const void *p, size_t size, int little) {
    unsigned char buf[8];
    memcpy(buf, p, size);
    if (little != is_little_endian())
        for (size_t i = 0; i < size / 2; i++) {
            unsigned char t = buf[i];
            buf[i] = buf[size - 1 - i];
            buf[size - 1 - i] = t;
        }
    *out = kstr_cat_len(*out, buf, size);
}

static int st_pack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    header h = {is_little_endian(), 1};
    int arg = 2;
    kstr out = kstr_empty();
    while (*fmt) {
        char opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, opt, &fmt);
        size_t pad = align_pad(kstr_len(out), &h, opt, size);
        while (pad--) out = kstr_cat_len(out, "", 1);
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
            lua_Number n = luaL_checknumber(L, arg++);
            uint64_t v = (opt >= 'a') ? (uint64_t)(int64_t)n : (uint64_t)n;
            put_int(&out, v, h.little, size);
            break;
        }
        case 'x': out = kstr_cat_len(out, "", 1); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            put_raw(&out, &f, sizeof(f), h.little);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            put_raw(&out, &d, sizeof(d), h.little);
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (opt == 's') {
                out = kstr_cat_len(out, s, l + 1);
                break;
            }
            if (size == 0) size = l;
            if (l < size) {
                kstr_free(out);
                return luaL_argerror(L, arg - 1, "string too short");
            }
            out = kstr_cat_len(out, s, size);
            break;
        }
        default: kstr_free(out); return luaL_error(L, "invalid format option '%c'", opt);
        }
    }
    lua_pushlstring(L, out, kstr_len(out));
    kstr_free(out);
    return 1;
}

static lua_Number get_int(const unsigned char *p, int little, int is_signed, size_t size) {
    uint64_t v = 0;
    size_t n = size > 8 ? 8 : size;
    for (size_t i = 0; i < n; i++) {
        size_t at = little ? n - 1 - i : size - n + i;
        v = (v << 8) | p[at];
    }
    if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1) v |= ~0ULL << (8 * size);
    return is_signed ? (lua_Number)(int64_t)v : (lua_Number)v;
}

static void get_raw(void *dst, const unsigned char *p, size_t size, int little) {
    unsigned char buf[8];
    memcpy(buf, p, size);
    if (little != is_little_endian())
        for (size_t i = 0; i < size / 2; i++) {
            unsigned char t = buf[i];
            buf[i] = buf[size - 1 - i];
            buf[size - 1 - i] = t;
        }
    memcpy(dst, buf, size);
}

static int st_unpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1) - 1;
    header h = {is_little_endian(), 1};
    int n = 0;
    luaL_argcheck(L, pos <= ld, 3, "offset must be 1 or greater");
    while (*fmt) {
        char opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, opt, &fmt);
        pos += align_pad(pos, &h, opt, size);
        luaL_argcheck(L, pos <= ld && size <= ld - pos, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            lua_pushnumber(L, get_int(data + pos, h.little, opt >= 'a', size));
            n++;
            break;
        case 'x': break;
        case 'f': {
            float f;
            get_raw(&f, data + pos, sizeof(f), h.little);
            lua_pushnumber(L, f);
            n++;
            break;
        }
        case 'd': {
            double d;
            get_raw(&d, data + pos, sizeof(d), h.little);
            lua_pushnumber(L, d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld - pos, 2, "data string too short");
            }
            lua_pushlstring(L, (const char *)data + pos, size);
            n++;
            break;
        case 's': {
            const unsigned char *e = memchr(data + pos, '\0', ld - pos);
            if (!e) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, (const char *)data + pos, size - 1);
            n++;
            break;
        }
        default: return luaL_error(L, "invalid format option '%c'", opt);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return n + 1;
}

static int st_size(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    header h = {is_little_endian(), 1};
    size_t pos = 0;
    while (*fmt) {
        char opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, opt, &fmt);
        pos += align_pad(pos, &h, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "options 'c0' - 's' have undefined sizes");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "options 'c0' - 's' have undefined sizes");
        else if (!strchr("bBhHlLTiIxfdc", opt)) luaL_error(L, "invalid format option '%c'", opt);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int luaopen_keel_struct(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", st_pack}, {"unpack", st_unpack}, {"size", st_size}, {NULL, NULL}};
    lua_newtable(L);
    luaL_register(L, NULL, fns);
    return 1;
}
