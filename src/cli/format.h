/*
 * format: a reply tree rendered as text, byte for byte as redis-cli 7.0
 * renders it in each output mode (the --json form is Redis 7.4's, which is
 * 7.0's too).
 *
 * Modes: STANDARD is the terminal form ("(integer) 1", numbered nested
 * arrays, "1# key => value" maps, "1~" sets); RAW prints bare values with
 * -d between elements (the default when stdout is not a terminal); CSV and
 * JSON / QUOTED_JSON print one line per reply.
 */
#ifndef KEEL_CLI_FORMAT_H
#define KEEL_CLI_FORMAT_H

#include "buf.h"
#include "lib/resp_reader.h"

enum cli_output {
    OUTPUT_STANDARD,
    OUTPUT_RAW,
    OUTPUT_CSV,
    OUTPUT_JSON,
    OUTPUT_QUOTED_JSON,
};

/* The whole printed form of one reply in mode `mode`, its trailing newline
 * (or -D delimiter in RAW) included. verbatim: the reply of a command whose
 * text is shown unquoted and as is (INFO, CLIENT LIST, ...): raw form with
 * no delimiter added. mb_delim is -d (between elements in RAW), cmd_delim
 * -D (after each reply in RAW). */
void format_reply(cli_buf *out, const rr_reply *r, enum cli_output mode,
                  int verbatim, const char *mb_delim, const char *cmd_delim);

/* The terminal form of a RESP3 client-tracking "invalidate" push:
 * "-> invalidate: 'k1', 'k2'" (returns 0 when r is not one). */
int format_invalidate(cli_buf *out, const rr_reply *r);

/* Pieces, for modes that print replies their own way. */
void format_tty(cli_buf *out, const rr_reply *r, const char *prefix);
void format_raw(cli_buf *out, const rr_reply *r, const char *mb_delim);
void format_csv(cli_buf *out, const rr_reply *r);
void format_json(cli_buf *out, const rr_reply *r, enum cli_output mode);

/* Does the command's reply print as verbatim text (INFO, LOLWUT, CLIENT
 * LIST, MEMORY DOCTOR, ...), as redis-cli decides by the command's name. */
int format_command_is_verbatim(int argc, char **argv);

#endif
