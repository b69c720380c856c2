/*
 * options: keel-cli's command line, redis-cli 7.0's options.
 *
 * A table of rows (name, takes an argument, apply, help line) instead of
 * one long if/else chain, so that --help is generated from the same rows
 * that parse, and so that the mode files add their own rows (modes.h,
 * cli.h's cli_analysis_options) without this file knowing them. Parsing
 * stops at the first argument that does not start with '-': that is the
 * command.
 */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "modes.h"

#define KEEL_CLI_VERSION "7.0.15-keel"

static cli_opts *replace_str(char **slot, const char *v, cli_opts *o) {
    free(*slot);
    *slot = v ? cli_xstrdup(v) : NULL;
    return o;
}

static int opt_host(cli_opts *o, const char *a) { replace_str(&o->host, a, o); return 0; }
static int opt_port(cli_opts *o, const char *a) { o->port = atoi(a); return 0; }
static int opt_socket(cli_opts *o, const char *a) { replace_str(&o->socket, a, o); return 0; }
static int opt_pass(cli_opts *o, const char *a) { replace_str(&o->pass, a, o); return 0; }
static int opt_user(cli_opts *o, const char *a) { replace_str(&o->user, a, o); return 0; }
static int opt_askpass(cli_opts *o, const char *a) { o->askpass = 1; return 0; }
static int opt_db(cli_opts *o, const char *a) { o->dbnum = atoi(a); return 0; }
static int opt_repeat(cli_opts *o, const char *a) { o->repeat = strtoll(a, NULL, 10); return 0; }
static int opt_interval(cli_opts *o, const char *a) {
    o->interval_us = (long long)(atof(a) * 1000000);
    return 0;
}
static int opt_resp2(cli_opts *o, const char *a) { o->resp2 = 1; return 0; }
static int opt_resp3(cli_opts *o, const char *a) { o->resp3 = 1; return 0; }
static int opt_stdin_last(cli_opts *o, const char *a) { o->stdin_lastarg = 1; return 0; }
static int opt_stdin_tag(cli_opts *o, const char *a) { replace_str(&o->stdin_tag, a, o); return 0; }
static int opt_mb_delim(cli_opts *o, const char *a) { replace_str(&o->mb_delim, a, o); return 0; }
static int opt_cmd_delim(cli_opts *o, const char *a) { replace_str(&o->cmd_delim, a, o); return 0; }
static int opt_cluster(cli_opts *o, const char *a) { o->cluster_mode = 1; return 0; }
static int opt_errcode(cli_opts *o, const char *a) { o->set_errcode = 1; return 0; }
static int opt_raw(cli_opts *o, const char *a) { o->output = OUTPUT_RAW; return 0; }
static int opt_no_raw(cli_opts *o, const char *a) { o->output = OUTPUT_STANDARD; return 0; }
static int opt_quoted_input(cli_opts *o, const char *a) { o->quoted_input = 1; return 0; }
static int opt_csv(cli_opts *o, const char *a) { o->output = OUTPUT_CSV; return 0; }
static int opt_no_auth_warning(cli_opts *o, const char *a) { o->no_auth_warning = 1; return 0; }
static int opt_verbose(cli_opts *o, const char *a) { o->verbose = 1; return 0; }
static int opt_pattern(cli_opts *o, const char *a) { replace_str(&o->pattern, a, o); return 0; }
static int opt_count(cli_opts *o, const char *a) { o->count = strtoll(a, NULL, 10); return 0; }
static int opt_type(cli_opts *o, const char *a) { replace_str(&o->type, a, o); return 0; }

/* --json and --quoted-json ask for RESP3 unless -2/-3 said otherwise. */
static int opt_json(cli_opts *o, const char *a) {
    if (o->resp3 == 0) o->resp3 = 2;
    o->output = OUTPUT_JSON;
    return 0;
}
static int opt_quoted_json(cli_opts *o, const char *a) {
    if (o->resp3 == 0) o->resp3 = 2;
    o->output = OUTPUT_QUOTED_JSON;
    return 0;
}

