/* See lua_reply.h for the rules. */
#include "script/lua_reply.h"
#include "script/lua_vm.h"
#include "lib/kstr.h"
#include "lib/util.h"
#include "net/reply.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

/* ---- RESP -> Lua ---- */

typedef struct cursor {
    const char *p, *end;
} cursor;

/* The line after the type byte, without CRLF. */
static int read_line(cursor *cur, const char **line, size_t *len) {
    const char *nl = memchr(cur->p, '\r', (size_t)(cur->end - cur->p));
    if (!nl || nl + 1 >= cur->end) return -1;
    *line = cur->p;
    *len = (size_t)(nl - cur->p);
    cur->p = nl + 2;
    return 0;
}

static int read_count(cursor *cur, long long *n) {
    const char *line;
    size_t len;
    if (read_line(cur, &line, &len) < 0) return -1;
    return string_to_ll(line, len, n) ? 0 : -1;
}

static int push_value(lua_State *L, cursor *cur);

static void push_tagged_string(lua_State *L, const char *tag, const char *s, size_t len) {
    lua_newtable(L);
    lua_pushlstring(L, s, len);
    lua_setfield(L, -2, tag);
}

static int push_bulk(lua_State *L, cursor *cur, int verbatim) {
    long long n;
    if (read_count(cur, &n) < 0) return -1;
    if (n < 0) {
        lua_pushboolean(L, 0);
        return 0;
    }
    if (cur->end - cur->p < n + 2) return -1;
    const char *s = cur->p;
    cur->p += n + 2;
    if (!verbatim) {
        lua_pushlstring(L, s, (size_t)n);
        return 0;
    }
    /* "txt:" then the text */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushlstring(L, s, n >= 3 ? 3 : (size_t)n);
    lua_setfield(L, -2, "format");
    lua_pushlstring(L, n >= 4 ? s + 4 : s, n >= 4 ? (size_t)n - 4 : 0);
    lua_setfield(L, -2, "string");
    lua_setfield(L, -2, "verbatim_string");
    return 0;
}

/* Arrays, pushes, maps and sets. */
static int push_aggregate(lua_State *L, cursor *cur, char type) {
    long long n;
    if (read_count(cur, &n) < 0) return -1;
    if (n < 0) {
        lua_pushboolean(L, 0);
        return 0;
    }
    if (!lua_checkstack(L, 4)) return -1;
    lua_newtable(L);
    if (type == '%' || type == '~') {
        lua_newtable(L);
        for (long long i = 0; i < n; i++) {
            if (push_value(L, cur) < 0) return -1;
            if (type == '%') {
                if (push_value(L, cur) < 0) return -1;
            } else {
                lua_pushboolean(L, 1);
            }
            lua_settable(L, -3);
        }
        lua_setfield(L, -2, type == '%' ? "map" : "set");
        return 0;
    }
    for (long long i = 0; i < n; i++) {
        if (push_value(L, cur) < 0) return -1;
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 0;
}

static int push_value(lua_State *L, cursor *cur) {
    if (cur->p >= cur->end) return -1;
    char type = *cur->p++;
    const char *line;
    size_t len;
    long long n;
    switch (type) {
    case ':':
        if (read_count(cur, &n) < 0) return -1;
        lua_pushnumber(L, (lua_Number)n);
        return 0;
    case '$': return push_bulk(L, cur, 0);
    case '=': return push_bulk(L, cur, 1);
    case '+':
    case '-':
        if (read_line(cur, &line, &len) < 0) return -1;
        push_tagged_string(L, type == '+' ? "ok" : "err", line, len);
        return 0;
    case '*':
    case '>':
    case '%':
    case '~': return push_aggregate(L, cur, type);
    case '_':
        if (read_line(cur, &line, &len) < 0) return -1;
        lua_pushnil(L);
        return 0;
    case '#':
        if (read_line(cur, &line, &len) < 0) return -1;
        lua_pushboolean(L, len && line[0] == 't');
        return 0;
    case ',': {
        if (read_line(cur, &line, &len) < 0) return -1;
        char buf[128];
        if (len >= sizeof(buf)) return -1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        lua_newtable(L);
        lua_pushnumber(L, strtod(buf, NULL));
        lua_setfield(L, -2, "double");
        return 0;
    }
    case '(':
        if (read_line(cur, &line, &len) < 0) return -1;
        push_tagged_string(L, "big_number", line, len);
        return 0;
    case '|': {
        /* Attributes are not given to scripts: skip them, keep the value. */
        if (push_aggregate(L, cur, '%') < 0) return -1;
        lua_pop(L, 1);
        return push_value(L, cur);
    }
    default: return -1;
    }
}

int lua_push_resp(lua_State *L, const char *p, size_t len) {
    cursor cur = {p, p + len};
    int top = lua_gettop(L);
    if (push_value(L, &cur) < 0) {
        lua_settop(L, top);
        return -1;
    }
    return 0;
}

/* ---- Lua -> reply ---- */

/* t[name] (raw) pushed; returns its type. */
static int field(lua_State *L, const char *name) {
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    return lua_type(L, -1);
}

static kstr one_line(const char *s, size_t len) {
    kstr k = kstr_new_len(s, len);
    for (size_t i = 0; i < len; i++)
        if (k[i] == '\r' || k[i] == '\n') k[i] = ' ';
    return k;
}

static void reply_table(client *c, lua_State *L, int script_resp);

void lua_reply_value(client *c, lua_State *L, int script_resp) {
    if (!lua_checkstack(L, 4)) {
        reply_error(c, "reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    size_t len;
    const char *s;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, -1, &len);
        reply_bulk(c, s, len);
        break;
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1)) reply_ll(c, 1);
            else reply_null(c);
        } else {
            reply_bool(c, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER: reply_ll(c, (long long)lua_tonumber(L, -1)); break;
    case LUA_TTABLE: reply_table(c, L, script_resp); return; /* pops */
    default: reply_null(c);
    }
    lua_pop(L, 1);
}

