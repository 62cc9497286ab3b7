#!/usr/bin/env bash
# The README's command 1: install what is missing, build, start a throwaway PostgreSQL and the
# dev broker (or, with --kafka, a real Apache Kafka broker), run pgchangeset, change a few rows
# and show the changesets that arrive in Kafka, then apply them with `pgchangeset sink` (history
# mode) into a second database and print the row's history. PostgreSQL and the broker keep running
# afterwards (stop them with deploy/pg-stop.sh and deploy/devbroker-stop.sh or
# deploy/kafka/kafka-stop.sh).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
broker=devbroker
for arg in "$@"; do
  case "$arg" in
    --kafka) broker=kafka ;;
    *) echo "usage: deploy/quickstart.sh [--kafka]" >&2; exit 2 ;;
  esac
done
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$repo/.run}
mkdir -p "$PGCS_RUNTIME_DIR"
step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash deploy/install-deps.sh
step "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target pgchangeset pgchangeset-devbroker
step "PostgreSQL"
bash deploy/pg-start.sh
conninfo=$(cat "$PGCS_RUNTIME_DIR/pg/conninfo")
step "broker ($broker)"
if [ "$broker" = kafka ]; then
  bash deploy/kafka/fetch.sh
  bash deploy/kafka/kafka-start.sh
  brokers=$(cat "$PGCS_RUNTIME_DIR/kafka/bootstrap")
else
  PGCS_BIN_DIR="$repo/build/bin" bash deploy/devbroker-start.sh
  brokers=$(cat "$PGCS_RUNTIME_DIR/devbroker.bootstrap")
fi

psql_() { psql "$conninfo" -v ON_ERROR_STOP=1 -q "$@"; }
step "a table to capture: public.quickstart_users"
psql_ -c "CREATE TABLE IF NOT EXISTS public.quickstart_users (
            id bigint PRIMARY KEY, name text NOT NULL, plan text, balance numeric(12,2),
            tags text[], profile jsonb, updated_at timestamptz DEFAULT now())"

# The history sink's target: a second database on the same server.
psql_ -c "DROP DATABASE IF EXISTS quickstart_history" -c "CREATE DATABASE quickstart_history"

config="$PGCS_RUNTIME_DIR/quickstart.yaml"
cat > "$config" <<YAML
postgres:
  conninfo: "$conninfo"
  slot: pgchangeset_quickstart
  publication: pgchangeset_quickstart
  tables: [public.quickstart_users]
kafka:
  brokers: "$brokers"
  topic_prefix: quickstart
sink:
  conninfo: "$conninfo dbname=quickstart_history"
  mode: history
  group_id: quickstart-history
YAML
build/bin/pgchangeset check-config --config "$config"

step "pgchangeset run --config $config"
log="$PGCS_RUNTIME_DIR/quickstart-daemon.log"
build/bin/pgchangeset run --config "$config" >"$log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  active=$(psql_ -At -c "SELECT active FROM pg_replication_slots
                         WHERE slot_name = 'pgchangeset_quickstart'" || true)
  [ "$active" = t ] && break
  kill -0 $daemon 2>/dev/null || { cat "$log"; echo "pgchangeset exited" >&2; exit 1; }
  sleep 0.1
done
[ "$active" = t ] || { cat "$log"; echo "pgchangeset did not start streaming" >&2; exit 1; }
sed 's/^/    /' "$log"

step "changing rows"
run_sql() { echo "    $1"; psql_ -c "$1"; }
id=$(( $(date +%s) % 100000 * 10 ))
run_sql "INSERT INTO quickstart_users (id, name, plan, balance, tags, profile)
         VALUES ($id, 'Alice', 'free', 10.50, '{new,trial}', '{\"lang\": \"en\"}')"
run_sql "UPDATE quickstart_users SET name = 'Bob', plan = 'pro', balance = 99.90 WHERE id = $id"
run_sql "DELETE FROM quickstart_users WHERE id = $id"

step "changesets in Kafka topic quickstart.public.quickstart_users (read with kcat)"
# Only this run's row: the topic may hold earlier runs' events (and, after a PostgreSQL
# restart, transactions sent again: at-least-once delivery, see the README).
read_events() {
  kcat -C -b "$brokers" -t quickstart.public.quickstart_users -o beginning -e -q \
    -f 'partition %p  offset %o  key %k\n%s\n' 2>/dev/null |
    grep -F -A1 "key {\"id\":$id}" | grep -v '^--$' || true
}
arrived=0
for _ in $(seq 1 150); do
  events=$(read_events)
  arrived=$(printf '%s\n' "$events" | grep -c '"op":' || true)
  [ "$arrived" -ge 3 ] && break
  sleep 0.2
done
printf '%s\n' "$events" | sed '0~2G'
status=0
if [ "$arrived" -lt 3 ]; then
  echo "quickstart: only $arrived of the 3 changesets arrived within 30 s." >&2
  echo "  The daemon may still be working through older WAL its slot retained (an old" >&2
  echo "  quickstart slot: build/bin/pgchangeset status --config $config shows the lag)," >&2
  echo "  or something failed: see $log" >&2
  status=1
fi

step "the row's history: pgchangeset sink (mode: history) into database quickstart_history"
sink_log="$PGCS_RUNTIME_DIR/quickstart-sink.log"
build/bin/pgchangeset sink --config "$config" >"$sink_log" 2>&1 &
sink=$!
trap 'kill -TERM $daemon $sink 2>/dev/null || true; wait $daemon $sink 2>/dev/null || true' EXIT
history_cmd=(build/bin/pgchangeset history --config "$config" --table public.quickstart_users
             --key "{\"id\":$id}")
echo "    ${history_cmd[*]}"
versions=0
for _ in $(seq 1 150); do
  history=$("${history_cmd[@]}" 2>/dev/null || true)
  versions=$(printf '%s\n' "$history" | grep -c '"op":' || true)
  [ "$versions" -ge 3 ] && break
  kill -0 $sink 2>/dev/null || break
  sleep 0.2
done
printf '%s\n' "$history" | sed 's/^/    /'
if [ "$versions" -lt 3 ]; then
  echo "quickstart: the history has $versions of the row's 3 versions after 30 s; see $sink_log" >&2
  status=1
fi
kill -TERM $sink
wait $sink && echo "pgchangeset sink stopped cleanly (exit 0)"

kill -TERM $daemon
wait $daemon && echo "pgchangeset stopped cleanly (exit 0)"
trap - EXIT
cat <<MSG

The daemon's log: $log; the sink's: $sink_log
The history stays in database quickstart_history on the same server: table
pgchangeset_history.public__quickstart_users, current rows in view
pgchangeset_current.public__quickstart_users.
PostgreSQL ($conninfo) and the $broker ($brokers) are still running.
Stop them with: deploy/pg-stop.sh; $( [ "$broker" = kafka ] && echo deploy/kafka/kafka-stop.sh || echo deploy/devbroker-stop.sh )
MSG
exit $status
