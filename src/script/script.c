/* See script.h: the subsystem's face to the rest of the server. */
#include "script/script.h"
#include "script/functions.h"
#include "script/run.h"
#include "script/lua_vm.h"
#include "core/config.h"
#include "lib/util.h"

/* busy-reply-threshold (Redis 7's name; lua-time-limit is the older one)
 * and Keel's lua-memory-limit: the most memory each Lua interpreter may
 * hold (0: no limit). Redis has no such limit: an allocation bomb there
 * takes the server down. */
config_entry script_configs[] = {
    CONFIG_LL("busy-reply-threshold", &run_busy_threshold_ms, "5000", 0, 1LL << 40, 0, NULL, .alias = "lua-time-limit"),
    CONFIG_MEMORY("lua-memory-limit", &luavm_memory_limit, "1gb", 0, 1LL << 50, 0, NULL),
    CONFIG_END,
};

void eval_init(void);
size_t eval_vm_memory(void);
void eval_cache_figures(size_t *bytes, size_t *count);
int eval_request_script_flags(const client *c, int evalsha);
int eval_is_command(const command *cmd, int *evalsha);

void script_init(void) {
    eval_init();
    functions_init();
}

/* Redis 7's scriptFlagsToCmdFlags: declared flags replace the command's
 * write, denyoom and stale flags, and may_replicate is dropped. */
uint64_t script_request_flags(const client *c, const command *cmd) {
    int evalsha, sflags;
    if (eval_is_command(cmd, &evalsha)) sflags = eval_request_script_flags(c, evalsha);
    else if (functions_is_fcall(cmd)) sflags = functions_request_script_flags(c);
    else return cmd->flags;
    if (sflags & SCRIPT_FLAG_EVAL_COMPAT) return cmd->flags;
    uint64_t flags = cmd->flags & ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
    if (!(sflags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) flags |= CMD_DENYOOM;
    if (!(sflags & SCRIPT_FLAG_NO_WRITES)) flags |= CMD_WRITE;
    if (sflags & SCRIPT_FLAG_ALLOW_STALE) flags |= CMD_STALE;
    return flags;
}

void script_memory_get(script_memory *m) {
    m->vm_eval = eval_vm_memory();
    m->vm_functions = functions_vm_memory();
    eval_cache_figures(&m->scripts_eval, &m->cached_scripts);
    size_t bytes;
    functions_counts(&m->libraries, &m->functions, &bytes);
    m->functions_caches = bytes;
}

kstr script_memory_info(kstr s) {
    script_memory m;
    script_memory_get(&m);
    char eval_h[32], total_h[32], scripts_h[32];
    size_t total = m.vm_eval + m.vm_functions, scripts = m.scripts_eval + m.functions_caches;
    bytes_to_human(eval_h, sizeof(eval_h), m.vm_eval);
    bytes_to_human(total_h, sizeof(total_h), total);
    bytes_to_human(scripts_h, sizeof(scripts_h), scripts);
    return kstr_cat_printf(s,
                           "used_memory_lua:%zu\r\n"
                           "used_memory_vm_eval:%zu\r\n"
                           "used_memory_lua_human:%s\r\n"
                           "used_memory_scripts_eval:%zu\r\n"
                           "number_of_cached_scripts:%zu\r\n"
                           "number_of_functions:%zu\r\n"
                           "number_of_libraries:%zu\r\n"
                           "used_memory_vm_functions:%zu\r\n"
                           "used_memory_vm_total:%zu\r\n"
                           "used_memory_vm_total_human:%s\r\n"
                           "used_memory_functions:%zu\r\n"
                           "used_memory_scripts:%zu\r\n"
                           "used_memory_scripts_human:%s\r\n",
                           m.vm_eval, m.vm_eval, eval_h, m.scripts_eval, m.cached_scripts, m.functions, m.libraries,
                           m.vm_functions, total, total_h, m.functions_caches, scripts, scripts_h);
}
