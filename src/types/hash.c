/* hash type: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"
#include "types/types.h"

command hash_commands[] = {{0}};
const type_ops hash_type_ops = {.name = "hash"};
