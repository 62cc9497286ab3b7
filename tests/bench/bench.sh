#!/usr/bin/env bash
# The benchmark harness (docs/PERFORMANCE.md): builds Release, starts PostgreSQL and the dev
# broker (when not running), runs the workloads and prints a markdown table; the full run also
# writes a PNG chart with gnuplot.
#
#   bash tests/bench/bench.sh            full run: W1 1,000,000 rows in 100 transactions, W2
#                                        10,000 rows/s for 60 s, W3 20,000 updates of rows with
#                                        10 KB TOAST, W4 one transaction of 10,000,000 rows, W5
#                                        a snapshot of 5,000,000 rows, W6 1,000,000 rows
#                                        through `pgchangeset sink`, 3 repeats
#   bash tests/bench/bench.sh --smoke    tiny sizes, 1 repeat: CI runs it so the harness works
#
# Environment: BENCH_W1_ROWS, BENCH_W1_TXNS, BENCH_W2_RATE, BENCH_W2_SECONDS, BENCH_W3_ROWS,
# BENCH_W3_ROUNDS, BENCH_W4_ROWS, BENCH_W5_ROWS, BENCH_W6_ROWS, BENCH_REPEAT override the sizes;
# BENCH_ONLY (e.g. W5, or W1,W5) runs only those workloads; BENCH_OUT (default build/bench)
# receives results.md, results.csv, chart.png.
# BENCH_W1_READERS (words among daemon nolz4 recv w2j dbz dbzs engine kafka kafka_eos; default
# all of them, and all but engine with --smoke) chooses W1's readers. BENCH_W2_EOS=0 leaves out
# W2's second daemon (kafka.exactly_once: true); BENCH_EOS_TRANSACTION_MS sets the exactly-once
# daemons' kafka.transaction_ms (default the daemon's, 20).
#
# W1 (throughput): the rows are written first; then each reader starts at the same slot
# position and reads the same WAL to its end, one after another (their order rotates between
# repeats). Readers: the daemon (pgoutput, publishing to the dev broker, acknowledged by Kafka);
# pg_recvlogical with pgoutput into /dev/null (the protocol's ceiling); pg_recvlogical with
# wal2json piped into kcat producing to the same dev broker (what people script by hand);
# the daemon with kafka.format debezium, without (dbz) and with (dbzs) kafka.schemas; Debezium
# 3.6.1.Final's own PostgreSQL connector in its embedded engine (engine), JsonConverter without
# schemas, writing its records to /dev/null (tests/peers/debezium: no Kafka produce, so a lower
# bound on Debezium's cost; JVM defaults), until it has the W1 rows, measured as a whole process
# and from the moment it streams (JVM and connector start left out); the daemon publishing to
# Apache Kafka (deploy/kafka, started when not running) with the default settings (kafka) and
# with kafka.exactly_once: true (kafka_eos, acknowledged by Kafka's transaction commits).
# Time: from the reader's start until the slot passed the end of the WAL (daemon, confirming
# every 100 ms here) or the pipeline exited (--endpos). CPU: user+system seconds of the reader's
# processes. Median of the repeats. Compare ratios measured in one run; machines here are shared
# and noisy. The daemons of W1, W2 and W4 run with snapshot.mode never (W2's creates its slot
# while W1's rows are published: the default, initial, would read them all first).
# W3 (updates, REPLICA IDENTITY FULL, an untouched 10 KB TOAST column): W3_ROWS rows each updated
# W3_ROUNDS times, 1,000 rows a transaction, read like W1 by the daemon, pg_recvlogical and
# wal2json|kcat.
# W4 (memory): one transaction of W4 rows through the daemon; its peak RSS.
# W5 (snapshot): a table of W5 rows of W1's shape, written once; each repeat reads all of it
# with `psql -c "COPY bench_w5 TO STDOUT" > /dev/null` and with the daemon, snapshot.mode
# initial_only, on a slot and publication made for it beforehand, until it exits 0 (every row
# acknowledged by the dev broker); the order alternates between repeats. Its floor: the CPU of
# the backend running the COPY (the server's log_statement_stats), and the snapshot's events
# produced again through the daemon's sink alone (tests/bench/produce_floor.cpp).
# W6 (sink): W6 rows of W1's shape, 10,000 a transaction, captured into Apache Kafka, then
# applied into a new database on the same server by pgchangeset sink (mode mirror, mode history)
# and by Kafka Connect with Debezium's JDBC sink (jdbc; its own Debezium-format topic): see
# tests/bench/w6_sink.sh. BENCH_W6_READERS (words among mirror history jdbc; default all, and
# mirror history with --smoke) chooses them.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
smoke=0
case "${1:-}" in
    "") ;;
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,53s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "usage: tests/bench/bench.sh [--smoke]" >&2; exit 2 ;;
esac
if [ "$smoke" = 1 ]; then
    W1_ROWS=${BENCH_W1_ROWS:-20000} W1_TXNS=${BENCH_W1_TXNS:-10}
    W2_RATE=${BENCH_W2_RATE:-500} W2_SECONDS=${BENCH_W2_SECONDS:-5}
    W3_ROWS=${BENCH_W3_ROWS:-200} W3_ROUNDS=${BENCH_W3_ROUNDS:-2}
    W4_ROWS=${BENCH_W4_ROWS:-50000} W5_ROWS=${BENCH_W5_ROWS:-20000} W6_ROWS=${BENCH_W6_ROWS:-20000}
    REPEAT=${BENCH_REPEAT:-1}
else
    W1_ROWS=${BENCH_W1_ROWS:-1000000} W1_TXNS=${BENCH_W1_TXNS:-100}
    W2_RATE=${BENCH_W2_RATE:-10000} W2_SECONDS=${BENCH_W2_SECONDS:-60}
    W3_ROWS=${BENCH_W3_ROWS:-2000} W3_ROUNDS=${BENCH_W3_ROUNDS:-10}
    W4_ROWS=${BENCH_W4_ROWS:-10000000} W5_ROWS=${BENCH_W5_ROWS:-5000000}
    W6_ROWS=${BENCH_W6_ROWS:-1000000} REPEAT=${BENCH_REPEAT:-3}
