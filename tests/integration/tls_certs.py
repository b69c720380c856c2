"""Certificates for the TLS tests, made with the openssl CLI in a temporary
directory: two CAs (the second for reload tests), a server certificate for
127.0.0.1/localhost from each, client certificates whose CN names a user,
a password-protected key and DH parameters."""

import os
import shutil
import subprocess
import tempfile


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


class Certs:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keel-tls-")
        d = self.dir
        ext = os.path.join(d, "server.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for ca in ("ca", "ca2"):
            _openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-sha256", "-days", "2",
                     "-keyout", ca + ".key", "-out", ca + ".crt", "-subj", "/CN=Keel test " + ca, cwd=d)
        self._signed("server", "ca", "/CN=Server", ext)
        self._signed("server2", "ca2", "/CN=Server two", ext)
        self._signed("client", "ca", "/CN=default")
        self._signed("alice", "ca", "/CN=alice")
        self._signed("stranger", "ca2", "/CN=default")
        _openssl("rsa", "-aes256", "-in", "server.key", "-out", "server-pass.key", "-passout", "pass:sekrit",
                 cwd=d)
        _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", "dh.pem", cwd=d)

    def _signed(self, name, ca, subject, ext=None):
        d = self.dir
        _openssl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-sha256", "-keyout", name + ".key",
                 "-out", name + ".csr", "-subj", subject, cwd=d)
        args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                "-CAcreateserial", "-days", "2", "-sha256", "-out", name + ".crt"]
        if ext:
            args += ["-extfile", ext]
        _openssl(*args, cwd=d)

    def path(self, name):
        return os.path.join(self.dir, name)

    def server_args(self, port, server="server", ca="ca"):
        return ["--tls-port", str(port), "--tls-cert-file", self.path(server + ".crt"),
                "--tls-key-file", self.path(server + ".key"), "--tls-ca-cert-file", self.path(ca + ".crt")]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
