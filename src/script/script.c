/* See script.h: the subsystem's face to the rest of the server. */
#include "script/script.h"
#include "script/functions.h"
#include "script/run.h"

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
