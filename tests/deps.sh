#!/usr/bin/env bash
# tests/deps.sh — installs what the build, the tests and the demo need, from
# Debian's packages and npm, when it is missing. Safe to run again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need_apt=0
for pc in libpq libcurl libcrypto lmdb jansson libxml-2.0 cmocka libmicrohttpd; do
  pkg-config --exists "$pc" 2>/dev/null || need_apt=1
done
for cmd in cmake gcc make psql pkg-config python3 curl; do
  command -v "$cmd" >/dev/null 2>&1 || need_apt=1
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt=1
ls /usr/share/postgresql/*/extension/dblink.control >/dev/null 2>&1 || need_apt=1
command -v npm >/dev/null 2>&1 || need_apt=1
command -v clang >/dev/null 2>&1 || need_apt=1
command -v clang-format >/dev/null 2>&1 || need_apt=1
for cmd in groff man systemd-analyze; do # the install test
  command -v "$cmd" >/dev/null 2>&1 || need_apt=1
done
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need_apt=1

if [ "$need_apt" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing build or test dependencies; as root run: $0" >&2
    exit 1
  fi
  echo "installing Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  pkgs=(build-essential cmake pkg-config curl ca-certificates python3
    libpq-dev libcurl4-openssl-dev libssl-dev liblmdb-dev lmdb-utils libjansson-dev
    libxml2-dev libcmocka-dev libmicrohttpd-dev postgresql postgresql-contrib postgresql-client
    clang libclang-rt-dev clang-format groff-base man-db systemd)
  # A Node.js from elsewhere (NodeSource's nodejs carries its own npm and
  # conflicts with Debian's npm package) is kept as it is.
  command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# The npm emulators, and moto_server, which comes with the machine image
# (Python moto with its server extras); PyPI is not reachable here, so this
# script cannot install it.
source "$ROOT/tests/services.sh"
iasql_npm_emulators
iasql_find_moto >/dev/null
