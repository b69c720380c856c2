/*
 * persist/crc64.h: the RDB and DUMP checksum is lib/crc64.h's CRC-64
 * (Jones, slicing by 8); this name stays for the persistence modules.
 */
#ifndef KEEL_PERSIST_CRC64_H
#define KEEL_PERSIST_CRC64_H

#include "lib/crc64.h"

#endif
