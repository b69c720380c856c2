/*
 * lua_api: the redis table scripts call: call, pcall, error_reply,
 * status_reply, sha1hex, log, setresp, set_repl, replicate_commands,
 * breakpoint, debug, acl_check_cmd and the constants, with Redis 7's
 * argument checks and error texts. redis.call's command runs through
 * run.h (the same checks and command_call as a client's command); its
 * reply is read back from the fake client and converted by lua_reply.h.
 */
#include "acl/acl.h"
#include "script/lua_vm.h"
#include "script/lua_reply.h"
#include "script/run.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/sha1.h"
#include "lib/zmalloc.h"
#include "net/client.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int raise_msg(lua_State *L, const char *msg) {
    luavm_push_error(L, msg);
    return lua_error(L);
}

/* The arguments of redis.call as command arguments; NULL (with the error
 * pushed) when one is neither a string nor a number. */
static kstr *args_to_argv(lua_State *L, int argc) {
    kstr *argv = zmalloc(sizeof(kstr) * (size_t)argc);
    for (int j = 0; j < argc; j++) {
        int t = lua_type(L, j + 1);
        if (t == LUA_TNUMBER) {
            /* The shortest text that reads back as the same double, as
             * Redis 7.0 writes numbers (Lua's own keeps 14 digits). */
            double v = (double)lua_tonumber(L, j + 1);
            char buf[64];
            int n = 0;
            for (int prec = 15; prec <= 17; prec++) {
                n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
                if (strtod(buf, NULL) == v) break;
            }
            argv[j] = kstr_new_len(buf, (size_t)n);
        } else if (t == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, j + 1, &len);
            argv[j] = kstr_new_len(s, len);
        } else {
            for (int i = 0; i < j; i++) kstr_free(argv[i]);
            zfree(argv);
            luavm_push_error(L, "Lua redis lib command arguments must be strings or integers");
            return NULL;
        }
    }
    return argv;
}

/* Push the fake client's reply as a Lua value and drop it from the
 * client. Returns 1 when it is an error reply. */
static int take_reply(lua_State *L, client *fake) {
    reply_block *b = fake->reply_head;
    int is_error = 0;
    if (b && !b->next) {
        is_error = b->used && b->data[0] == '-';
        if (lua_push_resp(L, b->data, b->used) < 0) lua_pushboolean(L, 0);
    } else if (b) {
        kstr all = kstr_empty();
        for (; b; b = b->next) all = kstr_cat_len(all, b->data, b->used);
        is_error = kstr_len(all) && all[0] == '-';
        if (lua_push_resp(L, all, kstr_len(all)) < 0) lua_pushboolean(L, 0);
        kstr_free(all);
    } else {
        lua_pushboolean(L, 0);
    }
    client_discard_replies(fake);
    return is_error;
}

/* The error on top of the stack was already counted in INFO errorstats
 * (where the command failed or was refused): the script's own error
 * reply must not count it again. */
static void mark_counted(lua_State *L) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
}

static int generic_call(lua_State *L, int raise) {
    script_run *run = run_current();
    if (!run) return raise_msg(L, "redis.call/pcall can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) {
        luavm_push_error(L, "Please specify at least one argument for this redis lib call");
        return raise ? lua_error(L) : 1;
    }
    kstr *argv = args_to_argv(L, argc);
    if (!argv) return raise ? lua_error(L) : 1;
    kstr err = NULL;
    if (run_command(run, argc, argv, &err) < 0) {
        luavm_push_error(L, err);
        kstr_free(err);
        mark_counted(L);
        return raise ? lua_error(L) : 1;
    }
    int is_error = take_reply(L, run->fake);
    if (is_error && lua_istable(L, -1)) mark_counted(L);
    if (is_error && raise) return lua_error(L);
    return 1;
}

static int redis_call(lua_State *L) { return generic_call(L, 1); }
static int redis_pcall(lua_State *L) { return generic_call(L, 0); }

static int redis_sha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) return raise_msg(L, "wrong number of arguments");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    char hex[41];
    sha1_hex(s ? s : "", s ? len : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int redis_error_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) return raise_msg(L, "wrong number or type of arguments");
    const char *msg = lua_tostring(L, -1);
    if (msg[0] == '-') {
        luavm_push_error(L, msg);
    } else {
        lua_pushfstring(L, "-%s", msg);
        luavm_push_error(L, lua_tostring(L, -1));
    }
    return 1;
}

