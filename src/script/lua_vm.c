/* See lua_vm.h for the design. */
#include "script/lua_vm.h"
#include "script/run.h"
#include "core/server.h"
#include "lib/zmalloc.h"

#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>
#include <lua-bitop.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

long long luavm_memory_limit = 1024LL * 1024 * 1024;

/* ---- memory ---- */

/* Lua's allocator: counts every byte and refuses to grow past the limit
 * (Lua turns the refusal into a "not enough memory" error). Freeing and
 * shrinking always succeed, as Lua requires. The interpreter's memory is
 * libc's, not zmalloc's: as in Redis it is reported apart (used_memory_lua)
 * and does not count against maxmemory. */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    luavm *vm = ud;
    if (nsize == 0) {
        free(ptr);
        vm->used -= osize;
        return NULL;
    }
    if (nsize > osize && vm->enforce && luavm_memory_limit && vm->used + (nsize - osize) > (size_t)luavm_memory_limit) {
        vm->hit_limit = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p) {
        if (nsize <= osize) return ptr;
        vm->hit_limit = 1;
        return NULL;
    }
    vm->used = vm->used - osize + nsize;
    if (vm->used > vm->peak) vm->peak = vm->used;
    return p;
}

static int vm_panic(lua_State *L) {
    server_log(LOG_WARNING, "Lua panic: %s", lua_tostring(L, -1));
    abort();
}

/* ---- math.random: Redis's deterministic generator ----
 * The 48-bit linear congruential generator of POSIX drand48 (a =
 * 0x5DEECE66D, c = 11), with Redis's starting state, so that a script
 * draws the same sequence on Keel as on Redis, on every platform. */
static uint64_t rand48_state = 0x1234ABCD330EULL;

static int32_t rand48_next(void) {
    rand48_state = (rand48_state * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(rand48_state >> 17);
}

static void rand48_seed(int32_t seed) { rand48_state = ((uint64_t)(uint32_t)seed << 16) | 0x330E; }

static int math_random(lua_State *L) {
    if (!run_current()) return luaL_error(L, "math.random can only be called inside a script invocation");
    lua_Number r = (lua_Number)(rand48_next() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0: lua_pushnumber(L, r); break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1), u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default: return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L) {
    if (!run_current()) return luaL_error(L, "math.randomseed can only be called inside a script invocation");
    rand48_seed(luaL_checkint(L, 1));
    return 0;
}

/* ---- errors ---- */

void luavm_push_error(lua_State *L, const char *msg) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t len = strlen(msg);
    while (len && (msg[len - 1] == '\r' || msg[len - 1] == '\n')) len--;
    if (msg[0] == '-') {
        const char *sp = memchr(msg, ' ', len);
        if (sp) {
            luaL_addlstring(&b, msg + 1, (size_t)(sp - msg - 1));
            luaL_addchar(&b, ' ');
            luaL_addlstring(&b, sp + 1, len - (size_t)(sp + 1 - msg));
        } else {
            luaL_addstring(&b, "ERR ");
            luaL_addlstring(&b, msg + 1, len - 1);
        }
    } else {
        luaL_addstring(&b, "ERR ");
        luaL_addlstring(&b, msg, len);
    }
    luaL_pushresult(&b);
    lua_newtable(L);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "err");
    lua_remove(L, -2);
}

int luavm_raise(lua_State *L) { return lua_error(L); }

/* ---- the sandbox ----
 * Written in Lua because it is about Lua values: proxies for every
 * library table and for the globals, the error handler that adds where
 * an error happened, and the wrappers that keep rawset, setmetatable and
 * load from getting around the proxies. Runs once, with full access,
 * and returns the error handler and the globals proxy. */
