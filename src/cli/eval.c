/*
 * eval: --eval FILE [key ...] [, arg ...], redis-cli's way of running a
 * Lua script kept in a file: EVAL with the file's text, the words before a
 * lone "," as keys and those after it as arguments, the reply printed as
 * any command's. (The script debugger, --ldb, is not built.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"

static const char *eval_file;

static int opt_eval(cli_opts *o, const char *a) {
    eval_file = a;
    return cli_select_mode(o, mode_eval, "--eval", 0);
}

const cli_option eval_options[] = {
    {"--eval", 1, opt_eval, "<file>      Run a Lua script from a file: keel-cli --eval f.lua k1 k2 , a1 a2"},
    {NULL, 0, NULL, NULL},
};

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "Can't open file '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    cli_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return buf_take(&b);
}

int mode_eval(cli_ctx *ctx) {
    size_t script_len;
    char *script = read_file(eval_file, &script_len);
    if (!script) return 1;
    char **argv = cli_xmalloc(sizeof(char *) * (size_t)(ctx->argc + 3));
    size_t *lens = cli_xmalloc(sizeof(size_t) * (size_t)(ctx->argc + 3));
    char numkeys[24];
    int argc = 3, keys = 0, comma = 0;
    for (int i = 0; i < ctx->argc; i++) {
        if (!comma && !strcmp(ctx->argv[i], ",")) {
            comma = 1;
            continue;
        }
        argv[argc] = ctx->argv[i];
        lens[argc++] = strlen(ctx->argv[i]);
        if (!comma) keys++;
    }
    snprintf(numkeys, sizeof(numkeys), "%d", keys);
    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = script;
    lens[1] = script_len;
    argv[2] = numkeys;
    lens[2] = strlen(numkeys);
    int rc = cli_issue_command(ctx, argc, argv, lens, 1);
    free(argv);
    free(lens);
    free(script);
    return rc == 0 ? 0 : 1;
}
