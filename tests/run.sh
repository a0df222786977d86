#!/usr/bin/env bash
# tests/run.sh — runs every test: installs what is missing, builds, runs the
# unit tests, starts PostgreSQL 15, moto_server (twice: once with signature
# checking on) and s3rver on free 127.0.0.1 ports, runs the integration tests
# against each emulator, repeats unit and integration tests under
# AddressSanitizer and UndefinedBehaviorSanitizer, runs the libFuzzer targets
# for a bounded time, and stops everything. The release suite and the
# sanitizer lane run side by side, each with services of its own.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tests/deps.sh || exit 1

JOBS=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failures=()

step() { # name command...
  local name=$1 t0=$SECONDS
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- ok: $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- FAILED: $name ($((SECONDS - t0)) s)"
    return 1
  fi
}

build() { # dir [cmake args...]
  local dir=$1
  shift
  mkdir -p "$dir"
  cmake -S . -B "$dir" "$@" >"$dir/cmake.log" 2>&1 || { cat "$dir/cmake.log"; return 1; }
  make -C "$dir" -j"$JOBS" >"$dir/make.log" 2>&1 || { grep -E "error|warning" "$dir/make.log" | head -50; return 1; }
}

source tests/services.sh

# Every test binary runs under a bound, so a hang fails its step instead of
# the whole run.
TEST_TIMEOUT=${IASQL_TEST_TIMEOUT:-900}

it_run() { # build-dir kind url key secret test
  timeout -k 10 "$TEST_TIMEOUT" env IASQL_BIN="$ROOT/$1/iasql" IT_EMULATOR_KIND="$2" IT_EMULATOR_URL="$3" IT_PG_SETUP="${IT_PG_SETUP:-}" IT_SKIP="${IT_SKIP:-}" \
    AWS_ACCESS_KEY_ID="$4" AWS_SECRET_ACCESS_KEY="$5" AWS_REGION=us-east-1 \
    ASAN_OPTIONS=detect_leaks=1 "$ROOT/$1/tests/$6"
}

# The same, on a database whose owner is not a superuser (managed PostgreSQL).
it_run_managed() {
  local IT_PG_SETUP=managed
  it_run "$@"
}

signing_run() { # build-dir
  iasql_start_moto INITIAL_NO_AUTH_ACTION_COUNT=3 || return 1
  timeout -k 10 "$TEST_TIMEOUT" env MOTO_AUTH_URL="http://127.0.0.1:$IASQL_PORT" "$ROOT/$1/tests/it_signing"
}

# The credential chain: a moto of its own, whose access checking the test
# turns on and off, and the endpoints of tests/integration/cred_server.py
# in front of it.
creds_run() { # build-dir
  iasql_start_moto || return 1
  local moto_url="http://127.0.0.1:$IASQL_PORT" state port
  state=$(mktemp -d "$IASQL_RUN_DIR/creds.XXXX")
  port=$(iasql_free_port)
  iasql_spawn "cred-server-$port" "$port" python3 "$ROOT/tests/integration/cred_server.py" "$port" "$state" "$moto_url" || return 1
  local fport
  fport=$(iasql_free_port)
  iasql_spawn "creds-faultproxy-$fport" "$fport" python3 "$ROOT/tests/faults/faultproxy.py" "$fport" "$moto_url" || return 1
  (export MOTO_AUTH_URL="$moto_url" CRED_SERVER_URL="http://127.0.0.1:$port" CRED_SERVER_STATE="$state" \
     CREDS_FAULT_URL="http://127.0.0.1:$fport"
    it_run "$1" moto "$moto_url" test test it_creds)
}

# A test against a moto of its own: what the other tests left in the shared
# one (which every install and sync reads) does not weigh on it.
own_moto_run() { # build-dir test
  iasql_start_moto || return 1
  it_run "$1" moto "http://127.0.0.1:$IASQL_PORT" test test "$2"
}

# The cloud failing: a moto and a fault proxy of its own, so that what the
# other tests left in the shared moto (which every install imports, through
# the slow proxy) does not weigh on it.
cloud_faults_run() { # build-dir
  iasql_start_moto || return 1
  local moto_url="http://127.0.0.1:$IASQL_PORT" fport
  fport=$(iasql_free_port)
  iasql_spawn "cloud-faultproxy-$fport" "$fport" python3 "$ROOT/tests/faults/faultproxy.py" "$fport" "$moto_url" || return 1
  (export MOTO_DIRECT_URL="$moto_url"
    it_run "$1" moto "http://127.0.0.1:$fport" test test ft_cloud)
}

