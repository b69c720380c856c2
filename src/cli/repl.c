/*
 * repl: the interactive prompt, with libedit (Debian's BSD editline).
 *
 * The prompt is redis-cli's: "127.0.0.1:6379>", "[2]" after SELECT 2,
 * "(TX)" inside MULTI, "(subscribed mode)" while subscribed, and
 * "not connected>" when the server is gone (each command tries again).
 * History: REDISCLI_HISTFILE, else ~/.keelcli_history, one command per
 * line as redis-cli writes it (so the two can share a file); commands
 * carrying passwords are kept in memory but not written. Help, hints and
 * completion come from the server's COMMAND DOCS (cmddocs.c). The hint of
 * the command being typed is shown at the right of the line (libedit's
 * right prompt; uncoloured, as libedit does not reliably restore the
 * colour of a right prompt).
 *
 * When stdin is not a terminal, lines are read plainly, without prompt,
 * editing or history, as redis-cli does.
 */
#include <ctype.h>
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "cmddocs.h"
#include "modes.h"
#include "options.h"

#define HISTORY_MAX 1000

/* libedit keeps a few wcsdup'ed strings after el_end(): in the sanitizer
 * build (whose tests run with leak detection) they are not ours to free. */
#if defined(__SANITIZE_ADDRESS__)
#define KEEL_CLI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEL_CLI_ASAN 1
#endif
#endif
#ifdef KEEL_CLI_ASAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:wcsdup\n";
}
#endif

static cli_ctx session;
static EditLine *el;
static History *hist;
static char *history_path;
static int hints_enabled = 1;
static char prompt_buf[512];
static char *current_hint;
static int hint_shown; /* the last redraw showed a hint */

static void refresh_prompt(void) {
    const cli_opts *o = session.opts;
    cli_buf p = {0};
    if (o->socket) buf_printf(&p, "redis %s", o->socket);
    else if (strchr(o->host, ':')) buf_printf(&p, "[%s]:%d", o->host, o->port);
    else buf_printf(&p, "%s:%d", o->host, o->port);
    if (cli_state.dbnum != 0) buf_printf(&p, "[%d]", cli_state.dbnum);
    if (cli_state.in_multi) buf_puts(&p, "(TX)");
    if (cli_state.pubsub_mode) buf_puts(&p, "(subscribed mode)");
    buf_puts(&p, "> ");
    snprintf(prompt_buf, sizeof(prompt_buf), "%s", p.data);
    buf_free(&p);
}

static char *prompt_fn(EditLine *e) {
    refresh_prompt();
    return session.conn ? prompt_buf : "not connected> ";
}

/* The right prompt: the hint for what is typed so far. */
static char *rprompt_fn(EditLine *e) {
    static char shown[1024];
    free(current_hint);
    current_hint = NULL;
    shown[0] = '\0';
    hint_shown = 0;
    if (!hints_enabled) return shown;
    const LineInfo *li = el_line(e);
    size_t n = (size_t)(li->lastchar - li->buffer);
    char *line = cli_xmalloc(n + 1);
    memcpy(line, li->buffer, n);
    line[n] = '\0';
    current_hint = n ? docs_hint(line) : NULL;
    free(line);
    if (current_hint) {
        snprintf(shown, sizeof(shown), "%s", current_hint);
        hint_shown = 1;
    }
    return shown;
}

/* Printable keys insert themselves and redraw, so that the hint follows. */
static unsigned char insert_key(EditLine *e, int ch) {
    char s[2] = {(char)ch, 0};
    if (el_insertstr(e, s) < 0) return CC_ERROR;
    return CC_REFRESH;
}

static unsigned char delete_key(EditLine *e, int ch) {
    const LineInfo *li = el_line(e);
    if (li->cursor == li->buffer) return CC_ERROR;
    el_deletestr(e, 1);
    return CC_REFRESH;
}

typedef struct matches {
    char **v;
    int n;
} matches;

static void add_match(void *priv, const char *s) {
    matches *m = priv;
    m->v = cli_xrealloc(m->v, sizeof(char *) * (size_t)(m->n + 1));
    m->v[m->n++] = cli_xstrdup(s);
}

