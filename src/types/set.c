/* set type: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"
#include "types/types.h"

command set_commands[] = {{0}};
const type_ops set_type_ops = {.name = "set"};
