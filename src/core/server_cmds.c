/*
 * server_cmds: server-wide commands: TIME, INFO, CONFIG, LOLWUT (and the
 * table row of SHUTDOWN, whose handler is core/shutdown.c).
 * (Connection commands are in conn_cmds.c, COMMAND in introspect_cmds.c,
 * DEBUG in debug_cmds.c.)
 */
#include "persist/persist.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/config.h"
#include "core/info.h"
#include "core/server.h"
#include "core/shutdown.h"
#include "script/script.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void time_command(client *c) {
    long long us = ustime();
    reply_array_len(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}
/* ---- INFO ---- */

static void info_command(client *c) {
    kstr s = info_generate(c, c->argc - 1, c->argv + 1);
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

/* ---- CONFIG ---- */

static command config_subcommands[] = {
    {"get", config_command_get, -3, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Get configuration parameters.", NULL},
    {"set", config_command_set, -4, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Set configuration parameters.", NULL},
    {"resetstat", config_command_resetstat, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.0.0", "Reset the statistics.", NULL},
    {"rewrite", config_command_rewrite, 2, "admin noscript loading stale", 0, 0, 0, "server", "2.8.0", "Rewrite the configuration file.", NULL},
    {"help", config_command_help, 2, "loading stale", 0, 0, 0, "server", "5.0.0", "Help on CONFIG.", NULL},
    {0},
};
/* SHUTDOWN: core/shutdown.c. */
/* ---- LOLWUT ----
 * Redis answers LOLWUT with a piece of computer art and its version. Keel
 * draws its own: a boat under sail on two crossing swells, in Braille
 * characters (each one a 2x4 grid of dots, so the canvas has twice the
 * columns and four times the rows in dots). LOLWUT VERSION v [columns
 * [rows]] sizes it, and v shifts the swells, so each version has its own
 * sea; without VERSION the arguments are ignored, as in Redis 7.0. */

#define LOLWUT_COLS 60
#define LOLWUT_ROWS 15

typedef struct canvas {
    int w, h;          /* in dots */
    unsigned char *dot;
} canvas;

static void canvas_set(canvas *cv, int x, int y) {
    if (x >= 0 && y >= 0 && x < cv->w && y < cv->h) cv->dot[y * cv->w + x] = 1;
}

/* Two swells of different lengths, the second one shifted twice as fast. */
static double sea_level(const canvas *cv, int x, double phase) {
    double t = 2 * M_PI * x / cv->w;
    double swell = 0.07 * sin(3 * t + phase) + 0.035 * sin(7.3 * t + 2 * phase);
    return cv->h * (0.62 + swell);
}

/* Water: the surface line, and below it swell lines that follow it in
 * shorter and shorter dashes as the water deepens. */
static void draw_sea(canvas *cv, double phase) {
    for (int x = 0; x < cv->w; x++) {
        int top = (int)sea_level(cv, x, phase);
        canvas_set(cv, x, top);
        for (int k = 1; top + 4 * k < cv->h; k++) {
            int ripple = (int)(1.5 * sin(x * 0.4 + k));
            if ((x + 5 * k) % 12 < 10 - k) canvas_set(cv, x, top + 4 * k + ripple);
        }
    }
}

/* A hull whose bottom curves down to the keel, a mast and a sail. */
static void draw_boat(canvas *cv, double phase) {
    int xc = cv->w / 2, half = cv->w / 7 + 1;
    double deck = sea_level(cv, xc, phase) - cv->h * 0.06, depth = cv->h * 0.14 + 1;
    for (int x = xc - half; x <= xc + half; x++) {
        double u = (double)(x - xc) / half, bottom = deck + depth * (1 - u * u);
        for (int y = (int)deck; y <= (int)bottom; y++) canvas_set(cv, x, y);
    }
    int mast_top = (int)(deck - cv->h * 0.45), boom = (int)deck - 2;
    for (int y = mast_top; y < (int)deck; y++) canvas_set(cv, xc, y);
    /* The sail: a triangle from the masthead to the boom, its leech drawn
     * solid and its cloth in a sparse diagonal weave. */
    for (int y = mast_top; y <= boom; y++) {
        int leech = xc + 2 + (int)((double)(y - mast_top) / (boom - mast_top + 1) * half * 0.9);
        for (int x = xc + 2; x <= leech; x++)
            if (x == leech || y == boom || (x + y) % 4 == 0) canvas_set(cv, x, y);
    }
}

/* Braille cell bits, dot (dx, dy) of a cell. */
static const unsigned char braille_bit[4][2] = {
    {0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80},
};

static kstr canvas_render(const canvas *cv, kstr out) {
    for (int cy = 0; cy < cv->h; cy += 4) {
        for (int cx = 0; cx < cv->w; cx += 2) {
            unsigned bits = 0;
            for (int dy = 0; dy < 4; dy++)
                for (int dx = 0; dx < 2; dx++)
                    if (cv->dot[(cy + dy) * cv->w + cx + dx]) bits |= braille_bit[dy][dx];
            char utf8[3] = {(char)0xE2, (char)(0xA0 | (bits >> 6)), (char)(0x80 | (bits & 0x3F))};
            out = kstr_cat_len(out, utf8, 3);
        }
        out = kstr_cat_len(out, "\n", 1);
    }
    return out;
}

static void lolwut_command(client *c) {
    long long version = 7, cols = LOLWUT_COLS, rows = LOLWUT_ROWS;
    if (c->argc >= 3 && arg_is(c->argv[1], "version")) {
        if (!parse_ll(c, c->argv[2], &version)) return;
        if (c->argc >= 4 && !parse_ll(c, c->argv[3], &cols)) return;
        if (c->argc >= 5 && !parse_ll(c, c->argv[4], &rows)) return;
    }
    cols = cols < 1 ? 1 : cols > 1000 ? 1000 : cols;
    rows = rows < 1 ? 1 : rows > 200 ? 200 : rows;
    canvas cv = {(int)cols * 2, (int)rows * 4, NULL};
    cv.dot = zcalloc((size_t)cv.w * (size_t)cv.h);
    double phase = (double)(version % 64) * 0.9;
    draw_sea(&cv, phase);
    draw_boat(&cv, phase);
    kstr out = canvas_render(&cv, kstr_empty());
    zfree(cv.dot);
    out = kstr_cat_printf(out, "\nA keel under sail on crossing swells, drawn in Braille dots. "
                               "Keel ver. %s, Redis ver. %s\n", KEEL_OWN_VERSION, KEEL_VERSION);
    reply_verbatim(c, out, kstr_len(out), "txt");
    kstr_free(out);
}

command server_commands[] = {
    {"time", time_command, 1, "loading stale fast", 0, 0, 0, "server", "2.6.0", "Server time.", NULL},
    {"info", info_command, -1, "loading stale", 0, 0, 0, "server", "1.0.0", "Information and statistics about the server.", NULL},
    {"config", NULL, -2, "", 0, 0, 0, "server", "2.0.0", "Configuration.", config_subcommands},
    {"lolwut", lolwut_command, -1, "readonly fast", 0, 0, 0, "server", "5.0.0", "Display some computer art and the version.", NULL},
    {"shutdown", shutdown_command, -1, "admin noscript loading stale no_multi allow_busy", 0, 0, 0, "server", "1.0.0", "Stop the server.", NULL},
    {0},
};