static const char sandbox_lua[] =
    "local G = ...\n"
    "local raw_setmetatable, raw_rawset, raw_loadstring = setmetatable, rawset, loadstring\n"
    "local type, tostring, error, concat = type, tostring, error, table.concat\n"
    "local dbg = debug\n"
    "local readonly = raw_setmetatable({}, {__mode = 'k'})\n"
    "local function refuse() error('Attempt to modify a readonly table', 2) end\n"
    "local function protect(t)\n"
    "  local mt = {__index = t, __newindex = refuse}\n"
    "  local mtp = raw_setmetatable({}, {__index = mt, __newindex = refuse, __metatable = false})\n"
    "  mt.__metatable = mtp\n"
    "  local p = raw_setmetatable({}, mt)\n"
    "  readonly[p] = true; readonly[mtp] = true\n"
    "  return p\n"
    "end\n"
    "G.setmetatable = function(t, mt)\n"
    "  if readonly[t] then error('Attempt to modify a readonly table', 2) end\n"
    "  return raw_setmetatable(t, mt)\n"
    "end\n"
    "G.rawset = function(t, k, v)\n"
    "  if readonly[t] then error('Attempt to modify a readonly table', 2) end\n"
    "  return raw_rawset(t, k, v)\n"
    "end\n"
    "local function no_binary(s)\n"
    "  return type(s) == 'string' and s:byte(1) == 27\n"
    "end\n"
    "G.loadstring = function(s, name)\n"
    "  if no_binary(s) then return nil, 'binary chunks are not allowed' end\n"
    "  return raw_loadstring(s, name)\n"
    "end\n"
    "G.load = function(f, name)\n"
    "  if type(f) == 'string' then return G.loadstring(f, name) end\n"
    "  local parts = {}\n"
    "  while true do\n"
    "    local p = f()\n"
    "    if p == nil or p == '' then break end\n"
    "    if type(p) ~= 'string' then return nil, 'reader function must return a string' end\n"
    "    parts[#parts + 1] = p\n"
    "  end\n"
    "  return G.loadstring(concat(parts), name)\n"
    "end\n"
    "G.dofile, G.loadfile, G.print, G.debug, G.module, G.require = nil\n"
    "local function handler(err)\n"
    "  local level = 2\n"
    "  local i = dbg.getinfo(level, 'nSl')\n"
    "  while i and (i.what == 'C' or i.source == '=keel_sandbox') do\n"
    "    level = level + 1\n"
    "    i = dbg.getinfo(level, 'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end\n"
    "  if i then err.source = i.source; err.line = i.currentline end\n"
    "  return err\n"
    "end\n"
    "for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'cmsgpack', 'struct', 'redis'}) do\n"
    "  if type(G[name]) == 'table' then G[name] = protect(G[name]) end\n"
    "end\n"
    "raw_setmetatable(G, {__index = function(_, n)\n"
    "  error(\"Script attempted to access nonexistent global variable '\" .. tostring(n) .. \"'\", 2)\n"
    "end})\n"
    "local proxy = protect(G)\n"
    "G._G = proxy\n"
    "return handler, proxy\n";

#define REG_ERRH "keel.errh"

static void open_lib(lua_State *L, const char *name, lua_CFunction open) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    /* Some libraries return their table, some only set the global. */
    if (name[0] && lua_istable(L, -1)) lua_setglobal(L, name);
    else lua_pop(L, 1);
}

static void replace_math_random(lua_State *L) {
    lua_getglobal(L, "math");
    lua_pushcfunction(L, math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

static void install_sandbox(luavm *vm) {
    lua_State *L = vm->L;
    if (luaL_loadbuffer(L, sandbox_lua, sizeof(sandbox_lua) - 1, "=keel_sandbox") != 0) {
        server_log(LOG_WARNING, "Lua sandbox: %s", lua_tostring(L, -1));
        abort();
    }
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_call(L, 1, 2);
    /* From now on, code compiled in this state sees the proxy. */
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_ERRH);
}

luavm *luavm_create(int functions) {
    luavm *vm = zcalloc(sizeof(*vm));
    vm->functions = functions;
    vm->L = lua_newstate(vm_alloc, vm); /* not enforced: the set-up is never refused */
    lua_atpanic(vm->L, vm_panic);
    lua_State *L = vm->L;
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_DBLIBNAME, luaopen_debug);
    open_lib(L, "cjson", luaopen_cjson);
    open_lib(L, "bit", luaopen_bit);
    open_lib(L, "cmsgpack", luaopen_keel_cmsgpack);
    open_lib(L, "struct", luaopen_keel_struct);
    replace_math_random(L);
    lua_api_register(vm);
    install_sandbox(vm);
    return vm;
}

