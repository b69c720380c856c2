"""keel-cli's prompt, driven through a pseudo-terminal (pexpect).

The prompt names the server, "[db]" after SELECT, "(TX)" inside MULTI and
"(subscribed mode)" while subscribed; history goes to ~/.keelcli_history
or $REDISCLI_HISTFILE (not the commands that carry passwords) and comes
back with the up arrow; hints and TAB completion come from the server's
COMMAND DOCS; help, connect, clear, quit; and with stdin not a terminal the
lines are run as redis-cli runs them.
"""

import os
import termios
import time

import pexpect
import pytest

from cli_helpers import REDIS_CLI, Screen, client_env, keel_cli_binary, redis_server, run
from keel_helpers import free_port, wait_for

pytestmark = pytest.mark.usefixtures("flush_after")

UP_ARROW = "\x1b[A"


class Term:
    """keel-cli on a pseudo-terminal, read through a small screen emulator
    (libedit redraws characters one by one, so what a line shows is only
    visible on the rendered screen)."""

    def __init__(self, child):
        self.child = child
        self.screen = Screen()

    def pump(self, timeout=0.2):
        try:
            self.screen.feed(self.child.read_nonblocking(65536, timeout=timeout))
        except pexpect.TIMEOUT:
            pass

    def wait(self, cond, what, timeout=10):
        deadline = time.time() + timeout
        while not cond():
            if time.time() > deadline:
                raise AssertionError("waited for %s; screen:\n%s" % (what, self.screen.text()[-3000:]))
            self.pump()

    def expect(self, text):
        """text drawn anywhere on the screen"""
        self.wait(lambda: text in self.screen.text(), repr(text))

    def expect_line(self, text):
        """the cursor's line (a fresh prompt) starts with text (a hint may
        follow at the right), and the line editor reads keys: libedit
        draws the prompt before it puts the terminal in raw mode, and keys
        typed in between would be seen by the line discipline first."""
        self.wait(lambda: (self.screen.current_line() + " ").startswith(text), "line %r" % text)
        self.wait(lambda: not termios.tcgetattr(self.child.child_fd)[3] & termios.ICANON, "raw mode")

    def send(self, s):
        self.child.send(s)

    def sendline(self, s):
        self.child.send(s + "\r")

    def command(self, s, then):
        """type s, Enter, wait for text; returns the screen from then on"""
        row = self.screen.row
        self.sendline(s)
        self.wait(lambda: then in self.screen.text_from(row), "%r after %r" % (then, s))


def spawn(srv, tmp_path, *extra, env=None, port=None):
    e = client_env({"HOME": str(tmp_path), "TERM": "xterm"})
    if env:
        e.update(env)
    args = ["-h", srv.host, "-p", str(port or srv.port)] + list(extra)
    c = pexpect.spawn(keel_cli_binary(), args, env=e, encoding="utf-8",
                      timeout=10, dimensions=(40, 250))
    return Term(c)


def prompt(srv, suffix=""):
    return "%s:%d%s> " % (srv.host, srv.port, suffix)


def quit_cli(t):
    t.sendline("quit")
    t.child.expect(pexpect.EOF)
    t.child.close()
    assert t.child.exitstatus == 0


@pytest.fixture(scope="module")
def redis7():
    srv = redis_server()
    srv.start()
    yield srv
    srv.stop()


def test_prompt_follows_db_and_transactions(r, server, tmp_path):
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.command("select 2", "OK")
    t.expect_line(prompt(server, "[2]"))
    t.command("multi", "OK")
    t.expect_line(prompt(server, "[2](TX)"))
    t.command("set a 1", "QUEUED")
    t.command("exec", "1) OK")
    t.expect_line(prompt(server, "[2]"))
    t.command("multi", "OK")
    t.expect_line(prompt(server, "[2](TX)"))
    t.command("discard", "OK")
    t.expect_line(prompt(server, "[2]"))
    t.command("select 0", "OK")
    t.expect_line(prompt(server))
    t.command("3 incr counter", "(integer) 3")
    quit_cli(t)
    assert server.client(db=2).get("a") == b"1"
    assert r.get("a") is None and r.get("counter") == b"3"


def test_replies_printed_as_on_a_terminal(r, server, tmp_path):
    r.rpush("l", *["v%d" % i for i in range(10)])
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.command("lrange l 0 -1", '10) "v9"')
    t.expect(' 1) "v0"\n 2) "v1"')
    t.command("get nokey", "(nil)")
    t.command("nosuchcommand", "(error) ERR unknown command")
    t.command('set "unbalanced', "Invalid argument(s)")
    quit_cli(t)


def test_history_file_and_up_arrow(r, server, tmp_path):
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.command("set histkey 41", "OK")
    t.command("incr histkey", "(integer) 42")
    t.command("auth secretpassword", "(error)")
    t.send(UP_ARROW + UP_ARROW)     # back over AUTH to INCR
    t.expect_line(prompt(server) + "incr histkey")
    t.command("", "(integer) 43")
    quit_cli(t)
    lines = (tmp_path / ".keelcli_history").read_text().splitlines()
    assert lines == ["set histkey 41", "incr histkey", "incr histkey", "quit"]

    # The next session starts with that history (AUTH was never written).
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.send(UP_ARROW + UP_ARROW)
    t.expect_line(prompt(server) + "incr histkey")
    t.command("", "(integer) 44")
    quit_cli(t)


