#!/usr/bin/env bash
# Kafka Connect 4.4.0 standalone with Debezium's JDBC sink connector (3.6.0.Final, the newest
# served; loaded through plugin.path in its own class loader): reads topics in Debezium's
# format with schemas (JsonConverter, schemas.enable=true for key and value) from a Kafka
# broker and writes a replica into a PostgreSQL database. Builds its Java parts with Maven on
# first use (tests/peers/_build.sh; target/ folders are git-ignored).
#
# Usage: tests/peers/connect-jdbc/run-sink.sh --brokers BOOTSTRAP --topics-regex REGEX
#            --target-conninfo CONNINFO --group NAME --timeout-s S
#            [--until-sql SQL] [--set CONNECTOR_PROPERTY=VALUE]... [--log FILE]
#
# The connector is named NAME, so its consumer group is connect-NAME (a new NAME reads the
# topics from the beginning; the same NAME goes on where it stopped). Its settings:
# insert.mode=upsert, delete.enabled=true, primary.key.mode=record_key,
# schema.evolution=basic, tasks.max=1, the connection from CONNINFO (libpq key=value words,
# no quoting: host, port, user, password, dbname), all else Debezium's defaults (tables are
# named after the topic, dots as underscores: prefix_schema_table), changed with --set.
# The worker commits offsets every second.
#
# Stops (SIGTERM, then waits for Connect to close) when SQL, run on the target every second
# with psql, prints t (errors count as not yet: the table may not exist) -> exit 0; or after S
# seconds -> exit 0 without --until-sql, exit 1 with it ("not reached"). Exit 1 also when the
# task fails or Connect dies (their errors on stderr); 2 on a usage error. Connect's log goes
# to FILE (default: a temporary file, deleted at exit unless the run failed).
set -euo pipefail

prog=run-sink.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/peers/_build.sh
. "$here/../_build.sh"
usage() { printf '%s: error: %s (try --help)\n' "$prog" "$1" >&2; exit 2; }

brokers='' regex='' target='' group='' timeout='' until='' log='' sets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
        --brokers|--topics-regex|--target-conninfo|--group|--timeout-s|--until-sql|--set|--log)
            [ $# -ge 2 ] || usage "$1 needs a value" ;;&
        --brokers) brokers=$2 ;;
        --topics-regex) regex=$2 ;;
        --target-conninfo) target=$2 ;;
        --group) group=$2 ;;
        --timeout-s) timeout=$2 ;;
        --until-sql) until=$2 ;;
        --set) [[ "$2" == ?*=* ]] || usage "--set needs KEY=VALUE, not '$2'"; sets+=("$2") ;;
        --log) log=$2 ;;
        *) usage "unknown argument '$1'" ;;
    esac
    shift 2
done
for v in brokers regex target group timeout; do
    [ -n "${!v}" ] || usage "missing --${v/regex/topics-regex}"
done
[[ "$timeout" =~ ^[0-9]+$ ]] || usage "--timeout-s must be a whole number, not '$timeout'"

declare -A conn=([host]=localhost [port]=5432 [user]=postgres [password]='' [dbname]=postgres)
for w in $target; do
    [[ "$w" == *=* ]] || usage "--target-conninfo: '$w' is not key=value"
    conn[${w%%=*}]=${w#*=}
done

find_java
peers_build "$here/plugin" plugins/debezium-connector-jdbc
plugin_path=$here/plugin/target/plugins
peers_build "$here"
peers_jvm_opts "$here" connect

work=$(mktemp -d "${TMPDIR:-/tmp}/pgcs-connect.XXXXXX")
keep_log=0
[ -n "$log" ] || { log=$work/connect.log; }
pid=''
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    if [ "$keep_log" = 1 ] && [ "$log" = "$work/connect.log" ]; then
        cp "$log" "${TMPDIR:-/tmp}/pgcs-connect-failed.$$.log" 2>/dev/null &&
            say "Connect's log kept in ${TMPDIR:-/tmp}/pgcs-connect-failed.$$.log"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/worker.properties" <<PROPS
bootstrap.servers=$brokers
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$work/connect.offsets
offset.flush.interval.ms=1000
plugin.path=$plugin_path
plugin.discovery=service_load
listeners=http://127.0.0.1:0
PROPS
{
    printf '%s\n' "name=$group" \
        "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" \
        "tasks.max=1" \
        "topics.regex=$regex" \
        "connection.url=jdbc:postgresql://${conn[host]}:${conn[port]}/${conn[dbname]}" \
        "connection.username=${conn[user]}" \
        "connection.password=${conn[password]}" \
        "insert.mode=upsert" \
        "delete.enabled=true" \
        "primary.key.mode=record_key" \
        "schema.evolution=basic"
    for s in "${sets[@]}"; do printf '%s\n' "$s"; done
} >"$work/connector.properties"

: >"$log"
t0=$(date +%s)
"$JAVA" "${JVM_OPTS[@]}" -Dlog4j2.configurationFile="$here/log4j2-file.properties" \
    -Dpgcs.connect.log="$log" -cp "$PEER_CP" org.apache.kafka.connect.cli.ConnectStandalone \
    "$work/worker.properties" "$work/connector.properties" &
pid=$!

failed() {
    grep -qE 'unrecoverable exception|will not recover until manually restarted|Failed to (create|start) (task|connector)' \
        "$log" 2>/dev/null
}
result='' status=''
while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
        keep_log=1
        wait "$pid" || true
        pid=''
        die "Kafka Connect exited early; its log: $log"
    fi
    if failed; then
        keep_log=1
        die "the sink task failed (its error is above; Connect's log: $log)"
    fi
    if [ -n "$until" ]; then
        result=$(psql "$target" -X -q -At -c "$until" 2>&1 || true)
        if [ "$result" = t ]; then status=reached; break; fi
    fi
    if [ $(($(date +%s) - t0)) -ge "$timeout" ]; then status=timeout; break; fi
    sleep 1
done
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
else
    peers_cds_keep
fi
wait "$pid" 2>/dev/null || true
pid=''
if [ "$status" = reached ]; then
    say "condition reached after $(($(date +%s) - t0)) s"
elif [ -n "$until" ]; then
    keep_log=1
    die "condition not reached within $timeout s (last result: ${result:-none})"
else
    say "stopped after $timeout s"
fi