static int redis_status_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) return raise_msg(L, "wrong number or type of arguments");
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int redis_log(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc < 2) return raise_msg(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return raise_msg(L, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < LOG_DEBUG || level > LOG_WARNING) return raise_msg(L, "Invalid debug level.");
    if (level < server.verbosity) return 0;
    kstr msg = kstr_empty();
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (j != 2) msg = kstr_cat_len(msg, " ", 1);
        msg = kstr_cat_len(msg, s, len);
    }
    server_log(level, "%s", msg);
    kstr_free(msg);
    return 0;
}

static int redis_setresp(lua_State *L) {
    script_run *run = run_current();
    if (!run) return raise_msg(L, "redis.setresp can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_msg(L, "redis.setresp() requires one argument.");
    int resp = (int)lua_tonumber(L, 1);
    if (resp != 2 && resp != 3) return raise_msg(L, "RESP version must be 2 or 3.");
    run->fake->resp = resp;
    return 0;
}

static int redis_set_repl(lua_State *L) {
    if (!run_current()) return raise_msg(L, "redis.set_repl can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_msg(L, "redis.set_repl() requires two arguments.");
    int flags = (int)lua_tonumber(L, 1);
    if (flags & ~3) return raise_msg(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    /* Accepted; Keel has no replication to select yet. */
    return 0;
}

static int redis_replicate_commands(lua_State *L) {
    lua_pushboolean(L, 1);
    return 1;
}

static int redis_breakpoint(lua_State *L) {
    lua_pushboolean(L, 0);
    return 1;
}

static int redis_debug(lua_State *L) {
    (void)L;
    return 0;
}

static int redis_acl_check_cmd(lua_State *L) {
    if (!run_current()) return raise_msg(L, "redis.acl_check_cmd can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) return raise_msg(L, "Please specify at least one argument for this redis lib call");
    kstr *argv = args_to_argv(L, argc);
    if (!argv) return lua_error(L);
    command *cmd = command_lookup_argv(argc, argv);
    int ok = cmd && (cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity);
    int allowed = ok && acl_user_may_run(run_current()->caller, cmd, argc, argv);
    for (int i = 0; i < argc; i++) kstr_free(argv[i]);
    zfree(argv);
    if (!ok) return raise_msg(L, "Invalid command passed to redis.acl_check_cmd()");
    lua_pushboolean(L, allowed); /* the caller's user, nothing logged */
    return 1;
}

static void set_number(lua_State *L, const char *name, lua_Number v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void set_function(lua_State *L, const char *name, lua_CFunction f) {
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
}

void lua_api_register(luavm *vm) {
    lua_State *L = vm->L;
    lua_newtable(L);
    set_function(L, "call", redis_call);
    set_function(L, "pcall", redis_pcall);
    set_function(L, "sha1hex", redis_sha1hex);
    set_function(L, "error_reply", redis_error_reply);
    set_function(L, "status_reply", redis_status_reply);
    set_function(L, "log", redis_log);
    set_function(L, "setresp", redis_setresp);
    set_function(L, "set_repl", redis_set_repl);
    set_function(L, "replicate_commands", redis_replicate_commands);
    set_function(L, "breakpoint", redis_breakpoint);
    set_function(L, "debug", redis_debug);
    set_function(L, "acl_check_cmd", redis_acl_check_cmd);
    set_number(L, "LOG_DEBUG", LOG_DEBUG);
    set_number(L, "LOG_VERBOSE", LOG_VERBOSE);
    set_number(L, "LOG_NOTICE", LOG_NOTICE);
    set_number(L, "LOG_WARNING", LOG_WARNING);
    set_number(L, "REPL_NONE", 0);
    set_number(L, "REPL_AOF", 1);
    set_number(L, "REPL_SLAVE", 2);
    set_number(L, "REPL_REPLICA", 2);
    set_number(L, "REPL_ALL", 3);
    lua_pushstring(L, KEEL_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    int major = 0, minor = 0, patch = 0;
    sscanf(KEEL_VERSION, "%d.%d.%d", &major, &minor, &patch);
    set_number(L, "REDIS_VERSION_NUM", (major << 16) | (minor << 8) | patch);
    if (vm->functions) functions_register_api(L);
    lua_setglobal(L, "redis");
}
