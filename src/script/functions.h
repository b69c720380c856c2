/*
 * functions (internal to src/script): the libraries and functions of
 * Redis 7 Functions, shared by functions.c (LOAD, FCALL, LIST, ...) and
 * function_dump.c (DUMP, RESTORE).
 */
#ifndef KEEL_SCRIPT_FUNCTIONS_H
#define KEEL_SCRIPT_FUNCTIONS_H

#include <stddef.h>
#include "core/command.h"
#include "lib/kstr.h"
#include "net/client.h"

struct library;

typedef struct function {
    kstr name;
    kstr desc;              /* NULL if none */
    int flags;              /* SCRIPT_FLAG_* */
    int ref;                /* the callback, in the interpreter's registry */
    struct library *lib;
} function;

typedef struct library {
    kstr name;
    kstr code;              /* as loaded, shebang included */
    function *fns;
    int nfns;
} library;

void functions_init(void);
size_t functions_vm_memory(void);
void functions_counts(size_t *nlib, size_t *nfn, size_t *code_bytes);
int functions_library_count(void);
library *functions_library(int i);
library *functions_find_library(const char *name);

/* FUNCTION LOAD's work: returns the library's name (caller frees), or
 * NULL with *err (no "ERR" code) set. */
kstr functions_create_library(const char *code, size_t len, int replace, kstr *err);
void functions_delete_library(library *lib);
void functions_flush(void);
library **functions_detach_all(int *n);
void functions_reattach_all(library **all, int n, int free_them);

int functions_request_script_flags(const client *c);
int functions_is_fcall(const command *cmd);

/* function_dump.c */
void function_dump_command(client *c);
void function_restore_command(client *c);

extern command function_commands[];

#endif
