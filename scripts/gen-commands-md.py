#!/usr/bin/python3
"""Generate docs/COMMANDS.md: every Redis 7.0 command and subcommand, grouped
by Redis command group, with Keel's support status.

    scripts/gen-commands-md.py [-o docs/COMMANDS.md]

Env: KEEL_SERVER  (default <repo>/bin/keel-server, built with make if missing)
     REDIS_SERVER (default /usr/bin/redis-server; should be Redis 7.0)

The command list (names and groups only) comes from COMMAND DOCS of a Redis
started on a free port. A command is "supported" when a Keel started on a free
port lists it in COMMAND (or COMMAND DOCS). docs/commands-notes.txt overrides
status and notes by hand. Everything else is "missing". A container command
(e.g. CONFIG) that Keel lists but whose subcommands it only partly lists is
"partial".
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
STATUSES = ("supported", "partial", "missing")
GROUP_ORDER = ["string", "generic", "list", "hash", "set", "sorted-set",
               "bitmap", "hyperloglog", "geo", "stream", "pubsub",
               "transactions", "scripting", "connection", "server",
               "cluster", "sentinel"]


class RespError(Exception):
    pass


class Conn:
    """Minimal RESP2 client: enough for PING, COMMAND, COMMAND DOCS."""

    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError("unexpected reply type %r" % line)

    def close(self):
        self.sock.close()


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(binary, workdir):
    """Start binary on a free 127.0.0.1 port; return (Popen, port)."""
    port = free_port()
    log = open(os.path.join(workdir, "%d.log" % port), "wb")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "",
         "--appendonly", "no", "--enable-debug-command", "yes"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("%s exited at startup, see %s" % (binary, log.name))
        try:
            c = Conn(port)
            ok = c.call("PING") == "PONG"
            c.close()
            if ok:
                return proc, port
        except (OSError, RespError):
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit("%s: no PONG on port %d" % (binary, port))


def pairs(flat):
    """RESP2 map (flat list k1, v1, k2, v2...) -> dict."""
    return dict(zip(flat[0::2], flat[1::2])) if isinstance(flat, list) else {}


def server_version(port):
    c = Conn(port)
    info = c.call("INFO", "server")
    c.close()
    fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
    return fields.get("redis_version", "?")


def norm(name):
    return name.lower().replace(" ", "|")


def redis_commands(port):
    """{'config|get': 'server', ...} from COMMAND DOCS, incl. subcommands."""
    out = {}
    for name, docs in pairs(Conn(port).call("COMMAND", "DOCS")).items():
        docs = pairs(docs)
        out[norm(name)] = docs.get("group", "other")
        for sub, sdocs in pairs(docs.get("subcommands")).items():
            out[norm(sub)] = pairs(sdocs).get("group", out[norm(name)])
    return out


def keel_commands(port):
    """Set of command names (and 'parent|sub' names) Keel reports."""
    c = Conn(port)
    names = set()
    try:
        info = c.call("COMMAND")
    except RespError as e:
        print("warning: Keel COMMAND failed: %s" % e, file=sys.stderr)
        info = []
    for entry in info or []:
        names.add(norm(entry[0]))
        # Redis 7 layout: entry[9] is the list of subcommand entries.
        if len(entry) > 9 and isinstance(entry[9], list):
            names.update(norm(s[0]) for s in entry[9] if s)
    try:
        for name, docs in pairs(c.call("COMMAND", "DOCS")).items():
            names.add(norm(name))
            names.update(norm(s) for s in pairs(pairs(docs).get("subcommands")))
    except (RespError, TypeError, AttributeError):
        pass  # COMMAND DOCS not implemented (or odd): COMMAND alone will do
    c.close()
    return names


def read_notes(path):
    """{'config|get': ('partial', 'note')} from NAME|status|note lines."""
    notes = {}
    if not os.path.exists(path):
        return notes
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|", 2)] + [""]
            name, status, note = parts[0], parts[1].lower(), parts[2]
            if status not in STATUSES:
                sys.exit("%s:%d: bad status %r" % (path, lineno, status))
            notes[norm(name)] = (status, note)
    return notes


def display(name):
    return name.upper().replace("|", " ")


def md_escape(text):
    return text.replace("|", "\\|")


def stub_parameters_section():
    """Configuration parameters accepted, no effect yet: the rows of
    src/core/config_stubs.c (their names and older aliases)."""
    import re
    path = os.path.join(ROOT, "src", "core", "config_stubs.c")
    try:
        text = open(path).read()
    except OSError:
        return []
    rows = re.findall(r'STUB_[A-Z]+\("([a-z0-9-]+)", "([^"]*)"[^\n]*?(?:\.alias = "([a-z0-9-]+)")?\),', text)
    if not rows:
        return []
    out = ["## Configuration parameters accepted, no effect yet", "",
           "Redis 7.0 parameters whose feature Keel has not built yet. Each is accepted "
           "from the config file, the command line and CONFIG SET with Redis's type, "
           "range and default, stored, and returned by CONFIG GET and CONFIG REWRITE; "
           "none changes behaviour (src/core/config_stubs.c).", "",
           "| Parameter | Default | Older name |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % (n, md_escape(d) if d else '""', a) for n, d, a in sorted(rows)]
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "docs", "COMMANDS.md"))
    ap.add_argument("--notes", default=os.path.join(ROOT, "docs", "commands-notes.txt"))
    args = ap.parse_args()

    redis_bin = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
    default_keel = os.path.join(ROOT, "bin", "keel-server")
    keel_bin = os.environ.get("KEEL_SERVER", default_keel)
    if keel_bin == default_keel and not os.access(keel_bin, os.X_OK):
        subprocess.run(["make", "-C", ROOT], check=True, stdout=sys.stderr)

    procs = []
    with tempfile.TemporaryDirectory(prefix="keel-cmds.") as tmp:
        try:
            rproc, rport = start_server(redis_bin, tmp)
            procs.append(rproc)
            kproc, kport = start_server(keel_bin, tmp)
            procs.append(kproc)
            version = server_version(rport)
            if not version.startswith("7.0"):
                print("warning: %s is Redis %s, not 7.0" % (redis_bin, version), file=sys.stderr)
            commands = redis_commands(rport)
            keel = keel_commands(kport)
        finally:
            for p in procs:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    notes = read_notes(args.notes)
    for name in notes:
        if name not in commands and name not in keel:
            print("warning: %s: %s is neither a Redis %s nor a Keel command" % (args.notes, display(name), version),
                  file=sys.stderr)

    status = {}
    for name in commands:
        status[name] = ("supported" if name in keel else "missing", "")
    for name in commands:  # containers: partial unless all subcommands are there
        subs = [s for s in commands if s.startswith(name + "|")]
        if subs and name in keel and any(status[s][0] != "supported" for s in subs):
            status[name] = ("partial", "")
    status.update({n: v for n, v in notes.items() if n in commands})

    counts = {s: sum(1 for v in status.values() if v[0] == s) for s in STATUSES}
    summary = "%d commands: %d supported, %d partial, %d missing" % (
        len(status), counts["supported"], counts["partial"], counts["missing"])

    groups = sorted(set(commands.values()),
                    key=lambda g: (GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER), g))
    out = ["# Keel command support", "",
           "**%s**" % summary, "",
           "Generated by `scripts/gen-commands-md.py` against Redis %s; do not edit by hand." % version,
           "Hand-written statuses and notes live in `docs/commands-notes.txt`.", ""]
    for g in groups:
        names = sorted(n for n in commands if commands[n] == g)
        c = {s: sum(1 for n in names if status[n][0] == s) for s in STATUSES}
        out += ["## %s" % g, "",
                "%d supported, %d partial, %d missing" % (c["supported"], c["partial"], c["missing"]), "",
                "| Command | Status | Notes |", "|---|---|---|"]
        out += ["| %s | %s | %s |" % (display(n), status[n][0], md_escape(status[n][1]))
                for n in names]
        out.append("")
    extra = sorted(n for n in keel if n not in commands)
    if extra:
        out += ["## Keel commands not in Redis %s" % version, "",
                "| Command | Notes |", "|---|---|"]
        out += ["| %s | %s |" % (display(n), md_escape(notes.get(n, ("", ""))[1])) for n in extra]
        out.append("")

    out += stub_parameters_section()

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    print("%s -> %s" % (summary, args.output))


if __name__ == "__main__":
    main()