fi
for v in W1_ROWS W1_TXNS W2_RATE W2_SECONDS W3_ROWS W3_ROUNDS W4_ROWS W5_ROWS W6_ROWS REPEAT; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: $v must be a positive number" >&2; exit 2; }
done
ONLY=,${BENCH_ONLY:-W1,W2,W3,W4,W5,W6},
ONLY=${ONLY// /,}
for w in ${ONLY//,/ }; do
    case $w in
        W1|W2|W3|W4|W5|W6) ;;
        *) echo "bench.sh: BENCH_ONLY: '$w' is not a workload (W1, W2, W3, W4, W5, W6)" >&2; exit 2 ;;
    esac
done
wants() { [[ "$ONLY" == *",$1,"* ]]; }
W1_READERS_ALL="daemon nolz4 recv w2j dbz dbzs engine kafka kafka_eos"
if [ "$smoke" = 1 ]; then W1_READERS=${BENCH_W1_READERS:-daemon nolz4 recv w2j dbz dbzs kafka kafka_eos}
else W1_READERS=${BENCH_W1_READERS:-$W1_READERS_ALL}; fi
W1_READERS=${W1_READERS//,/ }
for r in $W1_READERS; do
    [[ " $W1_READERS_ALL " == *" $r "* ]] ||
        { echo "bench.sh: BENCH_W1_READERS: '$r' is not a reader ($W1_READERS_ALL)" >&2; exit 2; }
done
[ -n "${W1_READERS// /}" ] || { echo "bench.sh: BENCH_W1_READERS names no reader" >&2; exit 2; }
reads() { wants W1 && [[ " $W1_READERS " == *" $1 "* ]]; }
W6_READERS_ALL="mirror history jdbc"
if [ "$smoke" = 1 ]; then W6_READERS=${BENCH_W6_READERS:-mirror history}
else W6_READERS=${BENCH_W6_READERS:-$W6_READERS_ALL}; fi
W6_READERS=${W6_READERS//,/ }
for r in $W6_READERS; do
    [[ " $W6_READERS_ALL " == *" $r "* ]] ||
        { echo "bench.sh: BENCH_W6_READERS: '$r' is not a reader ($W6_READERS_ALL)" >&2; exit 2; }
done
[ -n "${W6_READERS// /}" ] || { echo "bench.sh: BENCH_W6_READERS names no reader" >&2; exit 2; }
# The exactly-once daemons' kafka: lines; BENCH_EOS_TRANSACTION_MS sets kafka.transaction_ms.
EOS_EXTRA="  exactly_once: true"
if [ -n "${BENCH_EOS_TRANSACTION_MS:-}" ]; then
    [[ "$BENCH_EOS_TRANSACTION_MS" =~ ^[1-9][0-9]*$ ]] ||
        { echo "bench.sh: BENCH_EOS_TRANSACTION_MS must be a positive number" >&2; exit 2; }
    EOS_EXTRA+=$'\n'"  transaction_ms: $BENCH_EOS_TRANSACTION_MS"
fi
OUT=${BENCH_OUT:-$REPO/build/bench}
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$REPO/.run}
say() { printf 'bench: %s\n' "$*" >&2; }

bash deploy/install-deps.sh >&2
for tool in pg_recvlogical kcat psql; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool missing: run deploy/install-deps.sh" >&2; exit 1; }
done
if [ ! -x build/bin/pgchangeset ] || [ "$smoke" = 0 ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j2 >/dev/null
fi
CONNINFO=$(bash deploy/pg-start.sh 2>/dev/null)
BROKERS=$(PGCS_BIN_DIR=$REPO/build/bin bash deploy/devbroker-start.sh 2>/dev/null)
# W2 needs broker-side timestamps, which the dev broker does not give: Apache Kafka; so do W1's
# readers kafka and kafka_eos, and W6 (Kafka Connect needs it; the dev broker keeps only 5 MB a
# partition).
kafka_was_running=1
if wants W2 || wants W6 || reads kafka || reads kafka_eos; then
    kafka_was_running=0
    [ -s "$PGCS_RUNTIME_DIR/kafka/bootstrap" ] && kafka_was_running=1
    KAFKA=$(bash deploy/kafka/kafka-start.sh 2>/dev/null) ||
        { echo "bench.sh: Apache Kafka did not start (see $PGCS_RUNTIME_DIR/kafka/kafka.log)" >&2; exit 1; }
fi
mkdir -p "$OUT"
WORK=$(mktemp -d)
# Debezium's embedded engine (tests/peers/debezium), built with Maven before anything is timed.
if reads engine; then
    prog=bench.sh
    # shellcheck source=tests/peers/_build.sh
    . tests/peers/_build.sh
    find_java
    peers_build "$REPO/tests/peers/debezium"
fi
# Kafka Connect and Debezium's JDBC sink (tests/peers/connect-jdbc), likewise.
if wants W6 && [[ " $W6_READERS " == *" jdbc "* ]]; then
    prog=bench.sh
    # shellcheck source=tests/peers/_build.sh
    . tests/peers/_build.sh
    find_java
    peers_build "$REPO/tests/peers/connect-jdbc/plugin" plugins/debezium-connector-jdbc
    peers_build "$REPO/tests/peers/connect-jdbc"
fi
TABLE=bench_w1
# W5's daemon records its progress here (snapshot.table; the default).
PROGRESS=public.pgchangeset_snapshots
sql() { psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
progress_existed=$(sql "SELECT to_regclass('$PROGRESS') IS NOT NULL")
cleanup() {
    set +e
    kill $(jobs -p) 2>/dev/null
    for s in $(sql "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'bench\_%' AND NOT active"); do
        sql "SELECT pg_drop_replication_slot('$s')" >/dev/null
    done
    sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS bench_pub, bench_w5_pub, bench_w6_pub;
         DROP TABLE IF EXISTS bench_w1, bench_w2, bench_w3, bench_w4, bench_w5, bench_w6" >/dev/null
    PGOPTIONS="-c client_min_messages=warning" sql "DROP DATABASE IF EXISTS bench_w6_target WITH (FORCE)" >/dev/null
    # The progress rows of the bench's slots; the progress table too when the bench created it.
    if [ "$(sql "SELECT to_regclass('$PROGRESS') IS NOT NULL")" = t ]; then
        sql "DELETE FROM $PROGRESS WHERE slot_name LIKE 'bench\_%'" >/dev/null
        [ "$progress_existed" = t ] ||
            sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM $PROGRESS) THEN DROP TABLE $PROGRESS; END IF; END \$\$" >/dev/null
    fi
    [ "$kafka_was_running" = 1 ] || bash deploy/kafka/kafka-stop.sh >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

# Whether slot $1 has confirmed WAL up to $2: one psql a poll, every 50 ms, so that the poll
# itself hardly loads the machine being measured.
slot_passed() {
    [ "$(sql "SELECT coalesce(confirmed_flush_lsn >= '$2'::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = '$1'")" = t ]
}
now() { date +%s.%N; }
# "seconds cpu_seconds peak_rss_kb" from a wall time and a /usr/bin/time -f "%U %S %M" file.
result_line() { awk -v t="$1" '{ printf "%s %.2f %d\n", t, $1 + $2, $3 }' "$2"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# The daemon's config: slot $1, table $2, brokers $3 (default $DAEMON_BROKERS, else the dev
# broker); $DAEMON_KAFKA_EXTRA
# adds lines under kafka:, $DAEMON_PUBLICATION names the publication (default bench_pub),
# $DAEMON_SNAPSHOT_MODE sets snapshot.mode (default never: the bench makes its slots, and W2's
# daemon, which makes its own, must not first read the rows of W1 that bench_pub publishes).
write_config() {
    cat > "$WORK/config.yaml" <<YAML
postgres:
  conninfo: "$CONNINFO"
  slot: $1
  publication: ${DAEMON_PUBLICATION:-bench_pub}
  tables: [public.$2]
  status_interval_ms: 100   # the end is seen through the slot: confirm promptly
kafka:
  brokers: "${3:-${DAEMON_BROKERS:-$BROKERS}}"
  topic_prefix: $1
${DAEMON_KAFKA_EXTRA:-}
snapshot:
  mode: ${DAEMON_SNAPSHOT_MODE:-never}
  table: $PROGRESS
log:
  level: warn
YAML
}

# Adds table $1 to bench_pub (made by W1; made here when W1 did not run).
publish() {
    if [ "$(sql "SELECT count(*) FROM pg_publication WHERE pubname = 'bench_pub'")" = 1 ]; then
        sql "ALTER PUBLICATION bench_pub ADD TABLE $1" >/dev/null
    else
        sql "CREATE PUBLICATION bench_pub FOR TABLE $1" >/dev/null
    fi
}

# One INSERT of the rows numbered $2..$3 of W1's shape into table $1.
insert_rows() {
    echo "INSERT INTO $1 (name, amount, ts, flag, payload) SELECT 'customer ' || g,
          (g % 100000) / 100.0, now() - g * interval '1 s', g % 2 = 0,
          jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b'), 'note', 'bench')
          FROM generate_series($2, $3) g;"
}

# The daemon on slot $1 until the slot passes $2. Prints "seconds cpu_seconds peak_rss_kb".
run_daemon() {
    local slot=$1 end=$2 table=$3 start pid t
    write_config "$slot" "$table"
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.daemon" \
        build/bin/pgchangeset run --config "$WORK/config.yaml" > "$WORK/daemon.log" 2>&1 &
    pid=$!
    until slot_passed "$slot" "$end"; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/daemon.log" >&2; echo "bench.sh: the daemon stopped" >&2; exit 1; }
        sleep 0.05
    done
    t=$(elapsed "$start" "$(now)")
    pkill -TERM -P "$pid"  # the daemon, child of /usr/bin/time
    wait "$pid" || { cat "$WORK/daemon.log" >&2; echo "bench.sh: the daemon failed" >&2; exit 1; }
    result_line "$t" "$WORK/time.daemon"
}

# pg_recvlogical (pgoutput) into /dev/null from slot $1 to $2.
run_recvlogical() {
    local slot=$1 end=$2 start t
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.recv" \
        pg_recvlogical -d "$CONNINFO" --slot "$slot" --start --endpos "$end" --no-loop \
        -o proto_version=1 -o publication_names=bench_pub -f /dev/null
    t=$(elapsed "$start" "$(now)")
    result_line "$t" "$WORK/time.recv"
}

# pg_recvlogical (wal2json, one JSON document a row) | kcat into the dev broker.
run_wal2json_kcat() {
    local slot=$1 end=$2 start t
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.w2j" \
        pg_recvlogical -d "$CONNINFO" --slot "$slot" --start --endpos "$end" --no-loop \
        -o format-version=2 -o include-transaction=false -f - |
        /usr/bin/time -f "%U %S %M" -o "$WORK/time.kcat" kcat -P -b "$BROKERS" -t "$slot.w2j" -X acks=all
    t=$(elapsed "$start" "$(now)")
    paste -d' ' "$WORK/time.w2j" "$WORK/time.kcat" |
        awk -v t="$t" '{ printf "%s %.2f %d\n", t, $1 + $2 + $4 + $5, $3 + $6 }'
}

# Debezium's embedded engine on slot $1 until it delivered $2 records (to /dev/null). Prints
# "seconds cpu_seconds peak_rss_kb" of the whole process and writes the same, counted from when
# it streams (its ready file; JVM and connector start left out), to $WORK/result.streaming.
run_debezium() {
    local slot=$1 records=$2 start pid java t t_ready cpu_ready hz
    rm -f "$WORK/dbz.ready"
    hz=$(getconf CLK_TCK)
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.dbz" \
        "$JAVA" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.logFile=System.err \
        -cp "$PEER_CP" dev.pgchangeset.peers.debezium.Capture --conninfo "$CONNINFO" --slot "$slot" \
        --publication bench_pub --tables "public.$TABLE" --schemas false --snapshot never \
        --out /dev/null --topic-prefix "$slot" --max-records "$records" --timeout-s 1800 \
        --ready-file "$WORK/dbz.ready" > "$WORK/dbz.log" 2>&1 &
    pid=$!
    until [ -e "$WORK/dbz.ready" ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/dbz.log" >&2; echo "bench.sh: Debezium stopped before streaming" >&2; exit 1; }
        sleep 0.05
    done
    t_ready=$(now)
    java=$(pgrep -P "$pid" | head -n 1)
    cpu_ready=$(awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$java/stat")
    wait "$pid" || { cat "$WORK/dbz.log" >&2; echo "bench.sh: Debezium failed" >&2; exit 1; }
    t=$(elapsed "$start" "$(now)")
    grep -q "^capture: $records records in" "$WORK/dbz.log" ||
        { cat "$WORK/dbz.log" >&2; echo "bench.sh: Debezium did not deliver $records records" >&2; exit 1; }
    awk -v t="$(elapsed "$t_ready" "$(now)")" -v c="$cpu_ready" \
        '{ printf "%s %.2f %d\n", t, $1 + $2 - c, $3 }' "$WORK/time.dbz" > "$WORK/result.streaming"
    result_line "$t" "$WORK/time.dbz"
}

# The slots run_readers reads for workload $1 ("" for W1, else W3), repeat $2, readers $3...:
# created before the workload writes, so that every reader starts at the same place.
create_reader_slots() {
    local prefix s plugin rep=$2
    prefix=$(echo "$1" | tr '[:upper:]' '[:lower:]')
    shift 2
    for s in "$@"; do
        plugin=pgoutput
        [ "$s" = w2j ] && plugin=wal2json
        sql "SELECT pg_create_logical_replication_slot('bench_${prefix}${s}_$rep', '$plugin')" >/dev/null
    done
}

# Workload $1 ("" for W1, else W3), repeat $2: the readers $6... (daemon, nolz4, recv, w2j; for
# W1 also dbz, dbzs, engine) each
# read slot bench_<$1 lowercase><reader>_<$2> up to $3 ($4 rows, table $5), in an order that
# rotates between repeats; records each under "<$1 >reader name" and drops its slot.
run_readers() {
    local workload=$1 rep=$2 end=$3 rows=$4 table=$5 prefix label tool slot k
    shift 5
    local order=("$@")
    prefix=$(echo "$workload" | tr '[:upper:]' '[:lower:]')
    label=${workload:+$workload }
    for ((k = 0; k < (rep - 1) % ${#order[@]}; k++)); do order=("${order[@]:1}" "${order[0]}"); done
    for tool in "${order[@]}"; do
        slot=bench_${prefix}${tool}_$rep
        case $tool in
            daemon) run_daemon "$slot" "$end" "$table" > "$WORK/result"
                    record "${label}pgchangeset" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            nolz4) DAEMON_KAFKA_EXTRA=$'  properties:\n    compression.type: none' \
                       run_daemon "$slot" "$end" "$table" > "$WORK/result"
                   record "${label}pgchangeset (compression none)" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            recv) run_recvlogical "$slot" "$end" > "$WORK/result"
                  record "${label}pg_recvlogical" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            w2j) run_wal2json_kcat "$slot" "$end" > "$WORK/result"
                 record "${label}wal2json+kcat" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            dbz) DAEMON_KAFKA_EXTRA="  format: debezium" run_daemon "$slot" "$end" "$table" > "$WORK/result"
                 record "${label}pgchangeset (debezium format)" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            dbzs) DAEMON_KAFKA_EXTRA=$'  format: debezium\n  schemas: true' \
                      run_daemon "$slot" "$end" "$table" > "$WORK/result"
                  record "${label}pgchangeset (debezium format with schemas)" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            kafka) DAEMON_BROKERS=$KAFKA run_daemon "$slot" "$end" "$table" > "$WORK/result"
                   record "${label}pgchangeset (Apache Kafka)" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            kafka_eos) DAEMON_BROKERS=$KAFKA DAEMON_KAFKA_EXTRA=$EOS_EXTRA \
                           run_daemon "$slot" "$end" "$table" > "$WORK/result"
                       record "${label}pgchangeset (Apache Kafka; exactly_once)" "$rep" "$rows" "$(cat "$WORK/result")" ;;
            engine) run_debezium "$slot" "$rows" > "$WORK/result"
                    record "${label}Debezium engine" "$rep" "$rows" "$(cat "$WORK/result")"
                    record "${label}Debezium engine streaming" "$rep" "$rows" "$(cat "$WORK/result.streaming")" ;;
        esac
        drop_slot_when_free "$slot"
    done
}

# Drops slot $1 once its walsender has let go of it (a reader's exit may lag it a little).
drop_slot_when_free() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$1' AND active")" = 0 ] && break
        sleep 0.1
    done
    sql "SELECT pg_drop_replication_slot('$1')" >/dev/null
}

