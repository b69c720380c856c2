"""The process title (/proc/<pid>/cmdline, what ps shows) follows
proc-title-template as in Redis: "{title} {listen-addr} {server-mode}" by
default, every variable expanded, an unknown variable refused."""

import pytest
import redis


def title(server):
    with open("/proc/%d/cmdline" % server.proc.pid, "rb") as f:
        return f.read().replace(b"\0", b" ").decode().split()


def test_default_title_names_the_listener(r, server):
    words = title(server)
    assert words[0] == server.binary
    assert words[1] == "127.0.0.1:%d" % server.port


def test_template_variables(r, server):
    r.config_set("proc-title-template", "TEST {title} {listen-addr} {port} {tls-port} {unixsocket}")
    try:
        words = title(server)
        assert words[0] == "TEST"
        assert words[1] == server.binary
        assert words[2:6] == ["127.0.0.1:%d" % server.port, str(server.port), "0", server.unixsocket]
    finally:
        r.config_set("proc-title-template", "{title} {listen-addr} {server-mode}")
    assert title(server)[1] == "127.0.0.1:%d" % server.port


@pytest.mark.parametrize("bad", ["{invalid-var}", "{title", "{}"])
def test_bad_template_is_refused(r, bad):
    with pytest.raises(redis.ResponseError, match="template format is invalid"):
        r.config_set("proc-title-template", bad)
