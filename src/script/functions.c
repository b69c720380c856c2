/*
 * functions: Redis 7 Functions. FUNCTION LOAD compiles a library
 * ("#!lua name=mylib" then Lua code that calls redis.register_function)
 * in the FUNCTION interpreter; FCALL and FCALL_RO call a registered
 * function by name; FUNCTION LIST, DELETE, FLUSH, STATS, KILL manage
 * them, and function_dump.c serialises them (FUNCTION DUMP / RESTORE).
 *
 * Libraries are few (tens), so they and their functions are kept in a
 * plain array searched linearly; each function's callback is a reference
 * in the interpreter's registry.
 */
#include "script/functions.h"
#include "script/lua_reply.h"
#include "script/lua_vm.h"
#include "script/run.h"
#include "script/script.h"
#include "core/cmdutil.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOAD_TIMEOUT_MS 500

static luavm *vm;
static library **libs;
static int nlibs;
static library *loading;      /* the library being loaded, during LOAD */
static long long load_start_us;

static void make_load_globals(lua_State *L);

static void create_vm(void) {
    vm = luavm_create(1);
    make_load_globals(vm->L);
}

void functions_init(void) { create_vm(); }

size_t functions_vm_memory(void) { return vm ? vm->used : 0; }

int functions_library_count(void) { return nlibs; }
library *functions_library(int i) { return libs[i]; }

void functions_counts(size_t *nlib, size_t *nfn, size_t *code_bytes) {
    *nlib = (size_t)nlibs;
    *nfn = *code_bytes = 0;
    for (int i = 0; i < nlibs; i++) {
        *nfn += (size_t)libs[i]->nfns;
        *code_bytes += kstr_len(libs[i]->code);
    }
}

static int valid_name(const char *s, size_t len) {
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')) return 0;
    }
    return 1;
}

/* Library and function names are case-insensitive, as in Redis. */
static library *find_library(const char *name) {
    for (int i = 0; i < nlibs; i++)
        if (!strcasecmp(libs[i]->name, name)) return libs[i];
    return NULL;
}

static function *find_function(const char *name, size_t len, const library *except) {
    for (int i = 0; i < nlibs; i++) {
        if (libs[i] == except) continue;
        for (int j = 0; j < libs[i]->nfns; j++) {
            function *f = &libs[i]->fns[j];
            if (kstr_len(f->name) == len && !strncasecmp(f->name, name, len)) return f;
        }
    }
    return NULL;
}

static void free_library(library *lib) {
    for (int j = 0; j < lib->nfns; j++) {
        if (vm) luaL_unref(vm->L, LUA_REGISTRYINDEX, lib->fns[j].ref);
        kstr_free(lib->fns[j].name);
        kstr_free(lib->fns[j].desc);
    }
    zfree(lib->fns);
    kstr_free(lib->name);
    kstr_free(lib->code);
    zfree(lib);
}

static void unlink_library(library *lib) {
    for (int i = 0; i < nlibs; i++) {
        if (libs[i] == lib) {
            libs[i] = libs[--nlibs];
            return;
        }
    }
}

static void link_library(library *lib) {
    libs = zrealloc(libs, sizeof(*libs) * (size_t)(nlibs + 1));
    libs[nlibs++] = lib;
}

/* ---- redis.register_function ---- */

static int reg_error(lua_State *L, const char *msg) {
    luavm_push_error(L, msg);
    return lua_error(L);
}

static int read_flags(lua_State *L, int idx, int *flags) {
    *flags = 0;
    for (int j = 1;; j++) {
        lua_rawgeti(L, idx, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            return -1;
        }
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        kstr err = NULL;
        int f = script_flags_parse(s, len, &err);
        lua_pop(L, 1);
        if (f < 0 || memchr(s, ',', len)) {
            kstr_free(err);
            return -1;
        }
        *flags |= f;
    }
}