def test_histfile_from_environment(r, server, tmp_path):
    path = tmp_path / "elsewhere"
    t = spawn(server, tmp_path, env={"REDISCLI_HISTFILE": str(path)})
    t.expect_line(prompt(server))
    t.command("ping", "PONG")
    quit_cli(t)
    assert path.read_text() == "ping\nquit\n"
    assert not (tmp_path / ".keelcli_history").exists()


def test_hints_from_command_docs(redis7, tmp_path):
    """Debian's redis-server documents every argument: the hint is the
    command's syntax, minus what is already typed."""
    t = spawn(redis7, tmp_path)
    t.expect_line(prompt(redis7))
    t.send("set ")
    t.wait(lambda: t.screen.current_line().endswith(
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
        "PXAT unix-time-milliseconds|KEEPTTL]"), "the SET hint")
    t.send("k v ")
    t.wait(lambda: t.screen.current_line().endswith(" [NX|XX] [GET] [EX seconds|PX milliseconds|"
                                                    "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]")
           and "key value" not in t.screen.current_line(), "the hint after key and value")
    t.command("", "OK")
    t.send("zadd ")
    t.wait(lambda: t.screen.current_line().endswith(
        "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"), "the ZADD hint")
    t.send("\x15")                  # Ctrl-U: drop the line
    t.expect_line(prompt(redis7))
    quit_cli(t)


@pytest.mark.keel_only
def test_hints_without_argument_docs(server, tmp_path):
    """Keel's COMMAND DOCS has no argument lists yet: the hint comes from
    COMMAND's arity and key positions."""
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.send("getrange ")
    t.wait(lambda: t.screen.current_line().endswith("key arg arg"), "the GETRANGE hint")
    t.send("mykey ")
    t.wait(lambda: t.screen.current_line().endswith(" arg arg") and
           "key arg arg" not in t.screen.current_line(), "the hint after the key")
    t.send("\x15")
    quit_cli(t)


def test_tab_completion(r, server, tmp_path):
    r.hset("h", "f", "v")
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.send("hgeta\t")
    t.wait(lambda: t.screen.current_line().startswith(prompt(server) + "HGETALL "), "completion")
    t.command("h", '1) "f"')
    t.send("help @strin\t")
    t.wait(lambda: t.screen.current_line().startswith(prompt(server) + "help @string"), "topic completion")
    t.command("", "GETRANGE")
    quit_cli(t)


def test_help(server, tmp_path):
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.command("help", '"help @<group>"')
    t.command("help get", "group: string")
    t.expect("summary:")
    t.command("help config get", "CONFIG GET")
    t.command("help @list", "LPUSH")
    quit_cli(t)


def test_connect_and_clear(server, redis7, tmp_path):
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))
    t.sendline("connect %s %d" % (redis7.host, redis7.port))
    t.expect_line(prompt(redis7))
    t.command("info server", "redis_version:7.0")
    t.expect_line(prompt(redis7))
    t.sendline("clear")
    t.child.expect_exact("\x1b[H\x1b[2J")
    quit_cli(t)


def test_not_connected_then_connect(server, tmp_path):
    port = free_port()
    t = spawn(server, tmp_path, port=port)
    t.expect("Could not connect to Redis at %s:%d" % (server.host, port))
    t.expect_line("not connected> ")
    t.sendline("connect %s %d" % (server.host, server.port))
    t.expect_line(prompt(server))
    quit_cli(t)


def test_subscribed_mode(r, server, tmp_path):
    t = spawn(server, tmp_path, "-3")
    t.expect_line(prompt(server))
    t.command("subscribe news", "3) (integer) 1")
    wait_for(lambda: r.pubsub_numsub("news")[0][1] == 1)
    r.publish("news", "hello")
    t.expect('3) "hello"')
    t.send("\r")                     # a key: back to a prompt
    t.expect_line(prompt(server, "(subscribed mode)"))
    t.command("unsubscribe news", "3) (integer) 0")
    t.expect_line(prompt(server))
    quit_cli(t)


def test_stdin_not_a_terminal_runs_lines(r, server):
    script = b"set a 1\nincr a\nget a\nlrange nolist 0 -1\nhelp\n"
    base = ["-h", server.host, "-p", str(server.port)]
    got = run(keel_cli_binary(), base, stdin=script)
    r.flushall()
    want = run(REDIS_CLI, base, stdin=script.replace(b"help\n", b""))
    assert got[0] == want[0] == 0
    assert got[1].startswith(want[1])
    assert want[1] == b"OK\n2\n2\n\n"


def test_eof_leaves_cleanly(server, tmp_path):
    t = spawn(server, tmp_path)
    t.expect_line(prompt(server))    # and raw mode: ^D is a key, not the tty's EOF
    t.child.sendeof()
    t.child.expect(pexpect.EOF)
    t.child.close()
    assert t.child.exitstatus == 0


def test_tracking_invalidation_push(r, server, tmp_path):
    """RESP3 pushes arriving with a reply are printed first, an
    invalidation in redis-cli's one-line form."""
    r.set("tracked", "1")
    t = spawn(server, tmp_path, "-3")
    t.expect_line(prompt(server))
    t.command("client tracking on", "OK")
    t.command("get tracked", '"1"')
    r.set("tracked", "2")
    t.command("ping", "PONG")
    t.expect("-> invalidate: 'tracked'\nPONG")
    quit_cli(t)
