/*
 * lua_reply: the conversions between Lua values and RESP, by Redis 7's
 * rules.
 *
 * Command reply -> Lua (what redis.call returns): integer -> number, bulk
 * -> string, null bulk or null array -> false, status -> {ok=s}, error ->
 * {err=s}, array -> table; and with redis.setresp(3): null -> nil, map ->
 * {map={...}}, set -> {set={k=true}}, double -> {double=n}, boolean ->
 * true/false, big number -> {big_number=s}, verbatim ->
 * {verbatim_string={format=..., string=...}}.
 *
 * Lua -> reply (what a script returns): string -> bulk, number -> integer
 * (truncated), true -> 1 (RESP3 scripts: boolean), false/nil -> null,
 * {err=} -> error, {ok=} -> status, {double=}, {big_number=},
 * {verbatim_string=}, {map=}, {set=}, else an array of t[1..] up to the
 * first nil. The client's own protocol then decides the encoding.
 */
#ifndef KEEL_LUA_REPLY_H
#define KEEL_LUA_REPLY_H

#include <lua.h>
#include "net/client.h"

/* Push the Lua value of the reply held in p[0..len) (exactly one reply).
 * Returns 0, or -1 (nothing pushed) when the bytes are not a reply. */
int lua_push_resp(lua_State *L, const char *p, size_t len);

/* Reply to c with the value on top of the stack (popped). script_resp is
 * the protocol the script chose with redis.setresp. funcname names the
 * script in error messages. */
void lua_reply_value(client *c, lua_State *L, int script_resp);

/* Reply the error on top of the stack (popped) of a failed run. */
void lua_reply_error(client *c, lua_State *L, const char *funcname, int status);

#endif
