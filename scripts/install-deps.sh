#!/bin/sh
# Installs the Debian packages Keel needs to build, test and benchmark,
# but only those that are missing, so that a second `make run` is instant.
set -e
PKGS="build-essential clang libjemalloc-dev libcriterion-dev pkg-config \
      python3 python3-pytest python3-redis redis-tools redis-server nodejs"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# Debian's nodejs comes without npm; NodeSource's includes it.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    echo "keel: installing missing Debian packages:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
# Node.js client tests (tests/clients): ioredis from npm, pinned by package-lock.json.
CLIENTS="$(dirname "$0")/../tests/clients"
if [ ! -d "$CLIENTS/node_modules/ioredis" ]; then
    echo "keel: installing the Node.js client test dependencies (npm ci)"
    (cd "$CLIENTS" && npm ci --no-audit --no-fund --loglevel=error)
fi