static int reply_special(client *c, lua_State *L, int script_resp) {
    size_t len;
    const char *s;
    if (field(L, "err") == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        lua_pushstring(L, "ignore_error_stats_update");
        lua_rawget(L, -3);
        int counted = lua_toboolean(L, -1);
        lua_pop(L, 1);
        reply_error_verbatim(c, s, len, !counted);
        return 1;
    }
    lua_pop(L, 1);
    if (field(L, "ok") == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        kstr k = one_line(s, len);
        reply_raw(c, "+", 1);
        reply_raw(c, k, len);
        reply_raw(c, "\r\n", 2);
        kstr_free(k);
        return 1;
    }
    lua_pop(L, 1);
    if (field(L, "double") == LUA_TNUMBER) {
        reply_double(c, lua_tonumber(L, -1));
        return 1;
    }
    lua_pop(L, 1);
    if (field(L, "big_number") == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        kstr k = one_line(s, len);
        if (c->resp >= 3) {
            reply_raw(c, "(", 1);
            reply_raw(c, k, len);
            reply_raw(c, "\r\n", 2);
        } else {
            reply_bulk(c, k, len);
        }
        kstr_free(k);
        return 1;
    }
    lua_pop(L, 1);
    if (field(L, "verbatim_string") == LUA_TTABLE) {
        if (field(L, "format") == LUA_TSTRING) {
            const char *fmt = lua_tostring(L, -1);
            lua_pushstring(L, "string");
            lua_rawget(L, -3);
            if (lua_type(L, -1) == LUA_TSTRING) {
                s = lua_tolstring(L, -1, &len);
                reply_verbatim(c, s, len, fmt);
                lua_pop(L, 2);
                return 1;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    (void)script_resp;
    return 0;
}

static void reply_table(client *c, lua_State *L, int script_resp) {
    if (reply_special(c, L, script_resp)) {
        lua_pop(L, 2);
        return;
    }
    if (field(L, "map") == LUA_TTABLE) {
        void *node = reply_deferred_len(c);
        long n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_reply_value(c, L, script_resp); /* key */
            lua_reply_value(c, L, script_resp); /* value */
            n++;
        }
        reply_set_deferred_map_len(c, node, n);
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    if (field(L, "set") == LUA_TTABLE) {
        void *node = reply_deferred_len(c);
        long n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_reply_value(c, L, script_resp);
            n++;
        }
        reply_set_deferred_set_len(c, node, n);
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    void *node = reply_deferred_len(c);
    long n = 0;
    for (int j = 1;; j++) {
        lua_rawgeti(L, -1, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        lua_reply_value(c, L, script_resp);
        n++;
    }
    reply_set_deferred_array_len(c, node, n);
    lua_pop(L, 1);
}

/* ---- errors of a run ---- */

static const char *str_field(lua_State *L, const char *name, size_t *len) {
    lua_getfield(L, -1, name);
    const char *s = lua_isstring(L, -1) ? lua_tolstring(L, -1, len) : NULL;
    lua_pop(L, 1); /* the string stays alive: the table holds it */
    return s;
}

void lua_reply_error(client *c, lua_State *L, const char *funcname, int status) {
    if (status == LUA_ERRMEM) {
        reply_errorf(c, "ERR Error running script %s, not enough memory (lua-memory-limit of %lld bytes reached)",
                     funcname, luavm_memory_limit);
        lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, -1)) {
        const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
        reply_errorf(c, "ERR Error running script %s, %.100s", funcname, msg);
        lua_pop(L, 1);
        return;
    }
    size_t len = 0, slen = 0, llen = 0;
    const char *msg = str_field(L, "err", &len);
    const char *source = str_field(L, "source", &slen);
    const char *line = str_field(L, "line", &llen);
    lua_getfield(L, -1, "ignore_error_stats_update");
    int counted = lua_toboolean(L, -1);
    lua_pop(L, 1);
    kstr out = kstr_empty();
    if (msg) out = kstr_cat_len(out, msg, len);
    else out = kstr_cat(out, "ERR unknown error");
    if (source && line) out = kstr_cat_printf(out, " script: %s, on %s:%s.", funcname, source, line);
    reply_error_verbatim(c, out, kstr_len(out), !counted);
    kstr_free(out);
    lua_pop(L, 1);
}