/* Adds the function; the callback is on top of the stack (popped). */
static int add_function(lua_State *L, const char *name, size_t nlen, const char *desc, int flags) {
    if (!valid_name(name, nlen)) {
        lua_pop(L, 1);
        return reg_error(L, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    for (int j = 0; j < loading->nfns; j++) {
        if (kstr_len(loading->fns[j].name) == nlen && !strncasecmp(loading->fns[j].name, name, nlen)) {
            lua_pop(L, 1);
            return reg_error(L, "Function already exists in the library");
        }
    }
    loading->fns = zrealloc(loading->fns, sizeof(function) * (size_t)(loading->nfns + 1));
    function *f = &loading->fns[loading->nfns++];
    f->name = kstr_new_len(name, nlen);
    f->desc = desc ? kstr_new(desc) : NULL;
    f->flags = flags;
    f->lib = loading;
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int register_named(lua_State *L) {
    const char *name = NULL, *desc = NULL;
    size_t nlen = 0;
    int flags = 0, have_cb = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return reg_error(L, "named argument key given to redis.register_function is not a string");
        const char *key = lua_tostring(L, -2);
        if (!strcasecmp(key, "function_name")) {
            if (!lua_isstring(L, -1))
                return reg_error(L, "function_name argument given to redis.register_function must be a string");
            name = lua_tolstring(L, -1, &nlen);
        } else if (!strcasecmp(key, "description")) {
            if (!lua_isstring(L, -1))
                return reg_error(L, "description argument given to redis.register_function must be a string");
            desc = lua_tostring(L, -1);
        } else if (!strcasecmp(key, "callback")) {
            if (!lua_isfunction(L, -1))
                return reg_error(L, "callback argument given to redis.register_function must be a function");
            have_cb = 1;
        } else if (!strcasecmp(key, "flags")) {
            if (!lua_istable(L, -1))
                return reg_error(L, "flags argument to redis.register_function must be a table representing function flags");
            if (read_flags(L, lua_gettop(L), &flags) < 0) return reg_error(L, "unknown flag given");
        } else {
            return reg_error(L, "unknown argument given to redis.register_function");
        }
        lua_pop(L, 1);
    }
    if (!name) return reg_error(L, "redis.register_function must get a function name argument");
    if (!have_cb) return reg_error(L, "redis.register_function must get a callback argument");
    /* name and desc stay alive: the table (argument 1) holds them. */
    lua_getfield(L, 1, "callback");
    if (!lua_isfunction(L, -1)) { /* keys are case-insensitive: find it */
        lua_pop(L, 1);
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            if (lua_type(L, -2) == LUA_TSTRING && !strcasecmp(lua_tostring(L, -2), "callback")) {
                lua_remove(L, -2);
                break;
            }
            lua_pop(L, 1);
        }
    }
    return add_function(L, name, nlen, desc, flags);
}

static int register_function(lua_State *L) {
    if (!loading) return reg_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2) return reg_error(L, "wrong number of arguments to redis.register_function");
    if (argc == 1) {
        if (!lua_istable(L, 1)) return reg_error(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
        return register_named(L);
    }
    if (lua_type(L, 1) != LUA_TSTRING) return reg_error(L, "first argument to redis.register_function must be a string");
    if (!lua_isfunction(L, 2)) return reg_error(L, "second argument to redis.register_function must be a function");
    size_t nlen;
    const char *name = lua_tolstring(L, 1, &nlen);
    lua_pushvalue(L, 2);
    return add_function(L, name, nlen, NULL, 0);
}

/* Nothing to add to the run-time redis table: register_function lives
 * only in the load-time globals below. */
void functions_register_api(lua_State *L) { (void)L; }

/* What a library's top-level code sees while FUNCTION LOAD runs it, as in
 * Redis: only redis.register_function, redis.log and the constants;
 * anything else is "nonexistent". The functions it registers run later
 * with the ordinary globals (the proxy's __index is switched back). */
#define REG_LOADG "keel.load_globals"
static const char load_globals_lua[] =
    "local register = ...\n"
    "local error, tostring, setmetatable = error, tostring, setmetatable\n"
    "local function lookup(t, what)\n"
    "  return function(_, n)\n"
    "    local v = t[n]\n"
    "    if v == nil then error(\"Script attempted to access nonexistent global variable '\" .. tostring(n) .. \"'\", 2) end\n"
    "    return v\n"
    "  end\n"
    "end\n"
    "local function refuse() error('Attempt to modify a readonly table', 2) end\n"
    "local r = {register_function = register, log = redis.log, LOG_DEBUG = redis.LOG_DEBUG,\n"
    "  LOG_VERBOSE = redis.LOG_VERBOSE, LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,\n"
    "  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM}\n"
    "local g = {redis = setmetatable({}, {__index = lookup(r), __newindex = refuse, __metatable = false})}\n"
    "return setmetatable({}, {__index = lookup(g), __newindex = refuse, __metatable = false})\n";

static void make_load_globals(lua_State *L) {
    if (luaL_loadbuffer(L, load_globals_lua, sizeof(load_globals_lua) - 1, "=keel_sandbox") != 0) abort();
    lua_pushcfunction(L, register_function);
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_LOADG);
}

