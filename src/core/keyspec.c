/*
 * keyspec: where the keys of a request are (COMMAND GETKEYS; later cluster
 * slots and ACL key patterns) and how the command uses each of them
 * (COMMAND GETKEYSANDFLAGS), as Redis 7.0's key specifications say.
 *
 * Finding keys: most commands have a fixed range in their table row
 * (first, last, step). The others ("movablekeys") are data below: a count
 * of keys that precedes them (ZUNIONSTORE, LMPOP), or a keyword (SORT ...
 * STORE, GEORADIUS ... STORE/STOREDIST) found the way Redis's GETKEYS finds
 * it: SORT skips the arguments of its options and the last STORE wins;
 * GEORADIUS takes the first STORE and the first STOREDIST after its fixed
 * arguments, in that order.
 *
 * Flags: an access mode (RO, RW, OW overwrite, RM remove) and what is done
 * to the data (access, update, insert, delete). Every command Keel has
 * with more than one key spec uses one set of flags for its first key and
 * one for all the others (LMOVE's source and destination, ZUNIONSTORE's
 * destination and sources, SORT's key and its STORE key), so a row holds
 * two strings rather than a list of specs. SET and BITFIELD have "variable
 * flags": they depend on the arguments (SET ... GET reads the old value),
 * decided by code below. The rows are Redis 7.0's published key-spec flags
 * for the commands Keel implements; a keyed command missing from them falls
 * back to RW or RO from its command flags, which is all COMMAND INFO says
 * about it either.
 */
#include "core/command.h"
#include "lib/kstr.h"
#include "lib/util.h"

#include <string.h>
#include <strings.h>

/* ---- finding keys ---- */

/* dest is the argv index of a destination key (0 = none), numkeys the
 * index of the count of keys that follow it; zero_ok when that count may
 * be 0 (scripts). */
static const struct movable_spec {
    const char *name;
    int dest;
    int numkeys;
    int zero_ok;
} movable_specs[] = {
    {"zunionstore", 1, 2}, {"zinterstore", 1, 2}, {"zdiffstore", 1, 2},
    {"zunion", 0, 1}, {"zinter", 0, 1}, {"zdiff", 0, 1}, {"zintercard", 0, 1},
    {"sintercard", 0, 1}, {"zmpop", 0, 1}, {"lmpop", 0, 1},
    {"bzmpop", 0, 2}, {"blmpop", 0, 2},
    {"eval", 0, 2, 1}, {"evalsha", 0, 2, 1}, {"eval_ro", 0, 2, 1}, {"evalsha_ro", 0, 2, 1},
    {"fcall", 0, 2, 1}, {"fcall_ro", 0, 2, 1},
};

static int add_key(int *idx, int n, int max, int pos) {
    if (n < max) idx[n] = pos;
    return n + 1;
}

static int arg_equals(const char *arg, const char *word) { return !strcasecmp(arg, word); }

static int numkeys_keys(const struct movable_spec *m, int argc, char **argv, int *idx, int max) {
    long long numkeys;
    if (m->numkeys >= argc ||
        !string_to_ll(argv[m->numkeys], kstr_len(argv[m->numkeys]), &numkeys) || numkeys < (m->zero_ok ? 0 : 1) ||
        numkeys > argc - m->numkeys - 1)
        return -1;
    int n = 0;
    if (m->dest) n = add_key(idx, n, max, m->dest);
    for (int j = 0; j < (int)numkeys; j++) n = add_key(idx, n, max, m->numkeys + 1 + j);
    return n;
}

/* SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]:
 * the argv index of the last STORE's key, 0 if none. An option whose
 * arguments are missing ends the scan. */
static int sort_store_key(int argc, char **argv) {
    static const struct { const char *word; int args, is_store; } options[] = {
        {"limit", 2, 0}, {"get", 1, 0}, {"by", 1, 0}, {"store", 1, 1},
    };
    int store = 0;
    for (int j = 2; j < argc; j++) {
        for (size_t o = 0; o < sizeof(options) / sizeof(options[0]); o++) {
            if (!arg_equals(argv[j], options[o].word)) continue;
            if (j + options[o].args >= argc) return store;
            if (options[o].is_store) store = j + 1;
            j += options[o].args;
            break;
        }
    }
    return store;
}

