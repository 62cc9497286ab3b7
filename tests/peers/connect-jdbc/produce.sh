#!/usr/bin/env bash
# Produces the records of a capture.sh output file (tests/peers/debezium) to Kafka, in file
# order: key and value as JSON text, a null value as a tombstone, each to its "topic"
# (idempotent producer, acks=all, one record in flight). Exits 0 once all are acknowledged.
#
# Usage: tests/peers/connect-jdbc/produce.sh --brokers BOOTSTRAP --in FILE
set -euo pipefail

prog=produce.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/peers/_build.sh
. "$here/../_build.sh"

brokers='' in=''
while [ $# -gt 0 ]; do
    case "$1" in
        --brokers) brokers=${2:?--brokers needs a value}; shift 2 ;;
        --in) in=${2:?--in needs a value}; shift 2 ;;
        -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) printf '%s: error: unknown argument %s (try --help)\n' "$prog" "$1" >&2; exit 2 ;;
    esac
done
[ -n "$brokers" ] && [ -n "$in" ] || { echo "$prog: error: --brokers and --in are required" >&2; exit 2; }
find_java
peers_build "$here"
peers_jvm_opts "$here" produce
set +e
"$JAVA" "${JVM_OPTS[@]}" -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$PEER_CP" dev.pgchangeset.peers.connect.FileProducer "$brokers" "$in"
rc=$?
set -e
peers_cds_keep
exit $rc
