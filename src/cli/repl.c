/* placeholder replaced below */
#include "modes.h"
int repl_run(cli_opts *o) { (void)o; return 0; }
int mode_repl(cli_ctx *ctx) { return repl_run(ctx->opts); }