/* The key after the first `word` at or after argv[from], 0 if none. */
static int keyword_key(int argc, char **argv, int from, const char *word) {
    for (int j = from; j < argc; j++)
        if (arg_equals(argv[j], word)) return j + 1 < argc ? j + 1 : 0;
    return 0;
}

/* GEORADIUS key lon lat radius unit ... / GEORADIUSBYMEMBER key member
 * radius unit ...: the STORE and STOREDIST keys, after the fixed arguments. */
static int georadius_store_keys(const command *cmd, int argc, char **argv, int *idx, int n,
                                int max) {
    int from = !strcmp(cmd->name, "georadius") ? 6 : 5;
    int store = keyword_key(argc, argv, from, "store");
    int storedist = keyword_key(argc, argv, from, "storedist");
    if (store) n = add_key(idx, n, max, store);
    if (storedist) n = add_key(idx, n, max, storedist);
    return n;
}

/* XREAD / XREADGROUP ... STREAMS k1 k2 ... id1 id2 ...: the first half
 * of what follows the first STREAMS keyword. */
static int is_xread(const command *cmd) { return !strcmp(cmd->name, "xread") || !strcmp(cmd->name, "xreadgroup"); }

static int xread_keys(int argc, char **argv, int *idx, int max) {
    for (int j = 1; j < argc; j++) {
        if (!arg_equals(argv[j], "streams")) continue;
        int rest = argc - j - 1;
        if (rest == 0 || rest % 2) return -1;
        int n = 0;
        for (int k = 0; k < rest / 2; k++) n = add_key(idx, n, max, j + 1 + k);
        return n < max ? n : max;
    }
    return -1;
}

/* MIGRATE host port key|"" db timeout [options] [KEYS k...]: the key at 3,
 * or, when it is "", the keys after KEYS (options are searched from 6;
 * AUTH's and AUTH2's arguments are skipped, a password may be "KEYS"). */
static int migrate_keys(int argc, char **argv, int *idx, int max) {
    if (argc > 6 && kstr_len(argv[3]) == 0) {
        for (int j = 6; j < argc; j++) {
            if (arg_equals(argv[j], "auth")) {
                j++;
                continue;
            }
            if (arg_equals(argv[j], "auth2")) {
                j += 2;
                continue;
            }
            if (!arg_equals(argv[j], "keys")) continue;
            int n = 0;
            for (int k = j + 1; k < argc; k++) n = add_key(idx, n, max, k);
            return n < max ? n : max;
        }
        return 0;
    }
    return add_key(idx, 0, max, 3) < max ? 1 : max;
}

static int is_movable(const command *cmd) {
    if (is_xread(cmd) || !strcmp(cmd->name, "migrate")) return 1;
    for (size_t i = 0; i < sizeof(movable_specs) / sizeof(movable_specs[0]); i++)
        if (!strcmp(movable_specs[i].name, cmd->name)) return 1;
    return 0;
}

int command_has_keys(const command *cmd) { return cmd->first_key > 0 || is_movable(cmd); }

int command_get_keys(const command *cmd, int argc, char **argv, int *idx, int max) {
    /* PFMERGE dest: Redis finds the sources with a second key spec that
     * begins at argv[2]; a request that does not reach it is invalid. */
    if (!strcmp(cmd->name, "pfmerge") && argc < 3) return -1;
    if (is_xread(cmd)) return xread_keys(argc, argv, idx, max);
    if (!strcmp(cmd->name, "migrate")) return migrate_keys(argc, argv, idx, max);
    for (size_t i = 0; i < sizeof(movable_specs) / sizeof(movable_specs[0]); i++) {
        if (strcmp(movable_specs[i].name, cmd->name) != 0) continue;
        int n = numkeys_keys(&movable_specs[i], argc, argv, idx, max);
        return n < max ? n : max;
    }
    if (cmd->first_key <= 0) return 0;
    int n = 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    for (int j = cmd->first_key; j <= last && j < argc; j += cmd->key_step)
        n = add_key(idx, n, max, j);
    if (!strcmp(cmd->name, "sort")) {
        int store = sort_store_key(argc, argv);
        if (store) n = add_key(idx, n, max, store);
    } else if (!strcmp(cmd->name, "georadius") || !strcmp(cmd->name, "georadiusbymember")) {
        n = georadius_store_keys(cmd, argc, argv, idx, n, max);
    }
    return n < max ? n : max;
}

