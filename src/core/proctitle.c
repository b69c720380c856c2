/* See proctitle.h. The variables are Redis 7.0's: {title} (the program as
 * started), {listen-addr} (first bind address and port, or the unix
 * socket), {server-mode} ("[sentinel]" or "[cluster]" when those modes
 * run, else empty), {port}, {tls-port}, {unixsocket}, {config-file}. */
#include "core/proctitle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/server.h"
#include "lib/zmalloc.h"

extern char **environ;

static char *title_area;    /* the original argv/environ block */
static size_t title_space;  /* its size */
static char **argv_copy;    /* what main uses from here on; [0] is {title} */
static int set_proc_title = 1;
static char *template_str;

static int check_template(const char **err);

config_entry proctitle_configs[] = {
    CONFIG_BOOL("set-proc-title", &set_proc_title, "yes", CF_IMMUTABLE, NULL),
    CONFIG_STRING("proc-title-template", &template_str, "{title} {listen-addr} {server-mode}", 0, check_template),
    CONFIG_END,
};

char **proctitle_init(int argc, char **argv) {
    char **copy = zmalloc(sizeof(char *) * (size_t)(argc + 1));
    for (int i = 0; i < argc; i++) copy[i] = zstrdup(argv[i]);
    copy[argc] = NULL;
    argv_copy = copy;
    /* The block is contiguous from argv[0] to the end of the last
     * environment string; environ moves to the heap so nothing reads the
     * old strings once titles overwrite them. */
    char *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
    int nenv = 0;
    while (environ[nenv]) nenv++;
    for (int i = 0; i < nenv; i++)
        if (environ[i] == end) end = environ[i] + strlen(environ[i]) + 1;
    char **env = malloc(sizeof(char *) * (size_t)(nenv + 1)); /* libc owns environ: its allocator */
    if (env) {
        for (int i = 0; i < nenv; i++) env[i] = strdup(environ[i]);
        env[nenv] = NULL;
        environ = env;
        title_area = argv[0];
        title_space = (size_t)(end - argv[0]);
    }
    return copy;
}

/* Appends the value of variable name[0..len) to out; 0 if unknown. */
static int expand_var(const char *name, size_t len, char *out, size_t cap) {
    char val[512] = "";
    if (len == 5 && !memcmp(name, "title", 5)) {
        snprintf(val, sizeof(val), "%s", argv_copy ? argv_copy[0] : "keel-server");
    } else if (len == 11 && !memcmp(name, "listen-addr", 11)) {
        if (server.port || !server.unixsocket || !server.unixsocket[0])
            snprintf(val, sizeof(val), "%s:%d", server.bindaddr_count ? server.bindaddr[0] : "*", server.port);
        else
            snprintf(val, sizeof(val), "unixsocket:%s", server.unixsocket);
    } else if (len == 11 && !memcmp(name, "server-mode", 11)) {
        val[0] = '\0';
    } else if (len == 4 && !memcmp(name, "port", 4)) {
        snprintf(val, sizeof(val), "%d", server.port);
    } else if (len == 8 && !memcmp(name, "tls-port", 8)) {
        snprintf(val, sizeof(val), "%d", server.tls_port);
    } else if (len == 10 && !memcmp(name, "unixsocket", 10)) {
        snprintf(val, sizeof(val), "%s", server.unixsocket ? server.unixsocket : "");
    } else if (len == 11 && !memcmp(name, "config-file", 11)) {
        snprintf(val, sizeof(val), "%s", server.config_file ? server.config_file : "");
    } else {
        return 0;
    }
    strncat(out, val, cap - strlen(out) - 1);
    return 1;
}

/* Expands tpl into out; 0 when it has an unknown variable or an
 * unclosed '{' (Redis refuses those templates; a lone '}' is text). */
static int expand(const char *tpl, char *out, size_t cap) {
    out[0] = '\0';
    for (const char *p = tpl; *p;) {
        if (*p == '{') {
            const char *close = strchr(p + 1, '}');
            if (!close || !expand_var(p + 1, (size_t)(close - p - 1), out, cap)) return 0;
            p = close + 1;
        } else {
            size_t n = strlen(out);
            if (n + 1 < cap) {
                out[n] = *p;
                out[n + 1] = '\0';
            }
            p++;
        }
    }
    /* Trailing spaces (an empty {server-mode}) are not part of a title. */
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ') out[--n] = '\0';
    return 1;
}

static int check_template(const char **err) {
    char buf[1024];
    if (!template_str || !expand(template_str, buf, sizeof(buf))) {
        *err = "template format is invalid or contains unknown variables";
        return 0;
    }
    proctitle_update();
    return 1;
}

void proctitle_update(void) {
    if (!set_proc_title || !title_area || !template_str) return;
    char buf[1024];
    if (!expand(template_str, buf, sizeof(buf))) return;
    size_t n = strlen(buf);
    if (n >= title_space) n = title_space - 1;
    memset(title_area, 0, title_space);
    memcpy(title_area, buf, n);
}
