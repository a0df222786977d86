#!/usr/bin/env bash
# bench/capture_instructions.sh — what a single-row autocommit INSERT costs
# with capture, in instructions PostgreSQL's backend executes: the
# instrument of docs/decisions.md ("Capture cost").
#
# A database made by `iasql init` with aws_s3 installed gets bench_plain, a
# copy of bucket without capture (the bench's). The server is stopped; for
# each table, a single-user backend (`postgres --single`) on a fresh copy of
# the data folder runs first CAPTURE_FEW and then CAPTURE_MANY single-row
# INSERTs, each its own transaction, under callgrind. The difference over
# CAPTURE_MANY - CAPTURE_FEW is the cost of one INSERT: start-up, the first
# statements' planning and shut-down cancel out. Counts are exact, so one
# run of each is the figure; the ratio is bucket's over bench_plain's.
# bench_floor, the same copy with a plain PL/pgSQL row trigger writing one
# audit row, is the floor a trigger-based capture is measured against.
#
# Prints each table's instructions per INSERT and the ratio; writes them to
# bench/results/capture_instructions.json.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FEW=${CAPTURE_FEW:-20}
MANY=${CAPTURE_MANY:-220}
command -v valgrind >/dev/null || { echo "capture_instructions: valgrind is not installed" >&2; exit 1; }
source bench/lib.sh
bench_build
WORK=$(mktemp -d /tmp/iasql-capi.XXXXXX)
cleanup() {
  if [ -n "${ENGINE:-}" ]; then kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; fi
  iasql_services_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
iasql_services_start moto
bench_db iasql_capi
psql "$DB" -qc "SELECT * FROM iasql_install('aws_s3')" >/dev/null
psql "$DB" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE bench_plain (LIKE bucket INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bench_plain ADD FOREIGN KEY (region) REFERENCES aws_regions (region);
-- The floor: the same copy with a plain PL/pgSQL row trigger writing one
-- audit row of the same shape (no definer, no rules, no statement trigger).
CREATE TABLE bench_floor (LIKE bucket INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bench_floor ADD FOREIGN KEY (region) REFERENCES aws_regions (region);
CREATE TABLE bench_floor_log (LIKE iasql_audit_log INCLUDING DEFAULTS INCLUDING IDENTITY
  INCLUDING INDEXES);
CREATE FUNCTION bench_floor_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bench_floor_log (origin, table_name, op, row_id, new_row)
  VALUES ('user', TG_TABLE_NAME, 'INSERT', NEW.id, to_json(NEW));
  RETURN NULL;
END $$;
CREATE TRIGGER bench_floor_audit AFTER INSERT ON bench_floor
  FOR EACH ROW EXECUTE FUNCTION bench_floor_audit();
SQL
# CAPTURE_VARIANT: a file of SQL run now, as the engine's role, to measure
# a variant of a function or trigger against the same copy.
if [ -n "${CAPTURE_VARIANT:-}" ]; then
  psql "$DB user=iasql_engine" -q -v ON_ERROR_STOP=1 -f "$CAPTURE_VARIANT"
fi
kill "$ENGINE"
wait "$ENGINE" 2>/dev/null || true
ENGINE=
as=()
[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
"${as[@]}" "$IASQL_PG_BIN/pg_ctl" -D "$IASQL_PG_DATA" -m fast -w stop >/dev/null
chmod 777 "$WORK"

# instructions TABLE N: what a single-user backend executes for N INSERTs
instructions() {
  local table=$1 n=$2 data="$WORK/data-$1-$2" out="$WORK/cg-$1-$2"
  cp -a "$IASQL_PG_DATA" "$data"
  # names of one length in both tables (a bucket name has no underscore)
  for i in $(seq "$n"); do echo "INSERT INTO $table (name) VALUES ('capi-${table:0:1}-$i')"; done \
    >"$WORK/sql-$n"
  "${as[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$IASQL_PG_BIN/postgres" --single -D "$data" -c fsync=off iasql_capi <"$WORK/sql-$n" \
    >"$WORK/log-$1-$2" 2>&1 || { cat "$WORK/log-$1-$2" >&2; return 1; }
  if grep -q ERROR "$WORK/log-$1-$2"; then cat "$WORK/log-$1-$2" >&2; return 1; fi
  rm -rf "$data"
  [ -n "${CAPTURE_KEEP:-}" ] && cp "$out" "$CAPTURE_KEEP/"
  awk '/^summary:/ {print $2}' "$out"
}

declare -A per
for table in bench_plain bench_floor bucket; do
  few=$(instructions "$table" "$FEW")
  many=$(instructions "$table" "$MANY")
  per[$table]=$(((many - few) / (MANY - FEW)))
  printf '%-12s %10d instructions per INSERT\n' "$table" "${per[$table]}"
done
ratio=$(awk -v a="${per[bucket]}" -v b="${per[bench_plain]}" 'BEGIN {printf "%.3f", a / b}')
floor=$(awk -v a="${per[bench_floor]}" -v b="${per[bench_plain]}" 'BEGIN {printf "%.3f", a / b}')
over=$((per[bucket] - per[bench_plain]))
floor_over=$((per[bench_floor] - per[bench_plain]))
printf 'capture overhead, single-row INSERT, instructions: %sx; the plain row trigger: %sx\n' \
  "$ratio" "$floor"
printf 'instructions added per INSERT: capture %d, the plain row trigger %d (%s of it)\n' \
  "$over" "$floor_over" "$(awk -v a="$over" -v b="$floor_over" 'BEGIN {printf "%.2fx", a / b}')"
mkdir -p bench/results
printf '{"plain_instructions": %d, "floor_instructions": %d, "captured_instructions": %d, "ratio": %s, "floor_ratio": %s}\n' \
  "${per[bench_plain]}" "${per[bench_floor]}" "${per[bucket]}" "$ratio" "$floor" \
  >bench/results/capture_instructions.json
