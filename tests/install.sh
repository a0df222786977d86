#!/usr/bin/env bash
# tests/install.sh BUILD_DIR — what `cmake --install` puts in place, and the
# command line's usage and help: the binary, the man page iasql(1) (made
# from docs/iasql.1.md, renders without a groff warning), the systemd unit
# template (systemd-analyze verify says nothing about it), an unknown
# command and a missing CONNINFO named as such, and `iasql help` covering
# every command of the man page.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B="$ROOT/$1"
fail() { echo "install test: $*" >&2; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

DESTDIR="$t/root" cmake --install "$B" --prefix /usr >"$t/install.log" 2>&1 || { cat "$t/install.log"; fail "cmake --install failed"; }
for f in usr/bin/iasql usr/share/man/man1/iasql.1 usr/lib/systemd/system/iasql@.service; do
  [ -s "$t/root/$f" ] || fail "$f was not installed"
done
[ -x "$t/root/usr/bin/iasql" ] || fail "usr/bin/iasql is not executable"
"$t/root/usr/bin/iasql" version | grep -q '^iasql [0-9]' || fail "the installed binary does not run"
grep -q '^ExecStart=/usr/bin/iasql run \${IASQL_CONNINFO} --journal /var/lib/iasql/%i' \
  "$t/root/usr/lib/systemd/system/iasql@.service" || fail "the unit does not run /usr/bin/iasql"

# the man page: no groff warning, and every command in it
warn=$(groff -man -ww -z "$t/root/usr/share/man/man1/iasql.1" 2>&1)
[ -z "$warn" ] || fail "groff warns about iasql.1: $warn"
page=$(MANWIDTH=100 man -l "$t/root/usr/share/man/man1/iasql.1" 2>/dev/null)
for c in init run commit preview sync rollback status "journal dump" version help; do
  grep -q "iasql $c" <<<"$page" || fail "the man page lacks iasql $c"
done

# the unit, as systemd reads it (the binary where this install put it)
sed "s#/usr/bin/iasql#$t/root/usr/bin/iasql#" "$t/root/usr/lib/systemd/system/iasql@.service" >"$t/iasql@ci.service"
if command -v systemd-analyze >/dev/null 2>&1; then
  out=$(MANPATH="$t/root/usr/share/man" systemd-analyze verify "$t/iasql@ci.service" 2>&1)
  [ $? -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify: $out"
else
  echo "systemd-analyze is not installed: the unit is not verified" >&2
  exit 1
fi

# the command line
bin="$B/iasql"
out=$("$bin" bogus 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'unknown command "bogus"' <<<"$out" || fail "iasql bogus: $rc $out"
out=$("$bin" commit 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'iasql commit: CONNINFO missing' <<<"$out" && grep -q 'usage: iasql commit CONNINFO' <<<"$out" ||
  fail "iasql commit: $rc $out"
out=$("$bin" help 2>&1) || fail "iasql help failed"
n=$(grep -c '^### ' "$ROOT/docs/iasql.1.md")
[ "$(grep -c '^  iasql ' <<<"$out")" -eq "$n" ] || fail "iasql help lists $(grep -c '^  iasql ' <<<"$out") commands, the man page $n"
out=$("$bin" help run 2>&1) || fail "iasql help run failed"
grep -q -- '--log-format text|json' <<<"$out" || fail "iasql help run: $out"
out=$("$bin" help nothing 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'unknown command "nothing"' <<<"$out" || fail "iasql help nothing: $rc $out"
out=$("$bin" run 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'CONNINFO missing' <<<"$out" || fail "iasql run: $rc $out"
out=$("$bin" run x --log-format xml 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- '--log-format takes text or json' <<<"$out" || fail "iasql run --log-format xml: $rc $out"
echo "installed and verified: $(cd "$t/root" && find . -type f | sort | tr '\n' ' ')"