/* Switch what globals resolve to: the load-time table or the real one. */
static void use_load_globals(lua_State *L, int on) {
    static int saved_ref = LUA_NOREF;
    lua_getmetatable(L, LUA_GLOBALSINDEX); /* the proxy's own metatable */
    if (on) {
        lua_getfield(L, -1, "__index");
        saved_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_getfield(L, LUA_REGISTRYINDEX, REG_LOADG);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, saved_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, saved_ref);
    }
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* ---- loading a library ---- */

static void load_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if ((monotonic_us() - load_start_us) / 1000 >= LOAD_TIMEOUT_MS) {
        lua_sethook(L, load_hook, LUA_MASKLINE, 0);
        luavm_push_error(L, "FUNCTION LOAD timeout");
        lua_error(L);
    }
}

/* "#!lua name=lib": the engine and the name; *code_at is where the code
 * starts (the line feed of the shebang, so that line numbers match). */
static int parse_metadata(const char *code, size_t len, kstr *engine, kstr *name, size_t *code_at, kstr *err) {
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        *err = kstr_new("Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    if (!nl) {
        *err = kstr_new("Invalid library metadata");
        return -1;
    }
    kstr line = kstr_new_len(code, (size_t)(nl - code));
    int argc = 0;
    kstr *parts = kstr_split_args(line, &argc);
    kstr_free(line);
    if (!parts || argc == 0) {
        if (parts) kstr_free_split(parts, argc);
        *err = kstr_new("Invalid library metadata");
        return -1;
    }
    *engine = kstr_new(parts[0] + 2);
    *name = NULL;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!strncasecmp(parts[i], "name=", 5)) {
            if (*name) {
                *err = kstr_new("Invalid metadata value, name argument was given multiple times");
                rc = -1;
            } else {
                const char *v = parts[i] + 5;
                size_t vlen = strlen(v);
                if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') *name = kstr_new_len(v + 1, vlen - 2);
                else *name = kstr_new(v);
            }
        } else {
            *err = kstr_cat_printf(kstr_empty(), "Invalid metadata value given: %s", parts[i]);
            rc = -1;
        }
    }
    kstr_free_split(parts, argc);
    if (rc == 0 && !*name) {
        *err = kstr_new("Library name was not given");
        rc = -1;
    }
    if (rc < 0) {
        kstr_free(*engine);
        kstr_free(*name);
        *engine = *name = NULL;
    }
    *code_at = (size_t)(nl - code);
    return rc;
}

/* Run the library's top level so that it registers its functions. */
static int run_library_code(library *lib, const char *code, size_t len, kstr *err) {
    lua_State *L = vm->L;
    if (luavm_compile(vm, code, len, "@user_function", err) < 0) {
        kstr msg = kstr_cat_printf(kstr_empty(), "Error compiling function: %s", *err);
        kstr_free(*err);
        *err = msg;
        return -1;
    }
    loading = lib;
    load_start_us = monotonic_us();
    use_load_globals(L, 1);
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    int status = luavm_pcall(vm, 0, 0, 0);
    lua_sethook(L, NULL, 0, 0);
    use_load_globals(L, 0);
    loading = NULL;
    if (status == 0) return 0;
    const char *msg = NULL;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        msg = lua_tostring(L, -1);
        *err = kstr_cat_printf(kstr_empty(), "Error registering functions: %s", msg ? msg : "unknown error");
        lua_pop(L, 1);
    } else {
        msg = lua_tostring(L, -1);
        *err = kstr_cat_printf(kstr_empty(), "Error registering functions: ERR %s", msg ? msg : "unknown error");
    }
    lua_pop(L, 1);
    return -1;
}