static size_t common_prefix(matches *m) {
    size_t len = strlen(m->v[0]);
    for (int i = 1; i < m->n; i++) {
        size_t j = 0;
        while (j < len && tolower((unsigned char)m->v[i][j]) == tolower((unsigned char)m->v[0][j])) j++;
        len = j;
    }
    return len;
}

/* TAB: one match completes the line; several complete their common part,
 * and a second TAB lists them. */
static unsigned char complete_key(EditLine *e, int ch) {
    const LineInfo *li = el_line(e);
    size_t n = (size_t)(li->cursor - li->buffer);
    char *line = cli_xmalloc(n + 1);
    memcpy(line, li->buffer, n);
    line[n] = '\0';
    matches m = {0};
    docs_complete(line, add_match, &m);
    unsigned char rc = CC_ERROR;
    if (m.n > 0) {
        size_t common = m.n == 1 ? strlen(m.v[0]) : common_prefix(&m);
        if (common > n || (m.n == 1 && common == n)) {
            el_deletestr(e, (int)n);
            char *ins = cli_xmalloc(common + 2);
            memcpy(ins, m.v[0], common);
            ins[common] = '\0';
            if (m.n == 1) strcat(ins, " ");
            el_insertstr(e, ins);
            free(ins);
            rc = CC_REFRESH;
        } else {
            printf("\n");
            for (int i = 0; i < m.n; i++) printf("%s%s", m.v[i], i + 1 < m.n ? "  " : "\n");
            rc = CC_REDISPLAY;
        }
    }
    for (int i = 0; i < m.n; i++) free(m.v[i]);
    free(m.v);
    free(line);
    return rc;
}

static void bind_keys(void) {
    el_set(el, EL_ADDFN, "keel-insert", "insert and update the hint", insert_key);
    el_set(el, EL_ADDFN, "keel-delete", "delete and update the hint", delete_key);
    el_set(el, EL_ADDFN, "keel-complete", "complete a command", complete_key);
    /* Keys as octal escapes: "-" alone would be read as an option of
     * bind, "^" and "\\" as the start of an escape. */
    char key[8];
    for (int c = 0x20; c < 0x7f; c++) {
        snprintf(key, sizeof(key), "\\%03o", c);
        el_set(el, EL_BIND, key, "keel-insert", NULL);
    }
    el_set(el, EL_BIND, "^?", "keel-delete", NULL);
    el_set(el, EL_BIND, "^H", "keel-delete", NULL);
    el_set(el, EL_BIND, "^I", "keel-complete", NULL);
}

static char *history_file(void) {
    const char *env = getenv("REDISCLI_HISTFILE");
    if (env) {
        if (!*env || !strcmp(env, "/dev/null")) return NULL;
        return cli_xstrdup(env);
    }
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    cli_buf b = {0};
    buf_printf(&b, "%s/.keelcli_history", home);
    return buf_take(&b);
}

static void history_load(void) {
    FILE *f = history_path ? fopen(history_path, "r") : NULL;
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    HistEvent ev;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n) history(hist, &ev, H_ENTER, line);
    }
    free(line);
    fclose(f);
}

/* Lines carrying secrets: in the session's history, never in the file. */
static char **secret_lines;
static int nsecret;

static int is_secret_line(const char *line) {
    for (int i = 0; i < nsecret; i++)
        if (!strcmp(secret_lines[i], line)) return 1;
    return 0;
}

/* The file holds the history oldest first, one line each. */
static void history_save(void) {
    if (!history_path) return;
    FILE *f = fopen(history_path, "w");
    if (!f) return;
    HistEvent ev;
    int rc = history(hist, &ev, H_LAST);
    for (; rc != -1; rc = history(hist, &ev, H_PREV))
        if (!is_secret_line(ev.str)) fprintf(f, "%s\n", ev.str);
    fclose(f);
}

static int is(const char *a, const char *b) {
    return strcasecmp(a, b) == 0;
}

