#!/bin/sh
# Installs the Debian packages Keel needs to build, test and benchmark,
# but only those that are missing, so that a second `make run` is instant.
set -e
PKGS="build-essential clang libjemalloc-dev libcriterion-dev pkg-config \
      python3 python3-pytest python3-redis redis-tools redis-server \
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev nodejs valgrind tcl \
      libssl-dev openssl iproute2 tcl-tls libedit-dev python3-pexpect \
      prometheus-redis-exporter prometheus libmicrohttpd-dev chromium"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# npm comes with NodeSource's nodejs; Debian's nodejs needs its npm package.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "keel: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