kstr functions_create_library(const char *code, size_t len, int replace, kstr *err) {
    kstr engine = NULL, name = NULL;
    size_t code_at;
    if (parse_metadata(code, len, &engine, &name, &code_at, err) < 0) return NULL;
    library *old = NULL, *lib = NULL;
    if (!valid_name(name, kstr_len(name))) {
        *err = kstr_new("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
        goto fail;
    }
    if (strcasecmp(engine, "lua") != 0) {
        *err = kstr_cat_printf(kstr_empty(), "Engine '%s' not found", engine);
        goto fail;
    }
    old = find_library(name);
    if (old && !replace) {
        *err = kstr_cat_printf(kstr_empty(), "Library '%s' already exists", name);
        goto fail;
    }
    lib = zcalloc(sizeof(*lib));
    lib->name = kstr_dup(name);
    lib->code = kstr_new_len(code, len);
    if (run_library_code(lib, code + code_at, len - code_at, err) < 0) goto fail;
    if (lib->nfns == 0) {
        *err = kstr_new("No functions registered");
        goto fail;
    }
    for (int j = 0; j < lib->nfns; j++) {
        if (find_function(lib->fns[j].name, kstr_len(lib->fns[j].name), old)) {
            *err = kstr_cat_printf(kstr_empty(), "Function %s already exists", lib->fns[j].name);
            goto fail;
        }
    }
    if (old) {
        unlink_library(old);
        free_library(old);
    }
    link_library(lib);
    kstr_free(engine);
    return name;
fail:
    if (lib) free_library(lib);
    kstr_free(engine);
    kstr_free(name);
    return NULL;
}

void functions_flush(void) {
    for (int i = 0; i < nlibs; i++) free_library(libs[i]);
    nlibs = 0;
    luavm_free(vm);
    create_vm();
}

/* Take all libraries out (RESTORE keeps them to put back on failure). */
library **functions_detach_all(int *n) {
    library **all = libs;
    *n = nlibs;
    libs = NULL;
    nlibs = 0;
    return all;
}

void functions_reattach_all(library **all, int n, int free_them) {
    for (int i = 0; i < n; i++) {
        if (free_them) free_library(all[i]);
        else link_library(all[i]);
    }
    zfree(all);
}

void functions_delete_library(library *lib) {
    unlink_library(lib);
    free_library(lib);
}

library *functions_find_library(const char *name) { return find_library(name); }

/* ---- FCALL ---- */

static void fcall_generic(client *c, int ro) {
    function *f = find_function(c->argv[1], kstr_len(c->argv[1]), NULL);
    if (!f) {
        reply_error(c, "ERR Function not found");
        return;
    }
    long long numkeys;
    if (!parse_ll_msg(c, c->argv[2], &numkeys, "ERR Bad number of keys provided")) return;
    if (numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return;
    }
    script_run run;
    if (run_begin(&run, c, f->name, f->flags, ro, 0) < 0) return;
    lua_rawgeti(vm->L, LUA_REGISTRYINDEX, f->ref);
    int status = luavm_call(vm, 0, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys);
    if (status) lua_reply_error(c, vm->L, f->name, status);
    else lua_reply_value(c, vm->L, run.fake->resp);
    run_end(&run);
}

static void fcall_command(client *c) { fcall_generic(c, 0); }
static void fcall_ro_command(client *c) { fcall_generic(c, 1); }

int functions_request_script_flags(const client *c) {
    if (c->argc < 2) return SCRIPT_FLAG_EVAL_COMPAT;
    function *f = find_function(c->argv[1], kstr_len(c->argv[1]), NULL);
    return f ? f->flags : SCRIPT_FLAG_EVAL_COMPAT;
}

int functions_is_fcall(const command *cmd) { return cmd->proc == fcall_command || cmd->proc == fcall_ro_command; }

/* ---- FUNCTION ---- */

static void function_load_command(client *c) {
    int replace = 0, pos = 2;
    while (pos < c->argc - 1) {
        kstr a = c->argv[pos++];
        if (arg_is(a, "replace")) {
            replace = 1;
            continue;
        }
        reply_errorf(c, "ERR Unknown option given: %s", a);
        return;
    }
    if (pos >= c->argc) {
        reply_error(c, "ERR Function code is missing");
        return;
    }
    kstr err = NULL;
    kstr name = functions_create_library(c->argv[pos], kstr_len(c->argv[pos]), replace, &err);
    if (!name) {
        reply_errorf(c, "ERR %s", err);
        kstr_free(err);
        return;
    }
    reply_bulk(c, name, kstr_len(name));
    kstr_free(name);
}

static void reply_function(client *c, const function *f) {
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "name");
    reply_bulk(c, f->name, kstr_len(f->name));
    reply_bulk_cstr(c, "description");
    if (f->desc) reply_bulk(c, f->desc, kstr_len(f->desc));
    else reply_null(c);
    reply_bulk_cstr(c, "flags");
    const char *names[8];
    int n = script_flags_names(f->flags, names, 8);
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) reply_status(c, names[i]);
}

