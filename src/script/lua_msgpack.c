/* cmsgpack: not written yet; the table exists so that scripts see the
 * global (and its read-only protection) as in Redis. */
#include "script/lua_vm.h"

int luaopen_keel_cmsgpack(lua_State *L) {
    lua_newtable(L);
    return 1;
}
