/*
 * lua_vm: one Lua 5.1 interpreter (Debian's liblua5.1) set up as Redis's
 * scripting sandbox. EVAL scripts and FUNCTION libraries live in two
 * separate interpreters (as in Redis: flushing one never touches the
 * other, and INFO reports them apart), both made here.
 *
 * What the sandbox gives a script: the base library without dofile,
 * loadfile and print, string, table, math (random replaced by Redis's
 * deterministic generator), cjson and bit (Debian's lua-cjson and
 * lua-bitop, linked in), Keel's own cmsgpack and struct, and the redis
 * table (lua_api.c). Every global table is read-only: scripts see a proxy
 * whose writes fail with "Attempt to modify a readonly table", reading
 * an unknown global is an error, and rawset/setmetatable refuse the
 * proxies. (Redis patches its Lua to make tables read-only; Debian's Lua
 * is unpatched, so Keel builds the same behaviour from proxies.)
 *
 * Memory: every allocation of the interpreter goes through a counting
 * allocator with a ceiling (lua-memory-limit). A script that reaches it
 * gets Lua's "not enough memory" error and is stopped with an error
 * reply; the server itself never runs out because of a script.
 */
#ifndef KEEL_LUA_VM_H
#define KEEL_LUA_VM_H

#include <stddef.h>
#include <lua.h>
#include "lib/kstr.h"

typedef struct luavm {
    lua_State *L;
    size_t used;        /* bytes the interpreter holds */
    size_t peak;
    int functions;      /* the FUNCTION interpreter (else EVAL's) */
    int hit_limit;      /* an allocation was refused since last reset */
    int enforce;        /* the limit applies: only inside protected calls,
                         * where Lua turns a refusal into an error (outside
                         * one it would be a panic) */
} luavm;

/* The ceiling for each interpreter, bytes (0: none). */
extern long long luavm_memory_limit;

luavm *luavm_create(int functions);
void luavm_free(luavm *vm);

/* Compile code into a function left on the stack. On failure returns -1
 * and leaves nothing; *err (caller frees with kstr_free) says why in
 * Lua's words. chunkname as in luaL_loadbuffer ("@user_script"). */
int luavm_compile(luavm *vm, const char *code, size_t len, const char *chunkname, kstr *err);

/* Run the function on top of the stack (popped). Eval mode: KEYS and
 * ARGV become globals and the function takes no argument; function mode:
 * it gets the two tables as arguments. The result (or the error, as a
 * table with err/source/line or a string) is left on the stack; returns
 * the lua_pcall status. Installs the time hook for the run. */
int luavm_call(luavm *vm, int eval_mode, kstr *keys, int nkeys, kstr *args, int nargs);

/* Set a global in the real (unprotected) globals table, value on top of
 * the stack (popped). Only Keel itself may do this. */
void luavm_set_global(luavm *vm, const char *name);

/* The sandbox's error table of a Redis-style message: "-CODE msg" or
 * "msg" (which gets ERR), pushed on the stack. */
void luavm_push_error(lua_State *L, const char *msg);
/* Raise the error table on top of the stack (does not return). */
int luavm_raise(lua_State *L);

/* Run f(L) as a protected call with the memory limit enforced. */
int luavm_pcall(luavm *vm, int nargs, int nresults, int errfunc);

/* Defined in lua_api.c: the redis table (set as a global). */
void lua_api_register(luavm *vm);
/* Defined in functions.c: redis.register_function, added to the redis
 * table (on top of the stack) of the FUNCTION interpreter. */
void functions_register_api(lua_State *L);
/* Defined in lua_msgpack.c and lua_struct.c. */
int luaopen_keel_cmsgpack(lua_State *L);
int luaopen_keel_struct(lua_State *L);

#endif
