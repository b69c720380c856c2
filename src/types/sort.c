/* sort commands: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"

command sort_commands[] = {{0}};