# step runs its command in this shell, so the moto it starts is stopped too.
signing_run_step() { # name build-dir
  step "$1" signing_run "$2"
}

# A module's test. Each module's poll rotation (its test_*_rotation: quiet
# polls counted, engine restarts, changes waited for) is about requests and
# timing, which the sanitizers do not see: the release build runs them, the
# sanitizer build leaves them (it_poll's own rotation test still runs there).
module_run() { # label build-dir emulator url test
  local IT_SKIP=""
  [ "$1" = release ] || IT_SKIP='test_*_rotation'
  IT_SKIP=$IT_SKIP it_run "$2" "$3" "$4" test test "$5"
}

# Each module's test, from modules/modules.def, against each emulator it
# names there (a test that several modules share, once).
module_steps() { # build-dir label
  local b=$1 label=$2 line test emus what emu url seen=" " re lines
  re='^MODULE\(([a-z0-9_]+), "([a-z0-9_]*)", "([a-z ]*)", "([^"]*)"\)'
  mapfile -t lines <"$ROOT/modules/modules.def" # the tests get no stdin from it
  for line in "${lines[@]}"; do
    [[ $line =~ $re ]] || continue
    test=${BASH_REMATCH[2]} emus=${BASH_REMATCH[3]} what=${BASH_REMATCH[4]}
    [ -n "$test" ] || continue
    case $seen in *" $test "*) continue ;; esac
    seen+="$test "
    for emu in $emus; do
      case $emu in
        moto) url=$MOTO_URL ;;
        dynalite) url=$DYNALITE_URL ;;
        kinesalite) url=$KINESALITE_URL ;;
        *) echo "modules/modules.def: unknown emulator $emu for $test"; return 1 ;;
      esac
      if [ "$emus" = moto ]; then
        step "$label integration: $what" module_run "$label" "$b" "$emu" "$url" "$test"
      else
        step "$label integration: $what on $emu" module_run "$label" "$b" "$emu" "$url" "$test"
      fi
    done
  done
}

suite() { # build-dir label
  local b=$1 label=$2
  step "$label unit tests" bash -c "cd '$b' && ctest --output-on-failure --timeout 300 -j$JOBS"
  step "$label integration: moto_server" it_run "$b" moto "$MOTO_URL" test test it_spine
  # The spine again on a managed database's grants and on s3rver's answers:
  # what differs is SQL privileges and another server's replies, the same C
  # paths; the sanitizer build does not repeat them (the XML decoder has its
  # fuzzer).
  if [ "$label" = release ]; then
    step "$label integration: managed PostgreSQL (owner with CREATEROLE, no superuser)" it_run_managed "$b" moto "$MOTO_URL" test test it_spine
  fi
  step "$label security: an ordinary role's attacks are refused" it_run "$b" moto "$MOTO_URL" test test sec_roles
  step "$label integration: the engine down, stopped or reconnecting" it_run "$b" moto "$MOTO_URL" test test it_rpc
  step "$label integration: user locks and races (no hang, nothing resurrected)" it_run "$b" moto "$MOTO_URL" test test it_locks
  if [ "$label" = release ]; then
    step "$label integration: s3rver" it_run "$b" s3rver "$S3RVER_URL" S3RVER S3RVER it_spine
  fi
  module_steps "$b" "$label"
  step "$label integration: module system" it_run "$b" moto "$MOTO_URL" test test it_modules
  step "$label integration: rollback, transactions, history, replay" it_run "$b" moto "$MOTO_URL" test test it_history
  step "$label integration: rollback to any commit point across modules; user findings" it_run "$b" moto "$MOTO_URL" test test it_rollback
  step "$label integration: rollback to random commit points over four modules (IT_SEEDS=${IT_SEEDS:-3} seeds)" it_run "$b" moto "$MOTO_URL" test test it_rollback_property
  step "$label integration: random commits and rollbacks against a model" it_run "$b" moto "$MOTO_URL" test test it_property
  step "$label integration: the cloud changed behind the engine's back (poll, sync, conflicts)" own_moto_run "$b" it_poll
  signing_run_step "$label integration: SigV4 with signature checking" "$b"
  step "$label integration: credentials from each source of the chain, refreshed during a run" creds_run "$b"
  # SIGKILL at every point of a commit is about what the journal and the
  # database hold afterwards, which the sanitizers do not see: the release
  # build runs it (100 s), the sanitizer build does not repeat it.
  if [ "$label" = release ]; then
    step "$label faults: engine killed during commits" it_run "$b" moto "$MOTO_URL" test test ft_crash
  fi
  step "$label faults: PostgreSQL restarted" it_run "$b" moto "$MOTO_URL" test test ft_pg_restart
  step "$label faults: cloud failing" cloud_faults_run "$b"
  step "$label faults: journal damage, lost, foreign or old journals, second engine" it_run "$b" moto "$MOTO_URL" test test ft_journal
  step "$label faults: 8 concurrent writers; module churn beside user writes" it_run "$b" moto "$MOTO_URL" test test ft_concurrency
}

