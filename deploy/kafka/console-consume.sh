#!/usr/bin/env bash
# Reads TOPIC from the beginning with Apache Kafka's own Java console consumer
# (org.apache.kafka.tools.consumer.ConsoleConsumer from lib/) and prints one line a record:
#     Partition:P<TAB>Offset:O<TAB>KEY<TAB>VALUE
# (a missing key or value prints as "null"). Exits 0 after MAX_MESSAGES records, or when no
# record came for TIMEOUT_MS. The "Processed a total of N messages" line goes to stderr.
#
# Usage: deploy/kafka/console-consume.sh BOOTSTRAP TOPIC [MAX_MESSAGES] [TIMEOUT_MS]
#   MAX_MESSAGES  0 or empty: no limit (default)
#   TIMEOUT_MS    default 10000
# Environment:
#   PGCS_KAFKA_CONSOLE_ARGS  more ConsoleConsumer options, e.g. "--isolation-level read_committed"
#                            or "--group G" (default: a new random group, read_uncommitted)
#   PGCS_JAVA                java to use (default $JAVA_HOME/bin/java, else java on PATH)
set -euo pipefail

prog=$(basename "$0")
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

case "${1:-}" in
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
if [ $# -lt 2 ] || [ $# -gt 4 ]; then die "usage: $prog BOOTSTRAP TOPIC [MAX_MESSAGES] [TIMEOUT_MS] (try --help)"; fi
bootstrap=$1 topic=$2 max=${3:-0} timeout_ms=${4:-10000}
[[ "$max" =~ ^[0-9]+$ ]] || die "MAX_MESSAGES must be a number"
[[ "$timeout_ms" =~ ^[0-9]+$ ]] || die "TIMEOUT_MS must be a number"

# shellcheck source=deploy/kafka/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
find_java
ensure_lib

args=(--bootstrap-server "$bootstrap" --topic "$topic" --from-beginning --timeout-ms "$timeout_ms"
    --formatter-property print.partition=true --formatter-property print.offset=true
    --formatter-property print.key=true --formatter-property print.value=true
    --formatter-property print.timestamp=false --formatter-property key.separator=$'\t')
[ "$max" = 0 ] || args+=(--max-messages "$max")
# shellcheck disable=SC2206  # a list of words by design
[ -z "${PGCS_KAFKA_CONSOLE_ARGS:-}" ] || args+=(${PGCS_KAFKA_CONSOLE_ARGS})

exec "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KDIR/log4j2-tools.properties" -cp "$LIB/*" \
    org.apache.kafka.tools.consumer.ConsoleConsumer "${args[@]}"
