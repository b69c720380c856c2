/*
 * script: Lua scripting (EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL), seen
 * from the rest of the server. Everything else of the subsystem is
 * private to src/script/.
 */
#ifndef KEEL_SCRIPT_H
#define KEEL_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include "core/command.h"
#include "lib/kstr.h"
#include "net/client.h"

/* Start-up: create the interpreters. */
void script_init(void);

/* Dispatch: while a script runs past busy-reply-threshold, every other
 * command without allow_busy is refused with -BUSY. Returns 1 when c's
 * command was refused (the error is replied). */
int script_busy_reject(client *c, const command *cmd);
/* A script has run past busy-reply-threshold and is being waited for. */
int script_is_busy(void);
/* The -BUSY error of the running script (EVAL or function). */
const char *script_busy_error(void);

/* The flags of the request in c->argv for cmd: cmd->flags, except for
 * EVAL/EVALSHA/FCALL whose script declares flags (a shebang or
 * register_function): no-writes drops write and denyoom, as Redis 7
 * does, so such scripts run under OOM and CLIENT PAUSE WRITE. */
uint64_t script_request_flags(const client *c, const command *cmd);

/* Memory figures for INFO memory and MEMORY STATS. */
typedef struct script_memory {
    size_t vm_eval;         /* used_memory_vm_eval (used_memory_lua) */
    size_t vm_functions;    /* used_memory_vm_functions */
    size_t scripts_eval;    /* used_memory_scripts_eval: cached script bodies */
    size_t functions_caches;/* used_memory_functions_caches */
    size_t cached_scripts;  /* number_of_cached_scripts */
    size_t functions, libraries;
} script_memory;
void script_memory_get(script_memory *m);
/* The scripting lines of INFO memory, in Redis's order, appended to s. */
kstr script_memory_info(kstr s);

/* DEBUG SET-DISABLE-DENY-SCRIPTS: let scripts run no-script commands. */
void script_set_disable_deny(int on);
/* A script is running (its inner commands keep the script's start time
 * as their command time, so a key cannot expire half-way through). */
int script_is_running(void);

/* Function libraries in snapshots: RDB files and AOF bases carry each
 * library's code (RDB opcode FUNCTION2, or FUNCTION LOAD commands), as
 * Redis 7.0 does. A loader takes the current libraries out first, loads
 * the file's, and on failure puts the old ones back. */
int script_library_count(void);
const char *script_library_code(int i, size_t *len);
/* FUNCTION LOAD [REPLACE]'s work; on failure err gets the reason. */
int script_library_load(const char *code, size_t len, int replace, char *err, size_t errlen);
typedef struct script_libraries script_libraries;
script_libraries *script_libraries_detach(void);
/* Drop the libraries loaded since the detach and reattach the saved ones. */
void script_libraries_restore(script_libraries *saved);
void script_libraries_free(script_libraries *saved);

extern command eval_commands[];
extern command function_commands[];

#endif