static int opt_show_pushes(cli_opts *o, const char *a) {
    if (!strncasecmp(a, "n", 1)) o->push_output = 0;
    else if (!strncasecmp(a, "y", 1)) o->push_output = 1;
    else fprintf(stderr, "Unknown --show-pushes value '%s' (valid: '[y]es', '[n]o')\n", a);
    return 0;
}

/* "\x41b\n" and friends, as redis-cli's --quoted-pattern takes them. */
static int opt_quoted_pattern(cli_opts *o, const char *a) {
    size_t n;
    char *p = cli_unquote(a, &n);
    if (!p) {
        fprintf(stderr, "Invalid quoted string specified for --quoted-pattern.\n");
        return -1;
    }
    free(o->pattern);
    o->pattern = p;
    return 0;
}

static int opt_uri(cli_opts *o, const char *a) {
    return cli_parse_uri(o, a);
}

/* Keel's server has no TLS yet: the options are accepted so that scripts
 * written for redis-cli parse, and refused when a connection would use
 * them. */
static int opt_tls(cli_opts *o, const char *a) { o->tls = 1; return 0; }
static int opt_tls_arg(cli_opts *o, const char *a) { return 0; }

static int opt_version(cli_opts *o, const char *a) {
    printf("keel-cli %s\n", KEEL_CLI_VERSION);
    exit(0);
}

static int opt_help(cli_opts *o, const char *a) {
    cli_usage(stdout);
    exit(0);
}

static const cli_option core_options[] = {
    {"-h", 1, opt_host, "<hostname>      Server hostname (default: 127.0.0.1)."},
    {"-p", 1, opt_port, "<port>          Server port (default: 6379)."},
    {"-s", 1, opt_socket, "<socket>        Server socket (overrides hostname and port)."},
    {"-a", 1, opt_pass, "<password>      Password to use when connecting (REDISCLI_AUTH in the\n"
                        "                     environment is safer; this argument takes precedence)."},
    {"--user", 1, opt_user, "<username>  ACL user for 'AUTH username pass'. Needs -a."},
    {"--pass", 1, opt_pass, "<password>  Same as -a."},
    {"--askpass", 0, opt_askpass, "          Read the password from the terminal, masked (-a and\n"
                                  "                     REDISCLI_AUTH are then ignored)."},
    {"-u", 1, opt_uri, "<uri>           Server URI: redis://[[user]:pass@]host[:port][/db]."},
    {"-r", 1, opt_repeat, "<repeat>        Run the command N times (negative: forever)."},
    {"-i", 1, opt_interval, "<interval>      Seconds to wait between repeats (-i 0.1 works); also the\n"
                            "                     cycle of --stat and --scan and the pause every 100\n"
                            "                     SCAN calls of --bigkeys, --memkeys, --hotkeys."},
    {"-n", 1, opt_db, "<db>            Database number."},
    {"-2", 0, opt_resp2, "                 Talk RESP2."},
    {"-3", 0, opt_resp3, "                 Talk RESP3 (HELLO 3)."},
    {"-x", 0, opt_stdin_last, "                 Read the last argument from STDIN."},
    {"-X", 1, opt_stdin_tag, "<tag>           Replace the argument <tag> with STDIN."},
    {"-d", 1, opt_mb_delim, "<delimiter>     Between elements of a reply in raw output (default: \\n)."},
    {"-D", 1, opt_cmd_delim, "<delimiter>     Between replies in raw output (default: \\n)."},
    {"-c", 0, opt_cluster, "                 Cluster mode: follow -MOVED and -ASK redirections."},
    {"-e", 0, opt_errcode, "                 Exit with code 1 when the command gets an error reply."},
    {"--tls", 0, opt_tls, "              TLS connection (not built in this keel-cli yet)."},
    {"--sni", 1, opt_tls_arg, NULL},
    {"--cacert", 1, opt_tls_arg, NULL},
    {"--cacertdir", 1, opt_tls_arg, NULL},
    {"--insecure", 0, opt_tls_arg, NULL},
    {"--cert", 1, opt_tls_arg, NULL},
    {"--key", 1, opt_tls_arg, NULL},
    {"--tls-ciphers", 1, opt_tls_arg, NULL},
    {"--tls-ciphersuites", 1, opt_tls_arg, NULL},
    {"--raw", 0, opt_raw, "              Raw output (the default when STDOUT is not a tty)."},
    {"--no-raw", 0, opt_no_raw, "           Formatted output even when STDOUT is not a tty."},
    {"--quoted-input", 0, opt_quoted_input, "     Arguments are quoted strings (\"a\\x00b\")."},
    {"--csv", 0, opt_csv, "              CSV output."},
    {"--json", 0, opt_json, "             JSON output (RESP3 unless -2)."},
    {"--quoted-json", 0, opt_quoted_json, "      JSON with ASCII-safe quoted strings."},
    {"--show-pushes", 1, opt_show_pushes, "<yn> Print RESP3 push messages (default: yes on a tty)."},
    {"--pattern", 1, opt_pattern, "<pat>    Key pattern of the scanning modes (default: *)."},
    {"--quoted-pattern", 1, opt_quoted_pattern, "<pat> Same, as a quoted string (binary keys)."},
    {"--count", 1, opt_count, "<count>    SCAN's COUNT in the scanning modes."},
    {"--type", 1, opt_type, "<type>      Key type of --scan."},
    {"--no-auth-warning", 0, opt_no_auth_warning, "  No warning about a password on the command line."},
    {"--verbose", 0, opt_verbose, "          Say more (reconnections)."},
    {"-v", 0, opt_version, NULL},
    {"--version", 0, opt_version, "          Print the version and exit."},
    {"--help", 0, opt_help, "             This text."},
    {NULL, 0, NULL, NULL},
};

