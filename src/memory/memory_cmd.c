/* MEMORY command: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"

command memory_commands[] = {{0}};