echo "tool,repeat,rows,seconds,cpu_seconds,peak_rss_kb" > "$OUT/results.csv"
record() {  # tool repeat rows "seconds cpu rss"
    local tool=$1 rep=$2 rows=$3 seconds cpu rss
    read -r seconds cpu rss <<<"$4"
    echo "$tool,$rep,$rows,$seconds,$cpu,$rss" >> "$OUT/results.csv"
    say "$tool: $rows rows in $seconds s, $cpu s CPU, peak RSS $((rss / 1024)) MB"
}

# W1 ---------------------------------------------------------------------------------------
if wants W1; then
    per_txn=$(( (W1_ROWS + W1_TXNS - 1) / W1_TXNS ))
    for rep in $(seq 1 "$REPEAT"); do
        say "W1 repeat $rep/$REPEAT: $W1_ROWS rows in $W1_TXNS transactions"
        sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS bench_pub; DROP TABLE IF EXISTS $TABLE" >/dev/null
        sql "CREATE TABLE $TABLE (id bigserial PRIMARY KEY, name text, amount numeric(12,2),
             ts timestamptz, flag bool, payload jsonb); CREATE PUBLICATION bench_pub FOR TABLE $TABLE" >/dev/null
        # shellcheck disable=SC2086  # a list of words
        create_reader_slots "" "$rep" $W1_READERS
        for _ in $(seq 1 "$W1_TXNS"); do
            insert_rows "$TABLE" 1 "$per_txn"
        done > "$WORK/load.sql"
        psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/load.sql" >/dev/null
        end=$(sql "SELECT pg_current_wal_lsn()")
        rows=$((per_txn * W1_TXNS))
        # shellcheck disable=SC2086
        run_readers "" "$rep" "$end" "$rows" "$TABLE" $W1_READERS
    done
