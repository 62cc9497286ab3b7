#!/usr/bin/env bash
# Debezium 3.6.1.Final's PostgreSQL connector in the embedded engine, as an oracle for
# pgchangeset's `kafka.format: debezium`. Builds its Java tool with Maven on first use
# (tests/peers/_build.sh; target/ is git-ignored), then runs it.
#
# Usage: tests/peers/debezium/capture.sh --conninfo CONNINFO --slot SLOT --publication PUB
#            --tables public.t1,public.t2 --schemas true|false --snapshot initial|never
#            --out FILE --topic-prefix PREFIX --max-records N --timeout-s S
#            [--ready-file FILE] [--set DEBEZIUM_PROPERTY=VALUE]...
#
# CONNINFO is a libpq key=value string (host, port, user, password, dbname are used).
# Debezium runs with its defaults except: the connection, plugin.name=pgoutput, slot.name,
# publication.name (publication.autocreate.mode=disabled: the publication must exist),
# table.include.list (--tables), topic.prefix, snapshot.mode (initial, or no_data for never),
# JsonConverter schemas.enable (--schemas, key and value), and a file offset store in a
# temporary folder (deleted at exit). The slot is created when missing and never dropped.
# --set adds or overrides any Debezium or engine property (for tests of an option).
#
# Writes FILE: one JSON line a record, {"topic":"..","key":<JSON>|null,"value":<JSON>|null},
# key and value exactly as JsonConverter serialised them (a tombstone has "value":null),
# flushed per record, in the order the engine delivered them. When the streaming phase starts
# (snapshot done, slot position fixed) it prints {"ready":true} on stderr and, with
# --ready-file, writes that file (atomically). Exits 0 after N records (N=0: no limit) or when
# S seconds passed, with what it got; 1 when Debezium failed (message on stderr); 2 on a
# usage error. Debezium's own log: warnings and errors on stderr (PGCS_PEERS_LOG_LEVEL=info
# for more).
set -euo pipefail

prog=capture.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/peers/_build.sh
. "$here/../_build.sh"

case "${1:-}" in -h|--help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
find_java
peers_build "$here"
peers_jvm_opts "$here" capture
set +e
"$JAVA" "${JVM_OPTS[@]}" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="${PGCS_PEERS_LOG_LEVEL:-warn}" \
    -Dorg.slf4j.simpleLogger.logFile=System.err -Dorg.slf4j.simpleLogger.showDateTime=true \
    -cp "$PEER_CP" dev.pgchangeset.peers.debezium.Capture "$@"
rc=$?
set -e
peers_cds_keep
exit $rc
