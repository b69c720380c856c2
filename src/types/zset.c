/* zset type: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"
#include "types/types.h"

command zset_commands[] = {{0}};
const type_ops zset_type_ops = {.name = "zset"};