fi

# W3 ---------------------------------------------------------------------------------------
# REPLICA IDENTITY FULL, a 10 KB column stored out of line (TOAST, uncompressed) that the
# updates never touch: PostgreSQL logs the whole old row (the 10 KB value inlined) and sends
# the new row's value as "unchanged"; the daemon fills it in from the old row.
if wants W3; then
    for rep in $(seq 1 "$REPEAT"); do
        rows=$((W3_ROWS * W3_ROUNDS))
        say "W3 repeat $rep/$REPEAT: $rows updates ($W3_ROUNDS of each of $W3_ROWS rows, 1,000 a transaction)"
        sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_w3;
             CREATE TABLE bench_w3 (id int8 PRIMARY KEY, counter int NOT NULL, doc text NOT NULL);
             ALTER TABLE bench_w3 ALTER COLUMN doc SET STORAGE EXTERNAL, REPLICA IDENTITY FULL;
             INSERT INTO bench_w3 SELECT g, 0, (SELECT string_agg(md5(g || '.' || i), '')
                 FROM generate_series(1, 320) i) FROM generate_series(1, $W3_ROWS) g" >/dev/null
        [ "$(sql "SELECT count(*) FROM bench_w3 WHERE length(doc) = 10240 AND
                  pg_column_size(doc) = 10240")" = "$W3_ROWS" ] ||
            { echo "bench.sh: W3: bench_w3's doc is not 10 KB stored out of line" >&2; exit 1; }
        publish bench_w3
        create_reader_slots "W3" "$rep" daemon nolz4 recv w2j
        for _ in $(seq 1 "$W3_ROUNDS"); do
            for ((lo = 1; lo <= W3_ROWS; lo += 1000)); do
                echo "UPDATE bench_w3 SET counter = counter + 1 WHERE id BETWEEN $lo AND $((lo + 999));"
            done
        done > "$WORK/load.sql"
        psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/load.sql" >/dev/null
        end=$(sql "SELECT pg_current_wal_lsn()")
        run_readers W3 "$rep" "$end" "$rows" bench_w3 daemon nolz4 recv w2j
    done