/* Commands whose arguments carry secrets: kept out of the history file. */
static int is_sensitive(int argc, char **argv) {
    if (is(argv[0], "auth")) return 1;
    if (argc > 1 && is(argv[0], "acl") &&
        (is(argv[1], "setuser") || is(argv[1], "deluser") || is(argv[1], "getuser")))
        return 1;
    if (argc > 2 && is(argv[0], "config") && is(argv[1], "set")) {
        for (int j = 2; j < argc; j += 2)
            if (is(argv[j], "masterauth") || is(argv[j], "masteruser") ||
                is(argv[j], "requirepass") || is(argv[j], "tls-key-file-pass") ||
                is(argv[j], "tls-client-key-file-pass"))
                return 1;
        return 0;
    }
    if (argc > 2 && is(argv[0], "hello")) {
        for (int j = 2; j < argc; j++)
            if (is(argv[j], "auth")) return 1;
        return 0;
    }
    if (argc > 6 && is(argv[0], "migrate")) {
        for (int j = 6; j < argc; j++)
            if (is(argv[j], "auth") || is(argv[j], "auth2")) return 1;
        return 0;
    }
    if (argc > 3 && is(argv[0], "sentinel")) {
        for (int j = 1; j < argc; j++)
            if (is(argv[j], "sentinel-pass") || is(argv[j], "auth-pass")) return 1;
    }
    return 0;
}

static void remember(const char *line, int sensitive) {
    if (!hist) return;
    HistEvent ev;
    history(hist, &ev, H_ENTER, line);
    if (sensitive) {
        secret_lines = cli_xrealloc(secret_lines, sizeof(char *) * (size_t)(nsecret + 1));
        secret_lines[nsecret++] = cli_xstrdup(line);
    } else {
        history_save();
    }
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    interrupted = 1;
}

/* Subscribed mode on the prompt: print messages as they come until a key
 * is pressed (then the prompt, "(subscribed mode)", takes one command) or
 * Ctrl-C (which leaves subscribed mode on a new connection). */