void luavm_free(luavm *vm) {
    if (!vm) return;
    lua_close(vm->L);
    zfree(vm);
}

void luavm_set_global(luavm *vm, const char *name) {
    lua_State *L = vm->L;
    lua_getmetatable(L, LUA_GLOBALSINDEX); /* the proxy's: __index is G */
    lua_getfield(L, -1, "__index");
    lua_pushstring(L, name);
    lua_pushvalue(L, -4);
    lua_rawset(L, -3);
    lua_pop(L, 3);
}

int luavm_compile(luavm *vm, const char *code, size_t len, const char *chunkname, kstr *err) {
    lua_State *L = vm->L;
    /* Binary chunks are refused: they can crash the interpreter. */
    if (len && code[0] == 27) {
        *err = kstr_new("Lua binary chunks are not allowed");
        return -1;
    }
    vm->enforce = 1;
    int rc = luaL_loadbuffer(L, code, len, chunkname);
    vm->enforce = 0;
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        *err = kstr_new(msg ? msg : "not enough memory");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static void push_array(lua_State *L, kstr *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i], kstr_len(v[i]));
        lua_rawseti(L, -2, i + 1);
    }
}

/* The time hook: every 100,000 instructions, which costs nothing
 * measurable and notices a slow script within a millisecond or so. Once
 * a script is killed, the hook fires on every line so that a pcall in the
 * script cannot swallow the kill. */
static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (!run_interrupt()) return;
    server_log(LOG_WARNING, "Lua script killed by user with SCRIPT KILL.");
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    luavm_push_error(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
}

int luavm_pcall(luavm *vm, int nargs, int nresults, int errfunc) {
    vm->enforce = 1;
    int status = lua_pcall(vm->L, nargs, nresults, errfunc);
    vm->enforce = 0;
    return status;
}

int luavm_call(luavm *vm, int eval_mode, kstr *keys, int nkeys, kstr *args, int nargs) {
    lua_State *L = vm->L;
    /* stack: fn */
    lua_getfield(L, LUA_REGISTRYINDEX, REG_ERRH);
    lua_insert(L, -2);
    /* stack: errh fn */
    int status;
    vm->hit_limit = 0;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 100000);
    if (!lua_checkstack(L, 4)) {
        lua_pop(L, 2);
        lua_pushstring(L, "reached lua stack limit");
        return LUA_ERRRUN;
    }
    if (eval_mode) {
        push_array(L, keys, nkeys);
        luavm_set_global(vm, "KEYS");
        push_array(L, args, nargs);
        luavm_set_global(vm, "ARGV");
        status = luavm_pcall(vm, 0, 1, -2);
    } else {
        push_array(L, keys, nkeys);
        push_array(L, args, nargs);
        status = luavm_pcall(vm, 2, 1, -4);
    }
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, -2); /* the handler */
    if (status == LUA_ERRMEM || vm->hit_limit) {
        /* Collect what the failed script left before anyone else runs;
         * each full cycle also halves Lua's oversized string buffer. */
        for (int i = 0; i < 16; i++) {
            size_t before = vm->used;
            lua_gc(L, LUA_GCCOLLECT, 0);
            if (vm->used >= before) break;
        }
    } else {
        /* A little incremental collection per run keeps full cycles rare. */
        static int runs;
        if (++runs == 50) {
            lua_gc(L, LUA_GCSTEP, 50);
            runs = 0;
        }
    }
    return status;
}
