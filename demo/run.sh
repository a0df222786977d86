#!/usr/bin/env bash
# demo/run.sh — the whole path on this machine: installs what is missing,
# builds, starts a local PostgreSQL and moto_server (the AWS emulator) on
# 127.0.0.1, starts the engine, and walks through creating, tagging and
# deleting S3 buckets from psql, changing the cloud behind its back and syncing,
# showing the cloud after each step.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tests/deps.sh
echo "building..."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C build -j"$(nproc)" >/dev/null

source tests/services.sh
ENGINE=""
cleanup() {
  [ -n "$ENGINE" ] && kill "$ENGINE" 2>/dev/null && wait "$ENGINE" 2>/dev/null
  iasql_services_stop
}
trap cleanup EXIT
iasql_services_start moto
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$MOTO_URL"
psql "$IASQL_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE iasql_demo"
# PostgreSQL asks every connection for a password (scram-sha-256); they are in
# $PGPASSFILE. The owner runs init, the engine logs in as iasql_engine, and
# the demo's SQL runs as iasql_app, a plain application role.
OWNER="$IASQL_PG_CONNINFO dbname=iasql_demo"
DB="$OWNER user=iasql_app"

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sql() { printf '\033[36miasql_demo=> %s\033[0m\n' "$1"; psql "$DB" -X -q -v ON_ERROR_STOP=0 -c "$1" 2>&1 || true; }
# The cloud, read straight from the S3 API (not through iasql).
cloud() {
  local auth="Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
  local names
  names=$(curl -s -H "$auth" "$MOTO_URL/" | grep -o '<Name>[^<]*' | sed 's/<Name>//' || true)
  printf '\033[33m-- the cloud (S3 ListBuckets):\033[0m\n'
  if [ -z "$names" ]; then echo "   (no buckets)"; return; fi
  local n
  for n in $names; do
    printf '   %-28s tags: %s\n' "$n" \
      "$(curl -s -H "$auth" "$MOTO_URL/$n?tagging" | grep -o '<Key>[^<]*</Key><Value>[^<]*' | sed 's/<Key>//; s/<\/Key><Value>/=/' | tr '\n' ' ')"
  done
}

bold "iasql init: the base schema and roles; the application role gets iasql_user"
build/iasql init "$OWNER"
psql "$OWNER" -Xqc "GRANT iasql_user TO iasql_app"

bold "iasql run: the engine, as iasql_engine (log in $IASQL_RUN_DIR/engine.log)"
build/iasql run "$OWNER user=iasql_engine" --journal "$IASQL_RUN_DIR/journal" 2>"$IASQL_RUN_DIR/engine.log" &
ENGINE=$!
for _ in $(seq 100); do
  [ "$(psql "$DB" -tAc "SELECT engine FROM iasql_status" 2>/dev/null)" = running ] && break
  sleep 0.1
done
echo "engine running (pid $ENGINE)"

bold "A bucket made outside iasql exists already"
curl -s -X PUT -H "Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0" "$MOTO_URL/made-in-the-console" >/dev/null
cloud

bold "Install the S3 module: it imports what the cloud already has"
sql "SELECT * FROM iasql_modules_list();"
sql "SELECT * FROM iasql_install('aws_s3');"
sql "SELECT * FROM bucket;"

bold "Create two buckets"
sql "INSERT INTO bucket (name, tags) VALUES ('iasql-demo-logs', '{\"team\": \"platform\"}'), ('iasql-demo-assets', '{}');"
sql "SELECT * FROM iasql_preview();"
cloud
sql "SELECT * FROM iasql_commit('two buckets');"
cloud
sql "SELECT id, name, region, tags, created_at FROM bucket ORDER BY id;"

bold "Bad input is refused at INSERT, naming the rule"
sql "INSERT INTO bucket (name) VALUES ('Not_A_Valid_Bucket');"

bold "Tag a bucket"
sql "UPDATE bucket SET tags = tags || '{\"env\": \"prod\"}' WHERE name = 'iasql-demo-logs';"
sql "SELECT * FROM iasql_commit('tag logs');"
cloud

bold "The cloud changes behind iasql's back; iasql_sync() brings it into the tables"
curl -s -X PUT -H "Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0" "$MOTO_URL/made-later-in-the-console" >/dev/null
curl -s -X DELETE -H "Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0" "$MOTO_URL/made-in-the-console" >/dev/null
cloud
sql "SELECT * FROM iasql_sync();"
sql "SELECT id, name, tags FROM bucket ORDER BY id;"
sql "SELECT origin, op, row_id FROM iasql_audit_log WHERE origin = 'cloud' ORDER BY id;"
echo "(the engine also does this on its own every --poll seconds; a quiet sync writes nothing)"
sql "SELECT * FROM iasql_sync();"

bold "A cloud error fails only its own bucket"
curl -s -X PUT -H "Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0" "$MOTO_URL/iasql-demo-assets/readme.txt" -d hello >/dev/null
sql "DELETE FROM bucket WHERE name IN ('iasql-demo-logs', 'iasql-demo-assets');"
sql "SELECT * FROM iasql_commit('delete both');"
cloud
sql "SELECT * FROM iasql_get_errors();"

bold "Empty the bucket in the cloud; the next commit finishes the job"
curl -s -X DELETE -H "Authorization: AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0" "$MOTO_URL/iasql-demo-assets/readme.txt" >/dev/null
sql "SELECT * FROM iasql_commit('retry');"
cloud

bold "Change your mind before committing: iasql_rollback() restores the rows, no cloud call"
sql "INSERT INTO bucket (name) VALUES ('iasql-demo-oops');"
sql "SELECT * FROM iasql_rollback();"

bold "Back in time: the cloud as it was at commit point 1, as a new commit"
sql "SELECT * FROM iasql_rollback(1);"
cloud
sql "SELECT id, name, tags FROM bucket ORDER BY id;"

bold "History is plain SQL"
sql "SELECT id, message, role, status, created, updated, deleted, failed FROM iasql_commits ORDER BY id;"
sql "SELECT id, origin, table_name, op, row_id, commit_id FROM iasql_audit_log ORDER BY id;"
sql "SELECT * FROM iasql_get_sql_since();"

bold "The journal (iasql journal dump)"
kill "$ENGINE"; wait "$ENGINE" 2>/dev/null || true; ENGINE=""
build/iasql journal dump "$IASQL_RUN_DIR/journal" --table bucket
build/iasql journal verify "$IASQL_RUN_DIR/journal"
bold "Replay the journal into an empty database"
psql "$IASQL_PG_CONNINFO dbname=postgres" -qc "CREATE DATABASE iasql_demo_replay"
build/iasql journal replay "$IASQL_RUN_DIR/journal" "$IASQL_PG_CONNINFO dbname=iasql_demo_replay"
psql "$IASQL_PG_CONNINFO dbname=iasql_demo_replay" -X -c "SELECT id, name, tags FROM bucket ORDER BY id;"
bold "done: the engine stopped on SIGTERM; PostgreSQL and moto_server stop now"
