#!/usr/bin/env bash
# Flink's `debezium-json` format (flink-json 2.3.0, DebeziumJsonDeserializationSchema, with
# ignore-parse-errors off) as a real consumer of the Debezium format: parses each record of
# FILE into a Flink RowData and prints one line a row, the RowKind (INSERT, UPDATE_BEFORE,
# UPDATE_AFTER, DELETE) then the fields, tab separated (NULL for null). FILE is capture.sh's
# output (the "value" of each line is parsed; tombstones are skipped, as Flink does) or bare
# values one a line. Builds its Java tool with Maven on first use (tests/peers/_build.sh).
#
# Usage: tests/peers/flink-json/parse.sh --schema-include true|false
#            --columns "id INT, v STRING, ..." --in FILE
#
# --schema-include true: values carry JsonConverter's schema+payload envelope (schemas on).
# --columns: the table's columns as Flink SQL types (ROW<...> field syntax).
# Exits 0 when every record parsed, 1 when any did not (each reported on stderr with its line
# number), 2 on a usage error. A count of rows by kind goes to stderr.
set -euo pipefail

prog=parse.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/peers/_build.sh
. "$here/../_build.sh"

case "${1:-}" in -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
find_java
peers_build "$here"
peers_jvm_opts "$here" parse
set +e
"$JAVA" "${JVM_OPTS[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.logFile=System.err \
    -cp "$PEER_CP" dev.pgchangeset.peers.flink.ParseDebeziumJson "$@"
rc=$?
set -e
peers_cds_keep
exit $rc