static void function_list_command(client *c) {
    int withcode = 0;
    kstr pattern = NULL;
    for (int i = 2; i < c->argc; i++) {
        if (arg_is(c->argv[i], "withcode") && !withcode) {
            withcode = 1;
        } else if (arg_is(c->argv[i], "libraryname") && !pattern) {
            if (i + 1 >= c->argc) {
                reply_error(c, "ERR library name argument was not given");
                return;
            }
            pattern = c->argv[++i];
        } else {
            reply_errorf(c, "ERR Unknown argument %s", c->argv[i]);
            return;
        }
    }
    void *node = reply_deferred_len(c);
    long n = 0;
    for (int i = 0; i < nlibs; i++) {
        library *lib = libs[i];
        if (pattern && !glob_match(pattern, kstr_len(pattern), lib->name, kstr_len(lib->name), 0)) continue;
        n++;
        reply_map_len(c, withcode ? 4 : 3);
        reply_bulk_cstr(c, "library_name");
        reply_bulk(c, lib->name, kstr_len(lib->name));
        reply_bulk_cstr(c, "engine");
        reply_bulk_cstr(c, "LUA");
        reply_bulk_cstr(c, "functions");
        reply_array_len(c, lib->nfns);
        for (int j = 0; j < lib->nfns; j++) reply_function(c, &lib->fns[j]);
        if (withcode) {
            reply_bulk_cstr(c, "library_code");
            reply_bulk(c, lib->code, kstr_len(lib->code));
        }
    }
    reply_set_deferred_array_len(c, node, n);
}

static void function_delete_command(client *c) {
    library *lib = find_library(c->argv[2]);
    if (!lib) {
        reply_error(c, "ERR Library not found");
        return;
    }
    functions_delete_library(lib);
    reply_ok(c);
}

static void function_flush_command(client *c) {
    if (c->argc > 3) {
        reply_error_subcommand_args(c);
        return;
    }
    if ((c->argc == 3 && !arg_is(c->argv[2], "sync") && !arg_is(c->argv[2], "async"))) {
        reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    functions_flush();
    reply_ok(c);
}

static void function_kill_command(client *c) { run_kill(c, 0); }

static void function_stats_command(client *c) {
    script_run *run = run_current();
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "running_script");
    if (!run || (run->flags & RUN_EVAL)) {
        reply_null(c);
    } else {
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, run->funcname);
        reply_bulk_cstr(c, "command");
        reply_array_len(c, run->caller->argc);
        for (int i = 0; i < run->caller->argc; i++) reply_bulk(c, run->caller->argv[i], kstr_len(run->caller->argv[i]));
        reply_bulk_cstr(c, "duration_ms");
        reply_ll(c, (monotonic_us() - run->start_us) / 1000);
    }
    size_t nlib, nfn, bytes;
    functions_counts(&nlib, &nfn, &bytes);
    reply_bulk_cstr(c, "engines");
    reply_map_len(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_ll(c, (long long)nlib);
    reply_bulk_cstr(c, "functions_count");
    reply_ll(c, (long long)nfn);
}

static void function_help_command(client *c) {
    static const char *const lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    reply_help(c, lines);
}

static command function_subcommands[] = {
    {"load", function_load_command, -3, "noscript write denyoom", 0, 0, 0, "scripting", "7.0.0", "Create a function with the given arguments (name, code, description)", NULL},
    {"list", function_list_command, -2, "noscript", 0, 0, 0, "scripting", "7.0.0", "List information about all the functions", NULL},
    {"delete", function_delete_command, 3, "noscript write", 0, 0, 0, "scripting", "7.0.0", "Delete a function by name", NULL},
    {"flush", function_flush_command, -2, "noscript write", 0, 0, 0, "scripting", "7.0.0", "Deleting all functions", NULL},
    {"kill", function_kill_command, 2, "noscript allow_busy", 0, 0, 0, "scripting", "7.0.0", "Kill the function currently in execution.", NULL},
    {"stats", function_stats_command, 2, "noscript allow_busy", 0, 0, 0, "scripting", "7.0.0", "Return information about the function currently running (name, description, duration)", NULL},
    {"dump", function_dump_command, 2, "noscript", 0, 0, 0, "scripting", "7.0.0", "Dump all functions into a serialized binary payload", NULL},
    {"restore", function_restore_command, -3, "noscript write denyoom", 0, 0, 0, "scripting", "7.0.0", "Restore all the functions on the given payload", NULL},
    {"help", function_help_command, 2, "loading stale", 0, 0, 0, "scripting", "7.0.0", "Show helpful text about the different subcommands", NULL},
    {0},
};

command function_commands[] = {
    {"fcall", fcall_command, -3, "noscript skip_monitor may_replicate no_mandatory_keys stale movablekeys", 0, 0, 0, "scripting", "7.0.0", "Invoke a function", NULL},
    {"fcall_ro", fcall_ro_command, -3, "noscript skip_monitor no_mandatory_keys stale readonly movablekeys", 0, 0, 0, "scripting", "7.0.0", "Invoke a read-only function", NULL},
    {"function", NULL, -2, "", 0, 0, 0, "scripting", "7.0.0", "A container for function commands", function_subcommands},
    {0},
};