static void wait_messages_or_key(void) {
    int tty = isatty(STDIN_FILENO);
    struct termios saved, raw;
    if (tty) {
        tcgetattr(STDIN_FILENO, &saved);
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    interrupted = 0;
    while (cli_state.pubsub_mode && session.conn) {
        if (session.opts->output != OUTPUT_RAW) {
            printf("Reading messages... (press Ctrl-C to quit or any key to type command)\r");
            fflush(stdout);
        }
        struct pollfd p[2] = {{.fd = conn_fd(session.conn), .events = POLLIN},
                              {.fd = STDIN_FILENO, .events = POLLIN}};
        int n = poll(p, 2, 5000);
        if (session.opts->output != OUTPUT_RAW) {
            printf("\033[K");
            fflush(stdout);
        }
        if (interrupted) {
            cli_state.pubsub_mode = 0;
            conn_close(session.conn);
            session.conn = cli_connect(session.opts, 0);
            break;
        }
        if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            rr_reply *r;
            if (conn_read(session.conn, &r) < 0) {
                fprintf(stderr, "Error: %s\n", conn_error(session.conn));
                exit(1);
            }
            cli_print_reply(session.opts, r, 0);
            cli_note_pubsub_reply(r);
            rr_reply_free(r);
        } else if (n > 0 && (p[1].revents & POLLIN)) {
            break;
        }
    }
    sigaction(SIGINT, &old, NULL);
    if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

static void do_connect(const char *host, const char *port) {
    free(session.opts->host);
    session.opts->host = cli_xstrdup(host);
    session.opts->port = atoi(port);
    free(session.opts->socket);
    session.opts->socket = NULL;
    if (session.conn) conn_close(session.conn);
    cli_state.pubsub_mode = 0;
    session.conn = cli_connect(session.opts, 0);
    if (session.conn && isatty(STDIN_FILENO)) docs_load(session.conn);
}

/* Runs one typed line. */
static void run_line(const char *line) {
    int argc;
    size_t *lens;
    char **argv = cli_split_args(line, &argc, &lens);
    if (!argv) {
        printf("Invalid argument(s)\n");
        fflush(stdout);
        remember(line, 0);
        return;
    }
    if (argc == 0) {
        cli_free_args(argv, argc, lens);
        return;
    }
    long long repeat = 1;
    int skip = 0;
    char *end;
    errno = 0;
    long long r = strtoll(argv[0], &end, 10);
    if (argc > 1 && *end == '\0') {
        if (errno == ERANGE || r <= 0) {
            fputs("Invalid keel-cli repeat command option value.\n", stdout);
            cli_free_args(argv, argc, lens);
            return;
        }
        repeat = r;
        skip = 1;
    }
    remember(line, is_sensitive(argc - skip, argv + skip));
    char **args = argv + skip;
    int n = argc - skip;
    if (is(args[0], "quit") || is(args[0], "exit")) {
        history_save();
        exit(0);
    } else if (is(args[0], "help") || is(args[0], "?")) {
        if (!docs_loaded()) docs_load(session.conn);
        docs_print_help(n - 1, args + 1);
    } else if (n == 3 && is(args[0], "connect")) {
        do_connect(args[1], args[2]);
    } else if (n == 1 && is(args[0], "clear")) {
        printf("\033[H\033[2J");
        fflush(stdout);
    } else if (args[0][0] == ':') {
        if (n == 2 && is(args[0], ":set") && is(args[1], "hints")) hints_enabled = 1;
        else if (n == 2 && is(args[0], ":set") && is(args[1], "nohints")) hints_enabled = 0;
    } else {
        long long start = cli_mstime();
        cli_issue_command(&session, n, args, lens + skip, repeat);
        long long elapsed = cli_mstime() - start;
        if (elapsed >= 500 && session.opts->output == OUTPUT_STANDARD)
            printf("(%.2fs)\n", (double)elapsed / 1000);
    }
    cli_free_args(argv, argc, lens);
    if (cli_state.pubsub_mode) wait_messages_or_key();
}

/* stdin is not a terminal: plain lines, no prompt. */
static int read_plain_lines(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        run_line(line);
    }
    free(line);
    return 0;
}

/* The line just entered still shows its hint at the right: draw it again
 * without (the hint is only shown when prompt, line and hint fit on one
 * terminal line, so the line is one line up). */
static void wipe_hint(const char *line) {
    printf("\033[A\r\033[K%s%s\n", session.conn ? prompt_buf : "not connected> ", line);
    fflush(stdout);
    hint_shown = 0;
}

static void init_editline(void) {
    el = el_init("keel-cli", stdin, stdout, stderr);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT_ESC, prompt_fn, '\1');
    el_set(el, EL_RPROMPT_ESC, rprompt_fn, '\1');
    el_set(el, EL_SIGNAL, 1);
    hist = history_init();
    HistEvent ev;
    history(hist, &ev, H_SETSIZE, HISTORY_MAX);
    history(hist, &ev, H_SETUNIQUE, 0);
    el_set(el, EL_HIST, history, hist);
    bind_keys();
    el_source(el, NULL); /* ~/.editrc, as other libedit programs */
}

int repl_run(cli_opts *o) {
    session.opts = o;
    cli_state.interactive = 1;
    session.conn = cli_connect(o, 0);
    if (!isatty(STDIN_FILENO)) return read_plain_lines();
    if (session.conn) docs_load(session.conn);
    history_path = history_file();
    init_editline();
    history_load();
    for (;;) {
        int count;
        const char *line = el_gets(el, &count);
        if (!line || count <= 0) break; /* Ctrl-D */
        char *copy = cli_xstrdup(line);
        size_t n = strlen(copy);
        while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r')) copy[--n] = '\0';
        if (hint_shown) wipe_hint(copy);
        if (*copy) run_line(copy);
        free(copy);
    }
    printf("\n");
    history_save();
    el_end(el);
    history_end(hist);
    return 0;
}

int mode_repl(cli_ctx *ctx) {
    return repl_run(ctx->opts);
}
