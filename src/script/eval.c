/*
 * eval: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, over the EVAL
 * interpreter.
 *
 * The script cache maps a body's SHA-1 to its compiled function, kept in
 * the interpreter's registry (so a cached script costs one table lookup
 * per EVALSHA) with its flags beside it. A script's first line may be a
 * shebang, "#!lua flags=no-writes,allow-oom", which switches it out of
 * the EVAL compatibility mode: its flags then decide what dispatch
 * checks (script_request_flags) and what the script may do.
 */
#include "script/script.h"
#include "script/lua_reply.h"
#include "script/lua_vm.h"
#include "script/run.h"
#include "core/cmdutil.h"
#include "core/server.h"
#include "lib/sha1.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <lauxlib.h>
#include <string.h>
#include <strings.h>

#define REG_SCRIPTS "keel.scripts" /* sha -> function */
#define REG_FLAGS "keel.script_flags" /* sha -> flags */

static luavm *vm;
static size_t scripts_bytes, scripts_count;

static void create_vm(void) {
    vm = luavm_create(0);
    lua_newtable(vm->L);
    lua_setfield(vm->L, LUA_REGISTRYINDEX, REG_SCRIPTS);
    lua_newtable(vm->L);
    lua_setfield(vm->L, LUA_REGISTRYINDEX, REG_FLAGS);
    scripts_bytes = scripts_count = 0;
}

void eval_init(void) { create_vm(); }

size_t eval_vm_memory(void) { return vm ? vm->used : 0; }
void eval_cache_figures(size_t *bytes, size_t *count) {
    *bytes = scripts_bytes;
    *count = scripts_count;
}

/* The flags a shebang declares; SCRIPT_FLAG_EVAL_COMPAT without one.
 * *body_skip is the shebang's length (the line feed stays, so that line
 * numbers in errors are the user's). -1 with *err on a bad shebang. */
static int shebang_flags(const char *body, size_t len, size_t *body_skip, kstr *err) {
    *body_skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return SCRIPT_FLAG_EVAL_COMPAT;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        *err = kstr_new("Invalid script shebang");
        return -1;
    }
    kstr line = kstr_new_len(body, (size_t)(nl - body));
    int argc = 0;
    kstr *parts = kstr_split_args(line, &argc);
    kstr_free(line);
    int flags = 0;
    if (!parts || argc == 0) {
        *err = kstr_new("Invalid engine in script shebang");
        flags = -1;
    } else if (strcmp(parts[0], "#!lua") != 0) {
        *err = kstr_cat_printf(kstr_empty(), "Unexpected engine in script shebang: %s", parts[0]);
        flags = -1;
    }
    for (int j = 1; j < argc && flags >= 0; j++) {
        if (!strncmp(parts[j], "flags=", 6)) {
            int f = script_flags_parse(parts[j] + 6, kstr_len(parts[j]) - 6, err);
            flags = f < 0 ? -1 : flags | f;
        } else {
            *err = kstr_cat_printf(kstr_empty(), "Unknown lua shebang option: %s", parts[j]);
            flags = -1;
        }
    }
    if (parts) kstr_free_split(parts, argc);
    *body_skip = (size_t)(nl - body);
    return flags;
}

/* Push the cached function of sha; 0 if there is none (nothing pushed). */
static int push_cached(const char *sha, int *flags) {
    lua_State *L = vm->L;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_SCRIPTS);
    lua_getfield(L, -1, sha);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 2);
        return 0;
    }
    lua_remove(L, -2);
    if (flags) {
        lua_getfield(L, LUA_REGISTRYINDEX, REG_FLAGS);
        lua_getfield(L, -1, sha);
        *flags = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    return 1;
}

/* Compile body and cache it under sha. Returns 0, or -1 with the error
 * replied to c. */
static int cache_script(client *c, const char *sha, const char *body, size_t len) {
    kstr err = NULL;
    size_t skip;
    int flags = shebang_flags(body, len, &skip, &err);
    if (flags < 0) {
        reply_errorf(c, "ERR %s", err);
        kstr_free(err);
        return -1;
    }
    if (luavm_compile(vm, body + skip, len - skip, "@user_script", &err) < 0) {
        reply_errorf(c, "ERR Error compiling script (new function): %s", err);
        kstr_free(err);
        return -1;
    }
    lua_State *L = vm->L;
    lua_getfield(L, LUA_REGISTRYINDEX, REG_SCRIPTS);
    lua_insert(L, -2);
    lua_setfield(L, -2, sha);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_FLAGS);
    lua_pushinteger(L, flags);
    lua_setfield(L, -2, sha);
    lua_pop(L, 1);
    scripts_bytes += len;
    scripts_count++;
    return 0;
}

static void sha_of_arg(const kstr arg, char sha[41]) {
    size_t n = kstr_len(arg) < 40 ? kstr_len(arg) : 40;
    for (size_t i = 0; i < n; i++) sha[i] = (char)((arg[i] >= 'A' && arg[i] <= 'Z') ? arg[i] + 32 : arg[i]);
    sha[n] = '\0';
}

static int parse_numkeys(client *c, long long *numkeys) {
    if (!parse_ll(c, c->argv[2], numkeys)) return 0;
    if (*numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return 0;
    }
    if (*numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return 0;
    }
    return 1;
}

