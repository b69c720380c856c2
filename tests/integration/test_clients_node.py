"""Node.js client interoperability: runs tests/clients (node --test, with
ioredis from npm, installed by scripts/install-deps.sh) against the session
server.  Seed 003's ioredis cache-invalidation pattern runs there unchanged.

Missing node or node_modules is a failure, not a skip: install them with
scripts/install-deps.sh.
"""

import os
import subprocess

CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients")


def test_ioredis_suite(server, r):
    assert os.path.isdir(os.path.join(CLIENTS, "node_modules", "ioredis")), \
        "ioredis is not installed: run scripts/install-deps.sh"
    env = dict(os.environ, KEEL_PORT=str(server.port))
    proc = subprocess.run(["node", "--test"], cwd=CLIENTS, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