fi

# W2 ---------------------------------------------------------------------------------------
# One W2 run: a new slot bench_w2<$1>_<pid> and its topic, the daemon with $DAEMON_KAFKA_EXTRA,
# pgbench for W2_SECONDS; latency_probe's line (a read_committed consumer: librdkafka's
# default) goes to $WORK/probe$1.out. bench_w2 is emptied first: each run checks its own rows.
run_w2() {
    local w2_slot=bench_w2$1_$$ probe daemon events committed
    sql "TRUNCATE bench_w2" >/dev/null
    build/bin/latency_probe "$KAFKA" "$w2_slot.public.bench_w2" "$WORK/probe$1.ready" 3000 \
        ${BENCH_W2_CREATE_TIME:+CreateTime} > "$WORK/probe$1.out" &
    probe=$!
    until [ -e "$WORK/probe$1.ready" ]; do
        kill -0 "$probe" 2>/dev/null || { echo "bench.sh: latency_probe failed" >&2; exit 1; }
        sleep 0.1
    done
    write_config "$w2_slot" bench_w2 "$KAFKA"
    build/bin/pgchangeset run --config "$WORK/config.yaml" > "$WORK/daemon.log" 2>&1 &
    daemon=$!
    until [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$w2_slot' AND active")" = 1 ]; do
        kill -0 "$daemon" 2>/dev/null || { cat "$WORK/daemon.log" >&2; echo "bench.sh: the daemon stopped" >&2; exit 1; }
        sleep 0.1
    done
    echo "INSERT INTO bench_w2 (v) VALUES ('row');" > "$WORK/w2.sql"
    pgbench -n -f "$WORK/w2.sql" -R "$W2_RATE" -T "$W2_SECONDS" -c 4 -j 2 "$CONNINFO" > "$WORK/pgbench.out" 2>&1 ||
        { cat "$WORK/pgbench.out" >&2; echo "bench.sh: pgbench failed" >&2; exit 1; }
    wait "$probe" || { echo "bench.sh: latency_probe failed" >&2; exit 1; }
    kill -TERM "$daemon"
    wait "$daemon" || { cat "$WORK/daemon.log" >&2; echo "bench.sh: the daemon failed" >&2; exit 1; }
    sql "SELECT pg_drop_replication_slot('$w2_slot')" >/dev/null
    read -r events _ < "$WORK/probe$1.out"
    committed=$(sql "SELECT count(*) FROM bench_w2")
    [ "$events" -ge "$committed" ] ||
        { echo "bench.sh: W2$1 saw $events events of $committed committed rows" >&2; exit 1; }
}

w2_eos=0
if wants W2; then
    say "W2: single-row transactions at $W2_RATE/s for $W2_SECONDS s (Apache Kafka)"
    sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_w2;
         CREATE TABLE bench_w2 (id bigserial PRIMARY KEY, v text)" >/dev/null
    publish bench_w2
    run_w2 ""
    read -r w2_events ack50 ack99 ackmax seen50 seen99 seenmax cap50 cap99 capmax own50 own99 ownmax < "$WORK/probe.out"
    say "W2: $w2_events events; commit -> acknowledged p50 $ack50 ms, p99 $ack99 ms; commit -> consumed p50 $seen50 ms, p99 $seen99 ms; of which commit -> captured (PostgreSQL) p99 $cap99 ms, captured -> acknowledged (daemon and Kafka) p99 $own99 ms"
    if [ "${BENCH_W2_EOS:-1}" != 0 ]; then
        w2_eos=1
        say "W2 again with kafka.exactly_once: true"
        DAEMON_KAFKA_EXTRA=$EOS_EXTRA run_w2 eos
        # Under exactly once the broker appends a record before its transaction commits: only
        # "seen" (a read_committed consumer got it) is commit -> visible.
        read -r e_events _ _ _ e_seen50 e_seen99 e_seenmax _ < "$WORK/probeeos.out"
        say "W2 exactly_once: $e_events events; commit -> visible to a read_committed consumer p50 $e_seen50 ms, p99 $e_seen99 ms"
    fi
fi

# W4 ---------------------------------------------------------------------------------------
if wants W4; then
    say "W4: one transaction of $W4_ROWS rows"
    sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_w4; CREATE TABLE bench_w4 (id int8 PRIMARY KEY, v text)" >/dev/null
    publish bench_w4
    sql "SELECT pg_create_logical_replication_slot('bench_w4', 'pgoutput')" >/dev/null
    sql "INSERT INTO bench_w4 SELECT g, 'row ' || g FROM generate_series(1, $W4_ROWS) g" >/dev/null
    end=$(sql "SELECT pg_current_wal_lsn()")
    run_daemon bench_w4 "$end" bench_w4 > "$WORK/result"
    record "pgchangeset W4" 1 "$W4_ROWS" "$(cat "$WORK/result")"
    sql "SELECT pg_drop_replication_slot('bench_w4')" >/dev/null
fi

# W5 ---------------------------------------------------------------------------------------
# COPY of bench_w5 into /dev/null. Prints "seconds cpu_seconds peak_rss_kb" (psql's CPU), and
# writes "seconds cpu_seconds 0" of the backend that ran the COPY to $WORK/result.server: the
# server's own statistics (log_statement_stats, sent to psql as a LOG message).
run_copy() {
    local start t
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.copy" \
        psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -c "SET client_min_messages = log" \
        -c "SET log_statement_stats = on" -c "COPY bench_w5 TO STDOUT" > /dev/null 2> "$WORK/copy.stats"
    t=$(elapsed "$start" "$(now)")
    # "!	0.675611 s user, 0.103091 s system, 0.779031 s elapsed"
    awk '/ s user, .* s system, .* s elapsed/ && !done {
             gsub(/!/, ""); printf "%s %.2f 0\n", $7, $1 + $4; done = 1 }
         END { if (!done) exit 1 }' "$WORK/copy.stats" > "$WORK/result.server" ||
        { cat "$WORK/copy.stats" >&2; echo "bench.sh: W5: no statistics from the COPY's backend" >&2; exit 1; }
    result_line "$t" "$WORK/time.copy"
}

