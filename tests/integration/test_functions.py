"""Redis 7 Functions: FUNCTION LOAD/LIST/DELETE/FLUSH/STATS/KILL/HELP,
FCALL and FCALL_RO (Redis 7.0 rules).

Validated against Redis too:
    KEEL_SERVER=/usr/bin/redis-server /usr/bin/python3 -m pytest -q tests/integration/test_functions.py
"""

import threading
import time

import pytest
import redis

LIB = """#!lua name=mylib
redis.register_function('getkey', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function{
  function_name = 'echo_ro',
  callback = function(keys, args) return args[1] end,
  flags = {'no-writes'},
  description = 'echoes its argument',
}
redis.register_function('setkey', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
"""


def as_dict(x):
    """redis-py returns FUNCTION LIST's maps as flat lists (RESP2)."""
    if isinstance(x, dict):
        return x
    return {x[i]: x[i + 1] for i in range(0, len(x), 2)}


@pytest.fixture
def f(r):
    r.function_flush()
    yield r
    r.function_flush()


def test_load_and_fcall(f):
    assert f.function_load(LIB) == b"mylib"
    assert f.fcall("setkey", 1, "k", "v") == b"OK"
    assert f.fcall("getkey", 1, "k") == b"v"
    assert f.fcall_ro("echo_ro", 0, "hi") == b"hi"


def test_fcall_errors(f):
    f.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("nosuch", 0)
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater than number of args"):
        f.fcall("getkey", 2, "k")
    with pytest.raises(redis.ResponseError, match="Number of keys can't be negative"):
        f.fcall("getkey", -1)
    with pytest.raises(redis.ResponseError, match="Bad number of keys provided"):
        f.execute_command("FCALL", "getkey", "x")
    with pytest.raises(redis.ResponseError, match="Can not execute a script with write flag using \\*_ro command."):
        f.fcall_ro("setkey", 1, "k", "v")


def test_load_errors(f):
    with pytest.raises(redis.ResponseError, match="Missing library metadata"):
        f.function_load("return 1")
    with pytest.raises(redis.ResponseError, match="Library name was not given"):
        f.function_load("#!lua\nreturn 1")
    with pytest.raises(redis.ResponseError, match="Engine 'python' not found"):
        f.function_load("#!python name=x\nreturn 1")
    with pytest.raises(redis.ResponseError, match="Invalid metadata value given: foo=bar"):
        f.function_load("#!lua name=x foo=bar\nreturn 1")
    with pytest.raises(redis.ResponseError, match="Library names can only contain letters, numbers, or underscores"):
        f.function_load("#!lua name=a-b\nreturn 1")
    with pytest.raises(redis.ResponseError, match="No functions registered"):
        f.function_load("#!lua name=empty\nlocal x = 1")
    with pytest.raises(redis.ResponseError, match="Error compiling function"):
        f.function_load("#!lua name=bad\nreturn (")
    with pytest.raises(redis.ResponseError, match="Error registering functions"):
        f.function_load("#!lua name=bad\nerror('boom')")
    with pytest.raises(redis.ResponseError, match="Unknown option given: FOO"):
        f.execute_command("FUNCTION", "LOAD", "FOO", "#!lua name=x\n")


def test_register_function_errors(f):
    with pytest.raises(redis.ResponseError, match="wrong number of arguments to redis.register_function"):
        f.function_load("#!lua name=x\nredis.register_function()")
    with pytest.raises(redis.ResponseError, match="unknown flag given"):
        f.function_load("#!lua name=x\nredis.register_function{function_name='a', callback=function() end, flags={'bad'}}")
    with pytest.raises(redis.ResponseError, match="unknown argument given to redis.register_function"):
        f.function_load("#!lua name=x\nredis.register_function{function_name='a', callback=function() end, foo=1}")
    with pytest.raises(redis.ResponseError, match="redis.register_function must get a callback argument"):
        f.function_load("#!lua name=x\nredis.register_function{function_name='a'}")
    with pytest.raises(redis.ResponseError, match="Function already exists in the library"):
        f.function_load("#!lua name=x\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)")
    # Outside FUNCTION LOAD, the redis table has no register_function.
    f.function_load("#!lua name=y\nredis.register_function('c', function() redis.register_function('b', function() end) end)")
    with pytest.raises(redis.ResponseError, match="attempt to call field 'register_function' \\(a nil value\\)"):
        f.fcall("c", 0)


