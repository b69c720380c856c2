/*
 * info: the INFO command's text. Each section is a function producing
 * "field:value" lines with Redis's field names, so that redis-cli,
 * exporters and dashboards built for Redis read Keel unchanged.
 */
#ifndef KEEL_INFO_H
#define KEEL_INFO_H

#include "lib/kstr.h"
#include "net/client.h"

/* Sections as INFO's arguments name them (argv[1..argc), may be empty). */
kstr info_generate(client *c, int argc, char **argv);

#endif