static const cli_option *const option_tables[] = {
    core_options, latency_options, pipe_options, rdb_options, eval_options,
};

static const cli_option *find_in(const cli_option *t, const char *name) {
    for (; t && t->name; t++)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

static const cli_option *find_option(const char *name) {
    for (size_t i = 0; i < sizeof(option_tables) / sizeof(option_tables[0]); i++) {
        const cli_option *row = find_in(option_tables[i], name);
        if (row) return row;
    }
    if (cli_analysis_options) return find_in(cli_analysis_options, name);
    return NULL;
}

static void usage_table(FILE *f, const cli_option *t) {
    for (; t && t->name; t++)
        if (t->help) fprintf(f, "  %s %s\n", t->name, t->help);
}

void cli_usage(FILE *f) {
    fprintf(f, "keel-cli %s\n\n"
               "Usage: keel-cli [OPTIONS] [cmd [arg [arg ...]]]\n", KEEL_CLI_VERSION);
    for (size_t i = 0; i < sizeof(option_tables) / sizeof(option_tables[0]); i++)
        usage_table(f, option_tables[i]);
    if (cli_analysis_options) usage_table(f, cli_analysis_options);
    fprintf(f, "\nExamples:\n"
               "  keel-cli -u redis://default:secret@127.0.0.1:6379/0 ping\n"
               "  cat /etc/passwd | keel-cli -x set mypasswd\n"
               "  keel-cli -X dump_tag restore key2 0 dump_tag replace < dump.bin\n"
               "  keel-cli -r 100 lpush mylist x\n"
               "  keel-cli -r 100 -i 1 info | grep used_memory_human:\n"
               "  keel-cli --scan --pattern '*:12345*'\n"
               "\nWithout a command keel-cli starts the interactive prompt:\n"
               "type HELP there for help on commands (\"help @list\", \"help SET\").\n");
}

int cli_select_mode(cli_opts *o, cli_mode_fn fn, const char *name, int connects) {
    if (o->mode && o->mode != fn) {
        fprintf(stderr, "Options %s and %s cannot be used together.\n", o->mode_name, name);
        return -1;
    }
    o->mode = fn;
    o->mode_name = name;
    o->mode_connects = connects;
    return 0;
}

void cli_opts_init(cli_opts *o, int stdout_is_tty) {
    memset(o, 0, sizeof(*o));
    o->host = cli_xstrdup("127.0.0.1");
    o->port = 6379;
    o->repeat = 1;
    o->mb_delim = cli_xstrdup("\n");
    o->cmd_delim = cli_xstrdup("\n");
    o->output = stdout_is_tty ? OUTPUT_STANDARD : OUTPUT_RAW;
    o->push_output = stdout_is_tty;
}

static int check_combinations(const cli_opts *o) {
    if (o->socket && o->cluster_mode) {
        fprintf(stderr, "Options -c and -s are mutually exclusive.\n");
        return -1;
    }
    if (o->resp2 && o->resp3 == 1) {
        fprintf(stderr, "Options -2 and -3 are mutually exclusive.\n");
        return -1;
    }
    if (o->stdin_lastarg && o->stdin_tag) {
        fprintf(stderr, "Options -x and -X are mutually exclusive.\n");
        return -1;
    }
    return 0;
}

int cli_parse_options(cli_opts *o, int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (name[0] != '-') break; /* the command */
        const cli_option *row = find_option(name);
        int lastarg = i == argc - 1;
        if (row && !strcmp(name, "-h") && lastarg) opt_help(o, NULL);
        if (!row || (row->takes_arg && lastarg)) {
            fprintf(stderr, "Unrecognized option or bad number of args for: '%s'\n", name);
            return -1;
        }
        const char *value = row->takes_arg ? argv[++i] : NULL;
        if (row->apply(o, value) < 0) return -1;
    }
    if (check_combinations(o) < 0) return -1;
    if (!o->no_auth_warning && o->pass)
        fputs("Warning: Using a password with '-a' or '-u' option on the command"
              " line interface may not be safe.\n", stderr);
    return i;
}