/* ---- how each key is used ---- */

static const struct key_flags {
    const char *name;  /* command fullname: "get", "object|encoding" */
    const char *first; /* flags of the first key */
    const char *rest;  /* flags of the other keys (NULL: same as first) */
} key_flags[] = {
    {"append", "RW insert"},
    {"bitcount", "RO access"},
    {"bitfield_ro", "RO access"},
    {"bitop", "OW update", "RO access"},
    {"bitpos", "RO access"},
    {"blmove", "RW access delete", "RW insert"},
    {"blmpop", "RW access delete"},
    {"blpop", "RW access delete"},
    {"brpop", "RW access delete"},
    {"brpoplpush", "RW access delete", "RW insert"},
    {"bzmpop", "RW access delete"},
    {"bzpopmax", "RW access delete"},
    {"bzpopmin", "RW access delete"},
    {"copy", "RO access", "OW update"},
    {"decr", "RW access update"},
    {"decrby", "RW access update"},
    {"del", "RM delete"},
    {"eval", "RW access update"}, /* scripts: Redis assumes the worst */
    {"eval_ro", "RO access"},
    {"evalsha", "RW access update"},
    {"evalsha_ro", "RO access"},
    {"exists", "RO"},
    {"expire", "RW update"},
    {"expireat", "RW update"},
    {"expiretime", "RO access"},
    {"fcall", "RW access update"},
    {"fcall_ro", "RO access"},
    {"geoadd", "RW update"},
    {"geodist", "RO access"},
    {"geohash", "RO access"},
    {"geopos", "RO access"},
    {"georadius", "RO access", "OW update"},
    {"georadius_ro", "RO access"},
    {"georadiusbymember", "RO access", "OW update"},
    {"georadiusbymember_ro", "RO access"},
    {"geosearch", "RO access"},
    {"geosearchstore", "OW update", "RO access"},
    {"get", "RO access"},
    {"getbit", "RO access"},
    {"getdel", "RW access delete"},
    {"getex", "RW access update"},
    {"getrange", "RO access"},
    {"getset", "RW access update"},
    {"hdel", "RW delete"},
    {"hexists", "RO"},
    {"hget", "RO access"},
    {"hgetall", "RO access"},
    {"hincrby", "RW access update"},
    {"hincrbyfloat", "RW access update"},
    {"hkeys", "RO access"},
    {"hlen", "RO"},
    {"hmget", "RO access"},
    {"hmset", "RW update"},
    {"hrandfield", "RO access"},
    {"hscan", "RO access"},
    {"hset", "RW update"},
    {"hsetnx", "RW insert"},
    {"hstrlen", "RO"},
    {"hvals", "RO access"},
    {"incr", "RW access update"},
    {"incrby", "RW access update"},
    {"incrbyfloat", "RW access update"},
    {"lcs", "RO access"},
    {"lindex", "RO access"},
    {"linsert", "RW insert"},
    {"llen", "RO"},
    {"lmove", "RW access delete", "RW insert"},
    {"lmpop", "RW access delete"},
    {"lpop", "RW access delete"},
    {"lpos", "RO access"},
    {"lpush", "RW insert"},
    {"lpushx", "RW insert"},
    {"lrange", "RO access"},
    {"lrem", "RW delete"},
    {"lset", "RW update"},
    {"ltrim", "RW delete"},
    {"memory|usage", "RO"},
    {"mget", "RO access"},
    {"migrate", "RW access delete"},
    {"move", "RW access update"},
    {"mset", "OW update"},
    {"msetnx", "OW insert"},
    {"object|encoding", "RO"},
    {"object|freq", "RO"},
    {"object|idletime", "RO"},
    {"object|refcount", "RO"},
    {"persist", "RW update"},
    {"pexpire", "RW update"},
    {"pexpireat", "RW update"},
    {"pexpiretime", "RO access"},
    {"pfadd", "RW insert"},
    {"pfcount", "RW access"},
    {"pfdebug", "RW access"},
    {"pfmerge", "RW access insert", "RO access"},
    {"psetex", "OW update"},
    {"pttl", "RO access"},
    {"rename", "RW access delete", "OW update"},
    {"renamenx", "RW access delete", "OW insert"},
    {"rpop", "RW access delete"},
    {"rpoplpush", "RW access delete", "RW insert"},
    {"rpush", "RW insert"},
    {"rpushx", "RW insert"},
    {"sadd", "RW insert"},
    {"scard", "RO"},
    {"sdiff", "RO access"},
    {"sdiffstore", "OW update", "RO access"},
    {"setbit", "RW access update"},
    {"setex", "OW update"},
    {"setnx", "OW insert"},
    {"setrange", "RW update"},
    {"sinter", "RO access"},
    {"sintercard", "RO access"},
    {"sinterstore", "RW update", "RO access"},
    {"sismember", "RO"},
    {"smembers", "RO access"},
    {"smismember", "RO access"},
    {"smove", "RW access delete", "RW insert"},
    {"sort", "RO access", "OW update"},
    {"sort_ro", "RO access"},
    {"spop", "RW access delete"},
    {"srandmember", "RO access"},
    {"srem", "RW delete"},
    {"sscan", "RO access"},
    {"strlen", "RO"},
    {"substr", "RO access"},
    {"sunion", "RO access"},
    {"sunionstore", "OW update", "RO access"},
    {"touch", "RO"},
    {"ttl", "RO access"},
    {"type", "RO"},
    {"unlink", "RM delete"},
    {"watch", "RO"},
    {"zadd", "RW update"},
    {"zcard", "RO"},
    {"zcount", "RO access"},
    {"zdiff", "RO access"},
    {"zdiffstore", "OW update", "RO access"},
    {"zincrby", "RW access update"},
    {"zinter", "RO access"},
    {"zintercard", "RO access"},
    {"zinterstore", "OW update", "RO access"},
    {"zlexcount", "RO access"},
    {"zmpop", "RW access delete"},
    {"zmscore", "RO access"},
    {"zpopmax", "RW access delete"},
    {"zpopmin", "RW access delete"},
    {"zrandmember", "RO access"},
    {"zrange", "RO access"},
    {"zrangebylex", "RO access"},
    {"zrangebyscore", "RO access"},
    {"zrangestore", "OW update", "RO access"},
    {"zrank", "RO access"},
    {"zrem", "RW delete"},
    {"zremrangebylex", "RW delete"},
    {"zremrangebyrank", "RW delete"},
    {"zremrangebyscore", "RW delete"},
    {"zrevrange", "RO access"},
    {"zrevrangebylex", "RO access"},
    {"zrevrangebyscore", "RO access"},
    {"zrevrank", "RO access"},
    {"zscan", "RO access"},
    {"zscore", "RO access"},
    {"zunion", "RO access"},
    {"zunionstore", "OW update", "RO access"},
};

