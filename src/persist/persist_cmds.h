/* persist_cmds: the command tables of the persistence module (SAVE in
 * save.c; DUMP, RESTORE in dump.c), for core/command.c's list. */
#ifndef KEEL_PERSIST_CMDS_H
#define KEEL_PERSIST_CMDS_H

#include "core/command.h"

extern command persist_commands[];
extern command dump_commands[];

#endif