# PostgreSQL's CPU seconds so far: the postmaster's own and its exited children's (backends
# and walsenders once they end); "" when the postmaster is not found.
server_cpu() {
    local pid
    pid=$(head -n 1 "$PGCS_RUNTIME_DIR/pg/data/postmaster.pid" 2>/dev/null) || return 0
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15 + $16 + $17) / hz }' "/proc/$pid/stat" 2>/dev/null || true
}

# The daemon's snapshot of bench_w5 (snapshot.mode initial_only) on a new slot $1 and its own
# publication, until it exits; checks the progress table, drops the slot and publication.
# Prints "seconds cpu_seconds peak_rss_kb"; writes "seconds cpu_seconds 0" of the server's
# processes during it to $WORK/result.server (empty when the postmaster is not found).
run_snapshot() {
    local slot=$1 start t progress cpu_before cpu_after
    sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS bench_w5_pub;
         CREATE PUBLICATION bench_w5_pub FOR TABLE bench_w5" >/dev/null
    sql "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput')" >/dev/null
    DAEMON_PUBLICATION=bench_w5_pub DAEMON_SNAPSHOT_MODE=initial_only write_config "$slot" bench_w5
    cpu_before=$(server_cpu)
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.daemon" \
        build/bin/pgchangeset run --config "$WORK/config.yaml" > "$WORK/daemon.log" 2>&1 ||
        { cat "$WORK/daemon.log" >&2; echo "bench.sh: the snapshot (initial_only) failed" >&2; exit 1; }
    t=$(elapsed "$start" "$(now)")
    # tables, tables done, rows done
    progress=$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'done') || ' ' ||
                    coalesce(sum(rows_done), 0) FROM $PROGRESS WHERE slot_name = '$slot'")
    [ "$progress" = "1 1 $W5_ROWS" ] || {
        cat "$WORK/daemon.log" >&2
        echo "bench.sh: W5: $PROGRESS for slot $slot says '$progress' (tables, done, rows), not '1 1 $W5_ROWS'" >&2
        exit 1
    }
    sql "DELETE FROM $PROGRESS WHERE slot_name = '$slot'" >/dev/null
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    sql "DROP PUBLICATION bench_w5_pub" >/dev/null
    # The server's CPU for the snapshot: its chunk queries, watermarks, progress rows and the
    # walsender, with the few checks above (the daemon's backends have ended by now).
    cpu_after=$(server_cpu)
    if [ -n "$cpu_before" ] && [ -n "$cpu_after" ]; then
        awk -v t="$t" -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%s %.2f 0\n", t, b - a }' > "$WORK/result.server"
    else
        : > "$WORK/result.server"
    fi
    result_line "$t" "$WORK/time.daemon"
}

# W5's floor: the events the snapshot of slot $1 wrote, produced again ($W5_ROWS of them)
# through the daemon's sink alone (tests/bench/produce_floor.cpp): what librdkafka needs for
# them, with nothing read or encoded. Prints "seconds cpu_seconds peak_rss_kb".
run_floor() {
    build/bin/produce_floor "$BROKERS" "$1.public.bench_w5" "$W5_ROWS" 2> "$WORK/floor.log" ||
        { cat "$WORK/floor.log" >&2; echo "bench.sh: W5: produce_floor failed" >&2; exit 1; }
}

if wants W5; then
    say "W5: a table of $W5_ROWS rows"
    sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS bench_w5_pub; DROP TABLE IF EXISTS bench_w5;
         CREATE TABLE bench_w5 (id bigserial PRIMARY KEY, name text, amount numeric(12,2),
         ts timestamptz, flag bool, payload jsonb)" >/dev/null
    for ((lo = 1; lo <= W5_ROWS; lo += 100000)); do
        insert_rows bench_w5 "$lo" $((lo + 99999 < W5_ROWS ? lo + 99999 : W5_ROWS))
    done > "$WORK/load.sql"
    psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/load.sql" >/dev/null
    # Hint bits and the visibility map set, the table read once (page cache): the same table
    # for both readers from their first repeat on.
    sql "VACUUM (FREEZE, ANALYZE) bench_w5" >/dev/null
    [ "$(sql "SELECT count(*) FROM bench_w5")" = "$W5_ROWS" ] ||
        { echo "bench.sh: W5: bench_w5 does not have $W5_ROWS rows" >&2; exit 1; }
    for rep in $(seq 1 "$REPEAT"); do
        say "W5 repeat $rep/$REPEAT: $W5_ROWS rows"
        order=(copy snapshot)
        [ $((rep % 2)) = 1 ] || order=(snapshot copy)
        for tool in "${order[@]}"; do
            case $tool in
                copy) run_copy > "$WORK/result"
                      record "COPY W5" "$rep" "$W5_ROWS" "$(cat "$WORK/result")"
                      record "COPY W5 server" "$rep" "$W5_ROWS" "$(cat "$WORK/result.server")" ;;
                snapshot) run_snapshot "bench_w5_$rep" > "$WORK/result"
                          record "pgchangeset W5" "$rep" "$W5_ROWS" "$(cat "$WORK/result")"
                          [ ! -s "$WORK/result.server" ] ||
                              record "pgchangeset W5 server" "$rep" "$W5_ROWS" "$(cat "$WORK/result.server")"
                          run_floor "bench_w5_$rep" > "$WORK/result"
                          record "librdkafka W5" "$rep" "$W5_ROWS" "$(cat "$WORK/result")" ;;
            esac
        done
    done
