/* list type: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"
#include "types/types.h"

command list_commands[] = {{0}};
const type_ops list_type_ops = {.name = "list"};
