#!/usr/bin/env bash
# Reads all topics matching TOPIC_REGEX with a Java KafkaConsumer in consumer group GROUP
# (auto.offset.reset=earliest, so a new group starts at the beginning and a known one at its
# committed offsets), prints one JSON object a record on stdout:
#     {"topic":"t","partition":0,"offset":5,"key":"k" or null,"value":"v" or null}
# (key and value decoded as UTF-8), stops once no record came for IDLE_SECONDS (counted from
# the group's first partition assignment), commits its offsets and exits 0.
# Exit 2: bad arguments; 3: no partition assignment within max(60 s, IDLE_SECONDS); 1: error.
#
# Usage: deploy/kafka/topic-dump.sh BOOTSTRAP TOPIC_REGEX GROUP IDLE_SECONDS [ISOLATION] [PROP=VALUE...]
#   TOPIC_REGEX  java.util.regex matched against the whole topic name
#   ISOLATION    read_committed (default) or read_uncommitted
#   PROP=VALUE   extra consumer properties, e.g. group.protocol=consumer
# Environment: PGCS_JAVA (java to use)
# The program is TopicDump (deploy/kafka/src), built into lib/pgcs-kafka-tools.jar by fetch.sh.
set -euo pipefail

prog=$(basename "$0")
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

case "${1:-}" in
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
[ $# -ge 4 ] || die "usage: $prog BOOTSTRAP TOPIC_REGEX GROUP IDLE_SECONDS [ISOLATION] [PROP=VALUE...] (try --help)"

# shellcheck source=deploy/kafka/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
find_java
ensure_lib

exec "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KDIR/log4j2-tools.properties" -cp "$LIB/*" \
    dev.pgchangeset.kafka.TopicDump "$@"