/* SET k v ... GET returns the old value: it reads the key. */
static const char *set_key_flags(int argc, char **argv) {
    for (int j = 3; j < argc; j++)
        if (arg_equals(argv[j], "get")) return "RW access update";
    return "OW update";
}

/* BITFIELD is a read when it holds only complete GET type offset and
 * OVERFLOW mode operations; anything else (SET, INCRBY, a truncated or
 * unknown operation) makes it a write, as in Redis. */
static const char *bitfield_key_flags(int argc, char **argv) {
    for (int j = 2; j < argc; j++) {
        if (arg_equals(argv[j], "get") && j + 2 < argc) j += 2;
        else if (arg_equals(argv[j], "overflow") && j + 1 < argc) j += 1;
        else return "RW access update";
    }
    return "RO access";
}

static const struct key_flags *find_row(const char *fullname) {
    for (size_t i = 0; i < sizeof(key_flags) / sizeof(key_flags[0]); i++)
        if (!strcmp(key_flags[i].name, fullname)) return &key_flags[i];
    return NULL;
}

const char *command_key_flags(const command *cmd, int argc, char **argv, int nth) {
    if (!strcmp(cmd->fullname, "set")) return set_key_flags(argc, argv);
    if (!strcmp(cmd->fullname, "bitfield")) return bitfield_key_flags(argc, argv);
    const struct key_flags *row = find_row(cmd->fullname);
    if (!row) return (cmd->flags & CMD_WRITE) ? "RW" : "RO";
    return nth > 0 && row->rest ? row->rest : row->first;
}
