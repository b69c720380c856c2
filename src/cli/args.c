/*
 * args: splitting a typed line into arguments (see options.h).
 *
 * The same rules as redis-cli's prompt and Redis's config file, so that a
 * line pasted from one works in the other: a closing quote must be followed
 * by a blank or the end of the line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static int hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static char unescape(char c) {
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
    }
}

/* One argument starting at *pp: appended to cur. 0, or -1 when quotes are
 * unbalanced or a closing quote is glued to the next word. */
static int read_arg(const char **pp, cli_buf *cur) {
    const char *p = *pp;
    int inq = 0, insq = 0;
    for (;;) {
        if (inq) {
            if (!*p) return -1;
            if (p[0] == '\\' && p[1] == 'x' && hex_digit(p[2]) >= 0 && hex_digit(p[3]) >= 0) {
                char c = (char)(hex_digit(p[2]) * 16 + hex_digit(p[3]));
                buf_append(cur, &c, 1);
                p += 3;
            } else if (p[0] == '\\' && p[1]) {
                char c = unescape(*++p);
                buf_append(cur, &c, 1);
            } else if (*p == '"') {
                if (p[1] && !isspace((unsigned char)p[1])) return -1;
                p++;
                break;
            } else {
                buf_append(cur, p, 1);
            }
        } else if (insq) {
            if (!*p) return -1;
            if (p[0] == '\\' && p[1] == '\'') {
                buf_append(cur, "'", 1);
                p++;
            } else if (*p == '\'') {
                if (p[1] && !isspace((unsigned char)p[1])) return -1;
                p++;
                break;
            } else {
                buf_append(cur, p, 1);
            }
        } else {
            if (!*p || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') break;
            if (*p == '"') inq = 1;
            else if (*p == '\'') insq = 1;
            else buf_append(cur, p, 1);
        }
        p++;
    }
    *pp = p;
    return 0;
}

char **cli_split_args(const char *line, int *argc, size_t **lens) {
    char **argv = NULL;
    size_t *lv = NULL;
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        cli_buf cur = {0};
        if (read_arg(&p, &cur) < 0) {
            buf_free(&cur);
            cli_free_args(argv, n, lv);
            *argc = 0;
            *lens = NULL;
            return NULL;
        }
        argv = cli_xrealloc(argv, sizeof(char *) * (size_t)(n + 1));
        lv = cli_xrealloc(lv, sizeof(size_t) * (size_t)(n + 1));
        lv[n] = cur.len;
        argv[n++] = buf_take(&cur);
    }
    if (!argv) {
        argv = cli_xmalloc(sizeof(char *));
        lv = cli_xmalloc(sizeof(size_t));
    }
    *argc = n;
    *lens = lv;
    return argv;
}

void cli_free_args(char **argv, int argc, size_t *lens) {
    if (!argv) return;
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    free(lens);
}