# The C sources as .clang-format has them: a diff fails the run.
format_check() {
  local files
  mapfile -t files < <(git -C "$ROOT" ls-files '*.c' '*.h')
  (cd "$ROOT" && clang-format --dry-run --Werror "${files[@]}" 2>&1 | head -40; exit "${PIPESTATUS[0]}")
}
step "format (.clang-format)" format_check

before_build=$failed
step "build" build build -DCMAKE_BUILD_TYPE=RelWithDebInfo || true
if [ "$failed" -gt "$before_build" ]; then
  echo "$passed passed, $failed failed"
  exit 1
fi
step "install: binary, man page, systemd unit; the command line's usage and help" bash tests/install.sh build

fuzz_run() { # target
  local dir
  dir=$(mktemp -d "$IASQL_RUN_DIR/fuzz-$1.XXXX")
  cp tests/fuzz/corpus/"$1"/* "$dir"/
  if ! "$ROOT/build-fuzz/tests/fuzz/fuzz_$1" -max_total_time="${IASQL_FUZZ_SECONDS:-12}" \
      -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 "$dir" >"$dir.log" 2>&1; then
    tail -n 60 "$dir.log"
    return 1
  fi
  grep -E "stat::number_of_executed_units" "$dir.log"
}

release_lane() {
  [ "${IASQL_SKIP_RELEASE:-0}" = 1 ] || suite build "release"
}

sanitizer_lane() {
  if [ "${IASQL_SKIP_FUZZ:-0}" != 1 ]; then
    if CC=clang step "fuzz build (clang, libFuzzer)" build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DIASQL_FUZZ=ON; then
      for f in xml jnl json; do
        step "fuzz: $f decoder" fuzz_run "$f"
      done
    fi
  fi
  if [ "${IASQL_SKIP_SANITIZERS:-0}" != 1 ]; then
    if step "sanitizer build" build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DIASQL_SANITIZE=ON; then
      suite build-asan "asan+ubsan"
    fi
  fi
}

# A lane: its own PostgreSQL and emulators (no test sees what the other
# lane's tests left in the cloud), its tally left in FILE.tally.
lane() { # file function
  (
    passed=0 failed=0 failures=() IASQL_PIDS=() IASQL_RUN_DIR="" IASQL_PG_DATA=""
    trap iasql_services_stop EXIT
    if iasql_services_start moto s3rver dynalite kinesalite; then
      "$2"
    else
      echo "could not start the test services"
      failed=$((failed + 1))
      failures+=("test services")
    fi
    {
      echo "passed=\$((passed + $passed)) failed=\$((failed + $failed))"
      [ "$failed" -eq 0 ] || printf 'failures+=(%q)\n' "${failures[@]}"
    } >"$1.tally"
  )
}

# The release suite and the sanitizer lane (fuzzers, then the sanitizer
# build's suite) run side by side, each on its own services: most of a test's
# time is waiting on the emulator and the poller's intervals, so two lanes on
# two cores take about as long as the longer one. The release lane prints as
# it goes; the sanitizer lane's output follows it.
lanes_dir=$(mktemp -d /tmp/iasql-lanes.XXXXXX)
lane "$lanes_dir/sanitizer" sanitizer_lane >"$lanes_dir/sanitizer.log" 2>&1 &
sanitizer_pid=$!
lane "$lanes_dir/release" release_lane
wait "$sanitizer_pid"
echo "=== (the sanitizer lane, which ran beside the release suite)"
cat "$lanes_dir/sanitizer.log"
for t in release sanitizer; do
  if [ -f "$lanes_dir/$t.tally" ]; then
    source "$lanes_dir/$t.tally"
  else
    failed=$((failed + 1))
    failures+=("the $t lane did not finish")
  fi
done
rm -rf "$lanes_dir"

echo
if [ "$failed" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed ($SECONDS s in all)"
[ "$failed" -eq 0 ]
