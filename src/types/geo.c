/* geo commands: not implemented yet (placeholder so the tree builds). */
#include "core/command.h"

command geo_commands[] = {{0}};