void cli_parse_env(cli_opts *o) {
    const char *auth = getenv("REDISCLI_AUTH");
    if (auth && !o->pass) o->pass = cli_xstrdup(auth);
}

char *cli_ask_password(const char *prompt) {
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    fputs(prompt, stdout);
    fflush(stdout);
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    cli_buf line = {0};
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        char ch = (char)c;
        buf_append(&line, &ch, 1);
    }
    if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputs("\n", stdout);
    return buf_take(&line);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *percent_decode(const char *p, size_t n) {
    cli_buf out = {0};
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n + 0 && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            char c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            buf_append(&out, &c, 1);
            i += 2;
        } else {
            buf_append(&out, p + i, 1);
        }
    }
    return buf_take(&out);
}

int cli_parse_uri(cli_opts *o, const char *uri) {
    const char *cur = uri, *end = uri + strlen(uri);
    if (!strncasecmp(cur, "rediss://", 9)) {
        o->tls = 1;
        cur += 9;
    } else if (!strncasecmp(cur, "redis://", 8)) {
        cur += 8;
    } else {
        fprintf(stderr, "Invalid URI scheme\n");
        return -1;
    }
    if (cur == end) return 0;
    const char *at = strchr(cur, '@');
    if (at) {
        const char *colon = strchr(cur, ':');
        if (colon && colon < at) {
            free(o->user);
            o->user = colon > cur ? percent_decode(cur, (size_t)(colon - cur)) : NULL;
            cur = colon + 1;
        }
        free(o->pass);
        o->pass = percent_decode(cur, (size_t)(at - cur));
        cur = at + 1;
    }
    if (cur == end) return 0;
    const char *path = strchr(cur, '/');
    if (*cur != '/') {
        const char *host_end = path ? path : end;
        const char *colon = memchr(cur, ':', (size_t)(host_end - cur));
        if (colon) {
            o->port = atoi(colon + 1);
            host_end = colon;
        }
        free(o->host);
        o->host = cli_xmalloc((size_t)(host_end - cur) + 1);
        memcpy(o->host, cur, (size_t)(host_end - cur));
        o->host[host_end - cur] = '\0';
    }
    cur = path ? path + 1 : end;
    if (cur != end) o->dbnum = atoi(cur);
    return 0;
}

/* Quoted strings as redis-cli and Redis's config parser take them. */
char *cli_unquote(const char *s, size_t *len) {
    int argc = 0;
    size_t *lens = NULL;
    char **argv = cli_split_args(s, &argc, &lens);
    if (!argv || argc != 1) {
        cli_free_args(argv, argc, lens);
        return NULL;
    }
    char *out = argv[0];
    *len = lens[0];
    free(argv);
    free(lens);
    return out;
}
