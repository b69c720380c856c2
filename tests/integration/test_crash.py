"""What a dying or stuck server leaves in its log: a bug report between
Redis's START/END markers with the signal and the stack trace (SIGSEGV
from DEBUG SEGFAULT, SIGABRT from outside), none when crash-log-enabled
is no, and the watchdog's stack trace of a command that holds the event
loop longer than watchdog-period. Redis's integration/logging unit checks
the same (with its own function names)."""

import os
import signal

import pytest
import redis

from keel_helpers import Server, running_against_redis, wait_for

ASAN = "asan" in os.path.basename(os.environ.get("KEEL_SERVER", ""))


def crashed(srv, how):
    srv.expected_exit = True
    how()
    srv.proc.wait(30)
    log = srv.log_text()
    srv.stop()
    return srv.proc.returncode, log


@pytest.mark.skipif(ASAN, reason="the sanitizer build leaves SIGSEGV to AddressSanitizer's own report")
def test_debug_segfault_writes_a_crash_report():
    srv = Server().start()
    c = srv.client()

    def segfault():
        with pytest.raises(redis.ConnectionError):
            c.execute_command("DEBUG", "SEGFAULT")

    status, log = crashed(srv, segfault)
    assert status == -signal.SIGSEGV
    assert "crashed by signal: 11" in log or running_against_redis()
    assert "STACK TRACE" in log
    if not running_against_redis():
        assert "=== KEEL BUG REPORT START" in log and "=== KEEL BUG REPORT END" in log
        assert "command_call" in log   # -rdynamic: extern functions are named


def test_sigabrt_writes_a_crash_report():
    srv = Server().start()
    status, log = crashed(srv, lambda: srv.proc.send_signal(signal.SIGABRT))
    assert status == -signal.SIGABRT
    assert "crashed by signal: 6" in log
    assert "STACK TRACE" in log


def test_crash_log_can_be_turned_off():
    srv = Server(extra_args=["--crash-log-enabled", "no"]).start()
    status, log = crashed(srv, lambda: srv.proc.send_signal(signal.SIGABRT))
    assert status == -signal.SIGABRT
    assert "crashed by signal" not in log and "STACK TRACE" not in log


def test_watchdog_logs_the_stack_of_a_slow_command(r, server):
    r.config_set("watchdog-period", 200)
    try:
        r.execute_command("DEBUG", "SLEEP", "1")
        assert wait_for(lambda: "WATCHDOG TIMER EXPIRED" in server.log_text(), timeout=10)
        if not running_against_redis():
            assert "command_call" in server.log_text()
    finally:
        r.config_set("watchdog-period", 0)
    assert list(r.config_get("watchdog-period").values()) in ([b"0"], ["0"])