def test_replace_and_collisions(f):
    f.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library 'mylib' already exists"):
        f.function_load(LIB)
    assert f.function_load("#!lua name=mylib\nredis.register_function('getkey', function() return 'v2' end)", replace=True) == b"mylib"
    assert f.fcall("getkey", 0) == b"v2"
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("setkey", 0)
    with pytest.raises(redis.ResponseError, match="Function getkey already exists"):
        f.function_load("#!lua name=other\nredis.register_function('getkey', function() return 1 end)")


def test_list(f):
    f.function_load(LIB)
    f.function_load("#!lua name=second\nredis.register_function('two', function() return 2 end)")
    libs = [as_dict(l) for l in f.function_list()]
    assert sorted(l[b"library_name"] for l in libs) == [b"mylib", b"second"]
    mylib = [l for l in libs if l[b"library_name"] == b"mylib"][0]
    assert mylib[b"engine"] == b"LUA"
    fns = {fn[b"name"]: fn for fn in (as_dict(x) for x in mylib[b"functions"])}
    assert fns[b"echo_ro"][b"description"] == b"echoes its argument"
    assert fns[b"echo_ro"][b"flags"] == [b"no-writes"]
    assert fns[b"getkey"][b"description"] is None
    assert fns[b"getkey"][b"flags"] == []
    assert b"library_code" not in mylib
    only = [as_dict(l) for l in f.function_list(library="my*", withcode=True)]
    assert len(only) == 1 and only[0][b"library_code"] == LIB.encode()
    with pytest.raises(redis.ResponseError, match="library name argument was not given"):
        f.execute_command("FUNCTION", "LIST", "LIBRARYNAME")
    with pytest.raises(redis.ResponseError, match="Unknown argument FOO"):
        f.execute_command("FUNCTION", "LIST", "FOO")


def test_delete_and_flush(f):
    f.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library not found"):
        f.function_delete("nosuch")
    assert f.function_delete("mylib") is True
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("getkey", 1, "k")
    f.function_load(LIB)
    assert f.function_flush("ASYNC") is True
    assert f.function_list() == []
    with pytest.raises(redis.ResponseError, match="FUNCTION FLUSH only supports SYNC|ASYNC option"):
        f.execute_command("FUNCTION", "FLUSH", "LATER")


def test_stats_and_info(f, server):
    f.function_load(LIB)
    with server.raw() as c:
        st = c.cmd("FUNCTION", "STATS")
    assert st[0] == b"running_script" and st[1] is None
    assert st[2] == b"engines"
    assert st[3] == [b"LUA", [b"libraries_count", 1, b"functions_count", 3]]
    mem = f.info("memory")
    assert mem["number_of_functions"] == 3 and mem["number_of_libraries"] == 1
    assert mem["used_memory_vm_functions"] > 0
    with pytest.raises(redis.ResponseError, match="NOTBUSY No scripts in execution right now."):
        f.execute_command("FUNCTION", "KILL")


def test_function_error_names_the_function(f):
    f.function_load("#!lua name=e\nredis.register_function('fails', function() return redis.call('nosuch') end)")
    with pytest.raises(redis.ResponseError, match=r"Unknown Redis command called from script script: fails, on @user_function:2\."):
        f.fcall("fails", 0)


def test_functions_keys_and_args_are_arguments(f):
    f.function_load("#!lua name=a\nredis.register_function('ka', function(keys, args) return {keys[1], args[1], #keys, #args} end)")
    assert f.fcall("ka", 1, "k", "a", "b") == [b"k", b"a", 1, 2]


