/* bitmap commands: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"

command bitmap_commands[] = {{0}};