static void eval_generic(client *c, int evalsha, int ro) {
    long long numkeys;
    if (!parse_numkeys(c, &numkeys)) return;
    char sha[41];
    int flags = 0;
    if (evalsha) {
        sha_of_arg(c->argv[1], sha);
        if (kstr_len(c->argv[1]) != 40 || !push_cached(sha, &flags)) {
            reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        sha1_hex(c->argv[1], kstr_len(c->argv[1]), sha);
        if (!push_cached(sha, &flags)) {
            if (cache_script(c, sha, c->argv[1], kstr_len(c->argv[1])) < 0) return;
            push_cached(sha, &flags);
        }
    }
    /* Errors name the script by its SHA-1, as Redis's do. */
    const char *funcname = sha;
    script_run run;
    if (run_begin(&run, c, funcname, flags, ro, 1) < 0) {
        lua_pop(vm->L, 1);
        return;
    }
    int status = luavm_call(vm, 1, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys);
    if (status) lua_reply_error(c, vm->L, funcname, status);
    else lua_reply_value(c, vm->L, run.fake->resp);
    run_end(&run);
}

static void eval_command(client *c) { eval_generic(c, 0, 0); }
static void eval_ro_command(client *c) { eval_generic(c, 0, 1); }
static void evalsha_command(client *c) { eval_generic(c, 1, 0); }
static void evalsha_ro_command(client *c) { eval_generic(c, 1, 1); }

/* Script flags of an EVAL/EVALSHA request, for dispatch. */
int eval_request_script_flags(const client *c, int evalsha) {
    if (c->argc < 2) return SCRIPT_FLAG_EVAL_COMPAT;
    if (evalsha) {
        char sha[41];
        int flags = SCRIPT_FLAG_EVAL_COMPAT;
        sha_of_arg(c->argv[1], sha);
        if (kstr_len(c->argv[1]) == 40 && push_cached(sha, &flags)) lua_pop(vm->L, 1);
        return flags;
    }
    kstr err = NULL;
    size_t skip;
    int flags = shebang_flags(c->argv[1], kstr_len(c->argv[1]), &skip, &err);
    kstr_free(err);
    return flags < 0 ? SCRIPT_FLAG_EVAL_COMPAT : flags;
}

int eval_is_command(const command *cmd, int *evalsha) {
    *evalsha = cmd->proc == evalsha_command || cmd->proc == evalsha_ro_command;
    return *evalsha || cmd->proc == eval_command || cmd->proc == eval_ro_command;
}

/* ---- SCRIPT ---- */

static void script_load_command(client *c) {
    char sha[41];
    sha1_hex(c->argv[2], kstr_len(c->argv[2]), sha);
    if (!push_cached(sha, NULL)) {
        if (cache_script(c, sha, c->argv[2], kstr_len(c->argv[2])) < 0) return;
    } else {
        lua_pop(vm->L, 1);
    }
    reply_bulk(c, sha, 40);
}

static void script_exists_command(client *c) {
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        char sha[41];
        sha_of_arg(c->argv[j], sha);
        int found = kstr_len(c->argv[j]) == 40 && push_cached(sha, NULL);
        if (found) lua_pop(vm->L, 1);
        reply_ll(c, found);
    }
}

static void script_flush_command(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_is(c->argv[2], "sync") && !arg_is(c->argv[2], "async"))) {
        reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    /* The interpreter is small: freeing it at once is as fast as handing
     * it to another thread, so ASYNC and SYNC do the same. */
    luavm_free(vm);
    create_vm();
    reply_ok(c);
}

static void script_kill_command(client *c) { run_kill(c, 1); }

static void script_debug_command(client *c) {
    if (arg_is(c->argv[2], "no")) {
        reply_ok(c);
        return;
    }
    if (arg_is(c->argv[2], "yes") || arg_is(c->argv[2], "sync")) {
        reply_error(c, "ERR SCRIPT DEBUG (the Lua debugger) is not supported by Keel");
        return;
    }
    reply_error(c, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

static void script_help_command(client *c) {
    static const char *const lines[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed (only NO is supported by Keel).",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL,
    };
    reply_help(c, lines);
}

static command script_subcommands[] = {
    {"load", script_load_command, 3, "noscript stale", 0, 0, 0, "scripting", "2.6.0", "Load the specified Lua script into the script cache.", NULL},
    {"exists", script_exists_command, -3, "noscript", 0, 0, 0, "scripting", "2.6.0", "Check existence of scripts in the script cache.", NULL},
    {"flush", script_flush_command, -2, "noscript", 0, 0, 0, "scripting", "2.6.0", "Remove all the scripts from the script cache.", NULL},
    {"kill", script_kill_command, 2, "noscript allow_busy", 0, 0, 0, "scripting", "2.6.0", "Kill the script currently in execution.", NULL},
    {"debug", script_debug_command, 3, "noscript", 0, 0, 0, "scripting", "3.2.0", "Set the debug mode for executed scripts.", NULL},
    {"help", script_help_command, 2, "loading stale", 0, 0, 0, "scripting", "5.0.0", "Show helpful text about the different subcommands", NULL},
    {0},
};

command eval_commands[] = {
    {"eval", eval_command, -3, "noscript skip_monitor may_replicate no_mandatory_keys stale movablekeys", 0, 0, 0, "scripting", "2.6.0", "Execute a Lua script server side", NULL},
    {"evalsha", evalsha_command, -3, "noscript skip_monitor may_replicate no_mandatory_keys stale movablekeys", 0, 0, 0, "scripting", "2.6.0", "Execute a Lua script server side", NULL},
    {"eval_ro", eval_ro_command, -3, "noscript skip_monitor no_mandatory_keys stale readonly movablekeys", 0, 0, 0, "scripting", "7.0.0", "Execute a read-only Lua script server side", NULL},
    {"evalsha_ro", evalsha_ro_command, -3, "noscript skip_monitor no_mandatory_keys stale readonly movablekeys", 0, 0, 0, "scripting", "7.0.0", "Execute a read-only Lua script server side", NULL},
    {"script", NULL, -2, "", 0, 0, 0, "scripting", "2.6.0", "A container for Lua scripts management commands", script_subcommands},
    {0},
};