def test_function_kill_and_stats_while_busy(start_server):
    srv = start_server()
    a, b = srv.client(), srv.client()
    b.config_set("busy-reply-threshold", "50")
    b.function_load("#!lua name=loop\nredis.register_function('spin', function() while true do end end)")
    out = {}

    def run():
        try:
            a.fcall("spin", 0)
        except redis.ResponseError as e:
            out["err"] = str(e)
    t = threading.Thread(target=run)
    t.start()
    end = time.time() + 20
    while time.time() < end:
        try:
            b.ping()
        except redis.ResponseError as e:
            if "BUSY" in str(e):
                assert "FUNCTION KILL" in str(e)
                break
        except redis.exceptions.BusyLoadingError:
            break
        time.sleep(0.02)
    with srv.raw() as c:
        st = c.cmd("FUNCTION", "STATS")
    assert st[1][1] == b"spin" and [x.lower() for x in st[1][3]] == [b"fcall", b"spin", b"0"]
    with pytest.raises(redis.ResponseError, match="BUSY"):
        b.execute_command("SCRIPT", "KILL")
    assert b.execute_command("FUNCTION", "KILL") == b"OK"
    t.join(20)
    assert "killed by user" in out["err"]


def test_load_timeout(f):
    with pytest.raises(redis.ResponseError, match="FUNCTION LOAD timeout"):
        f.function_load("#!lua name=slow\nwhile true do end")


def test_dump_and_restore(f):
    f.function_load(LIB)
    f.function_load("#!lua name=second\n-- " + "x" * 200 + "\nredis.register_function('two', function() return 2 end)")
    payload = f.function_dump()
    f.function_flush()
    assert f.function_restore(payload) is True
    assert f.fcall("two", 0) == 2 and f.fcall_ro("echo_ro", 0, "x") == b"x"
    with pytest.raises(redis.ResponseError, match="Library .* already exists"):
        f.function_restore(payload)
    assert f.function_restore(payload, "REPLACE") is True
    f.function_load("#!lua name=third\nredis.register_function('three', function() return 3 end)")
    assert f.function_restore(payload, "FLUSH") is True
    assert len(f.function_list()) == 2
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("three", 0)


def test_restore_errors_keep_existing_functions(f):
    f.function_load(LIB)
    payload = f.function_dump()
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        f.function_restore(payload[:-1] + bytes([payload[-1] ^ 1]))
    with pytest.raises(redis.ResponseError, match="Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."):
        f.function_restore(payload, "MERGE")
    f.function_flush()
    f.function_load("#!lua name=other\nredis.register_function('getkey', function() return 'other' end)")
    with pytest.raises(redis.ResponseError, match="Function getkey already exists"):
        f.function_restore(payload)
    assert f.fcall("getkey", 0) == b"other"
    assert len(f.function_list()) == 1


def test_empty_dump_restores(f):
    payload = f.function_dump()
    assert f.function_restore(payload) is True
    assert f.function_list() == []


@pytest.mark.parametrize("code,name", [
    ("local _ = math.random()", "math"),
    ("local _ = redis.call('ping')", "call"),
    ("redis.setresp(3)", "setresp"),
    ("local _ = getmetatable('')", "getmetatable"),
])
def test_load_time_globals_are_limited(f, code, name):
    with pytest.raises(redis.ResponseError, match="Script attempted to access nonexistent global variable '%s'" % name):
        f.function_load("#!lua name=lim\n" + code + "\nredis.register_function('x', function() return 1 end)")


def test_functions_see_full_globals_at_run_time(f):
    f.function_load("#!lua name=full\nredis.log(redis.LOG_NOTICE, 'loading')\n"
                    "redis.register_function('m', function() return string.upper(redis.call('ping')['ok']) end)")
    assert f.fcall("m", 0) == b"PONG"