fi

# W6 ---------------------------------------------------------------------------------------
# shellcheck source=tests/bench/w6_sink.sh
. tests/bench/w6_sink.sh
! wants W6 || w6_main

# Report -----------------------------------------------------------------------------------
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
column_of() {  # tool, awk expression over the csv fields: one value a run
    awk -F, -v tool="$1" "NR > 1 && \$1 == tool { print $2 }" "$OUT/results.csv"
}
rate_of() { column_of "$1" '$3 / $4' | median; }
cpu_of() { column_of "$1" '$5 * 1e6 / $3' | median; }
{
    echo "| workload | reader | rows | rows/s (median) | CPU s per million rows (median) | peak RSS | runs |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    for tool in pgchangeset "pgchangeset (compression none)" pg_recvlogical wal2json+kcat \
                "pgchangeset (debezium format)" "pgchangeset (debezium format with schemas)" \
                "Debezium engine" "Debezium engine streaming" \
                "pgchangeset (Apache Kafka)" "pgchangeset (Apache Kafka; exactly_once)" \
                "W3 pgchangeset" "W3 pgchangeset (compression none)" "W3 pg_recvlogical" "W3 wal2json+kcat" \
                "pgchangeset W4" "pgchangeset W5" "pgchangeset W5 server" "COPY W5" "COPY W5 server" "librdkafka W5" \
                "sink W6 mirror" "sink W6 mirror applying" "sink W6 mirror server" \
                "sink W6 history" "sink W6 history applying" "sink W6 history server" \
                "sink W6 jdbc" "sink W6 jdbc applying" "sink W6 jdbc server"; do
        runs=$(column_of "$tool" 1 | wc -l)
        [ "$runs" -gt 0 ] || continue
        rows=$(column_of "$tool" '$3' | head -n 1)
        rss=$(column_of "$tool" '$6' | sort -g | tail -n 1)
        case $tool in
            "W3 "*) workload=W3 name=${tool#W3 } ;;
            "pgchangeset W4") workload=W4 name=pgchangeset ;;
            "pgchangeset W5") workload=W5 name="pgchangeset (snapshot.mode initial_only)" ;;
            "COPY W5") workload=W5 name="psql COPY TO STDOUT > /dev/null" ;;
            "pgchangeset W5 server") workload=W5 name="PostgreSQL's processes during that snapshot" ;;
            "COPY W5 server") workload="W5 floor" name="PostgreSQL's backend running that COPY" ;;
            "librdkafka W5") workload="W5 floor" name="the snapshot's events produced again by the daemon's sink alone" ;;
            "sink W6 mirror") workload=W6 name="pgchangeset sink, mode mirror" ;;
            "sink W6 mirror server") workload=W6 name="PostgreSQL's processes during that sink (mirror)" ;;
            "sink W6 history") workload=W6 name="pgchangeset sink, mode history" ;;
            "sink W6 mirror applying") workload=W6 name="pgchangeset sink, mode mirror, from its partition assignment" ;;
            "sink W6 history applying") workload=W6 name="pgchangeset sink, mode history, from its partition assignment" ;;
            "sink W6 history server") workload=W6 name="PostgreSQL's processes during that sink (history)" ;;
            "sink W6 jdbc") workload=W6 name="Kafka Connect with Debezium's JDBC sink (whole process)" ;;
            "sink W6 jdbc applying") workload=W6 name="Kafka Connect with Debezium's JDBC sink, from its partition assignment" ;;
            "sink W6 jdbc server") workload=W6 name="PostgreSQL's processes during that sink (JDBC)" ;;
            "Debezium engine") workload=W1 name="Debezium 3.6.1 embedded engine to /dev/null, no Kafka produce (whole process)" ;;
            "Debezium engine streaming") workload=W1 name="Debezium 3.6.1 embedded engine to /dev/null, no Kafka produce (from streaming start)" ;;
            *) workload=W1 name=$tool ;;
        esac
        rss_text="$((rss / 1024)) MB"
        [ "$rss" != 0 ] || rss_text="-"  # the server's rows: not measured
        printf '| %s | %s | %d | %.0f | %.2f | %s | %d |\n' "$workload" "$name" "$rows" \
            "$(rate_of "$tool")" "$(cpu_of "$tool")" "$rss_text" "$runs"
    done
    if wants W2; then
        printf '\n| W2 (%s rows/s, %s s) | events | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n' "$W2_RATE" "$W2_SECONDS"
        printf '| commit -> Kafka acknowledgement (broker append time) | %s | %s ms | %s ms | %s ms |\n' "$w2_events" "$ack50" "$ack99" "$ackmax"
        printf '| commit -> seen by a consumer | %s | %s ms | %s ms | %s ms |\n' "$w2_events" "$seen50" "$seen99" "$seenmax"
        printf '| of which commit -> captured_ts (PostgreSQL sent it, the daemon read it) | %s | %s ms | %s ms | %s ms |\n' "$w2_events" "$cap50" "$cap99" "$capmax"
        printf '| of which captured_ts -> Kafka acknowledgement (the daemon and Kafka) | %s | %s ms | %s ms | %s ms |\n' "$w2_events" "$own50" "$own99" "$ownmax"
        [ "$w2_eos" = 0 ] ||
            printf '| kafka.exactly_once: true, commit -> visible to a read_committed consumer | %s | %s ms | %s ms | %s ms |\n' "$e_events" "$e_seen50" "$e_seen99" "$e_seenmax"
    fi
    echo
    if reads daemon && reads nolz4 && reads recv && reads w2j; then
        awk -v d="$(rate_of pgchangeset)" -v r="$(rate_of pg_recvlogical)" -v w="$(rate_of wal2json+kcat)" \
            -v dc="$(cpu_of pgchangeset)" -v wc="$(cpu_of wal2json+kcat)" \
            -v nc="$(cpu_of "pgchangeset (compression none)")" 'BEGIN {
            printf "W1 ratios (medians): pgchangeset rows/s = %.2f x pg_recvlogical, %.2f x wal2json+kcat; CPU per row = %.2f x wal2json+kcat (%.2f x with compression none, as kcat)\n", d / r, d / w, dc / wc, nc / wc }'
    fi
    if reads daemon && reads dbz && reads dbzs; then
        awk -v d="$(rate_of pgchangeset)" -v z="$(rate_of "pgchangeset (debezium format)")" \
            -v zs="$(rate_of "pgchangeset (debezium format with schemas)")" -v dc="$(cpu_of pgchangeset)" \
            -v zc="$(cpu_of "pgchangeset (debezium format)")" -v zsc="$(cpu_of "pgchangeset (debezium format with schemas)")" 'BEGIN {
            printf "W1 debezium format (medians): rows/s = %.2f x native, %.2f x native with schemas (target >= 0.8); CPU per row = %.2f x native, %.2f x with schemas\n", z / d, zs / d, zc / dc, zsc / dc }'
    fi
    if reads kafka && reads kafka_eos; then
        awk -v k="$(rate_of "pgchangeset (Apache Kafka)")" -v e="$(rate_of "pgchangeset (Apache Kafka; exactly_once)")" \
            -v kc="$(cpu_of "pgchangeset (Apache Kafka)")" -v ec="$(cpu_of "pgchangeset (Apache Kafka; exactly_once)")" 'BEGIN {
            printf "W1 exactly once on Apache Kafka (medians): rows/s = %.2f x at least once (target >= 0.8); CPU per row = %.2f x\n", e / k, ec / kc }'
    fi
    if reads dbz && reads dbzs && reads engine; then
        awk -v zc="$(cpu_of "pgchangeset (debezium format)")" -v zsc="$(cpu_of "pgchangeset (debezium format with schemas)")" \
            -v ec="$(cpu_of "Debezium engine")" -v esc="$(cpu_of "Debezium engine streaming")" \
            -v z="$(rate_of "pgchangeset (debezium format)")" -v er="$(rate_of "Debezium engine streaming")" 'BEGIN {
            printf "W1 against Debezium (medians; Debezium without Kafka produce, a lower bound on its cost): pgchangeset debezium format CPU per row = %.2f x Debezium from streaming start, %.2f x its whole process (target <= 0.2); with schemas %.2f x, %.2f x; rows/s = %.2f x Debezium from streaming start\n", zc / esc, zc / ec, zsc / esc, zsc / ec, z / er }'
    fi
    if wants W3; then
        awk -v d="$(rate_of "W3 pgchangeset")" -v r="$(rate_of "W3 pg_recvlogical")" -v w="$(rate_of "W3 wal2json+kcat")" \
            -v dc="$(cpu_of "W3 pgchangeset")" -v wc="$(cpu_of "W3 wal2json+kcat")" \
            -v nc="$(cpu_of "W3 pgchangeset (compression none)")" 'BEGIN {
            printf "W3 ratios (medians): pgchangeset rows/s = %.2f x pg_recvlogical, %.2f x wal2json+kcat; CPU per row = %.2f x wal2json+kcat (%.2f x with compression none, as kcat)\n", d / r, d / w, dc / wc, nc / wc }'
    fi
    if wants W5; then
        awk -v s="$(rate_of "pgchangeset W5")" -v c="$(rate_of "COPY W5")" 'BEGIN {
            printf "W5 ratio (medians): snapshot / COPY rows/s = %.2f (target >= 0.8)\n", s / c }'
        # The CPU the two parts no snapshot can skip need (PostgreSQL sending the rows, at
        # COPY's cost; librdkafka producing the events), against what 0.8 x COPY allows on
        # this machine's cores: the rest is all there is for reading and encoding the rows.
        awk -v rows="$W5_ROWS" -v c="$(rate_of "COPY W5")" -v pg="$(column_of "COPY W5 server" '$5' | median)" \
            -v k="$(column_of "librdkafka W5" '$5' | median)" -v d="$(column_of "pgchangeset W5" '$5' | median)" \
            -v ps="$(column_of "pgchangeset W5 server" '$5' | median)" -v cores="$(nproc)" 'BEGIN {
            budget = cores * rows / (0.8 * c)
            printf "W5 floor (medians, CPU s): PostgreSQL sending the rows %.2f + librdkafka producing the events %.2f = %.2f; 0.8 x COPY allows %.2f on %d cores, leaving %.2f for reading and encoding; the snapshot used %.2f in pgchangeset (%.2f beyond librdkafka'"'"'s part) and %s in PostgreSQL\n",
                pg, k, pg + k, budget, cores, budget - pg - k, d, d - k, ps == "" ? "?" : sprintf("%.2f", ps) }'
    fi
    if wants W6; then
        awk -v m="$(rate_of "sink W6 mirror")" -v h="$(rate_of "sink W6 history")" \
            -v ma="$(rate_of "sink W6 mirror applying")" -v j="$(rate_of "sink W6 jdbc")" \
            -v ja="$(rate_of "sink W6 jdbc applying")" -v mc="$(cpu_of "sink W6 mirror")" \
            -v jc="$(cpu_of "sink W6 jdbc")" 'BEGIN {
            printf "W6 (medians): pgchangeset sink mirror %.0f rows/s from its start (target >= 50000), %.0f from its assignment; history %.0f rows/s", m, ma, h
            if (j != "") printf "; Debezium JDBC sink %.0f rows/s whole process, %.0f from its assignment: mirror = %.2f x its rows/s from assignment, %.2f x its CPU per row", j, ja, ma / ja, mc / jc
            printf "\n" }'
    fi
} | tee "$OUT/results.md"

if [ "$smoke" = 0 ] && wants W1 && command -v gnuplot >/dev/null; then
    for tool in pgchangeset pg_recvlogical wal2json+kcat; do
        printf '"%s" %s\n' "$tool" "$(rate_of "$tool")"
    done > "$WORK/chart.dat"
    gnuplot <<GP
set terminal png size 800,400 noenhanced
set output "$OUT/chart.png"
set title "W1: rows/s (median of $REPEAT), $W1_ROWS rows in $W1_TXNS transactions"
set style fill solid
set boxwidth 0.6
set yrange [0:*]
plot "$WORK/chart.dat" using 0:2:xtic(1) with boxes notitle
GP
    say "chart: $OUT/chart.png"
fi
say "results: $OUT/results.md, $OUT/results.csv"
