#!/usr/bin/env bash
# The fault suite, longer and randomised: every [fault] scenario once (but the one that needs
# Apache Kafka), then the [.soak] scenario for MINUTES (kill -9, SIGTERM, brokers down 5-30 s,
# PostgreSQL restarted -m fast and -m immediate, at random moments, under the ledger load), then
# a summary table. Runs against its own PostgreSQL cluster (PGCS_RUNTIME_DIR, default
# .run-soak) and its own dev brokers, so the restarts disturb nothing else.
#   bash tests/fault/soak.sh [MINUTES]        (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-30}
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$PWD/.run-soak}
export PGCS_TEST_BROKER=devbroker
export PGCS_SOAK_MINUTES=$minutes
summary=$PGCS_RUNTIME_DIR/soak-summary.md
mkdir -p "$PGCS_RUNTIME_DIR"
[ -x build/bin/fault_tests ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null &&
                                  cmake --build build -j2; }
# Its own copy of the binaries: rebuilding build/ during a long soak changes nothing here.
mkdir -p "$PGCS_RUNTIME_DIR/bin"
cp build/bin/pgchangeset build/bin/pgchangeset-devbroker build/bin/fault_tests "$PGCS_RUNTIME_DIR/bin/"
export PGCS_BIN_DIR=$PGCS_RUNTIME_DIR/bin
bash deploy/pg-start.sh >/dev/null
# The scenarios that use the shared broker need one; the soak itself starts a private one.
bash deploy/devbroker-start.sh >/dev/null
trap 'bash deploy/devbroker-stop.sh >/dev/null 2>&1 || true; bash deploy/pg-stop.sh >/dev/null 2>&1 || true' EXIT

: > "$summary"
export PGCS_FAULT_SUMMARY=$summary
start=$(date +%s)
status=0
"$PGCS_BIN_DIR/fault_tests" "[fault]~[kafka]" || status=$?
"$PGCS_BIN_DIR/fault_tests" "[.soak]" > "$PGCS_RUNTIME_DIR/soak.log" 2>&1 || status=$?
tail -n 40 "$PGCS_RUNTIME_DIR/soak.log"
echo
echo "Soak of $minutes min, $(( ($(date +%s) - start) / 60 )) min in all, on $(nproc) cores, $(date -u +%F):"
echo
echo "| scenario | faults injected | committed changes | events checked | lost | duplicated | max RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
cat "$summary"
exit $status
