/* hll commands: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"

command hll_commands[] = {{0}};
