/*
 * function_dump: FUNCTION DUMP and FUNCTION RESTORE. Not written yet:
 * both answer an error rather than produce a payload Redis could not read.
 */
#include "script/functions.h"
#include "net/reply.h"

void function_dump_command(client *c) { reply_error(c, "ERR FUNCTION DUMP is not supported by Keel yet"); }

void function_restore_command(client *c) { reply_error(c, "ERR FUNCTION RESTORE is not supported by Keel yet"); }
