# W6 (sink), sourced by tests/bench/bench.sh (its helpers and variables: sql, now, elapsed,
# result_line, record, write_config, run_daemon, insert_rows, drop_slot_when_free, server_cpu,
# say, CONNINFO, KAFKA, WORK, REPO, W6_ROWS, W6_READERS, REPEAT).
#
# W6_ROWS rows of W1's shape, 10,000 a transaction, are captured twice into Apache Kafka
# before anything is timed: natively (slot and prefix $W6_SLOT) for `pgchangeset sink`, and in
# Debezium's format with schemas (slot and prefix $W6_DBZ_SLOT) for Kafka Connect with
# Debezium's JDBC sink connector (tests/peers/connect-jdbc), which reads only that format. Then
# each repeat applies the topic into a new database bench_w6_target on the same server with
# each reader of W6_READERS (mirror, history: pgchangeset sink in that mode; jdbc: the JDBC
# sink, insert.mode upsert, its other settings Debezium's defaults), the order rotating between
# repeats. Each run is timed from its process's start until every event is applied, and again
# from its consumer's partition assignment (the JVM's and the connector's start left out).

# Every partition of topic $1: "partition end_offset" lines; stops when a partition no longer
# starts at offset 0 (retention) or the topic has fewer than W6_ROWS events.
w6_partition_ends() {
    local topic=$1 p b e total=0
    for p in $(kcat -L -b "$KAFKA" -t "$topic" | awk '/partition [0-9]+,/ { sub(",", "", $2); print $2 }'); do
        e=$(kcat -Q -b "$KAFKA" -t "$topic:$p:-1" | awk '{ print $NF }')
        b=$(kcat -Q -b "$KAFKA" -t "$topic:$p:-2" | awk '{ print $NF }')
        [ "$b" = 0 ] || { echo "bench.sh: W6: $topic's partition $p starts at offset $b, not 0" >&2; exit 1; }
        echo "$p $e"
        total=$((total + e))
    done
    [ "$total" -ge "$W6_ROWS" ] ||
        { echo "bench.sh: W6: $topic has $total events, fewer than $W6_ROWS rows" >&2; exit 1; }
}

w6_new_target() {
    PGOPTIONS="-c client_min_messages=warning" sql "DROP DATABASE IF EXISTS bench_w6_target WITH (FORCE)" >/dev/null
    sql "CREATE DATABASE bench_w6_target" >/dev/null
}

# Waits until the target has no backend left (their CPU reaches the postmaster's counters when
# they end), then writes "seconds cpu_seconds 0" of the server's processes since $2 (taken
# before the run) for a run of $1 seconds to $WORK/result.server.
w6_server_cpu() {
    local t=$1 cpu_before=$2 cpu_after i
    for ((i = 0; i < 100; i++)); do
        [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench_w6_target'")" = 0 ] && break
        sleep 0.1
    done
    cpu_after=$(server_cpu)
    if [ -n "$cpu_before" ] && [ -n "$cpu_after" ]; then
        awk -v t="$t" -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%s %.2f 0\n", t, b - a }' > "$WORK/result.server"
    else
        : > "$WORK/result.server"
    fi
}

# Writes "seconds cpu_seconds rss" from the assignment's wall clock time $1 (HH:MM:SS.fff or
# an ISO time, today) to $2 (epoch seconds) to $WORK/result.applying, empty without $1.
w6_applying() {
    if [ -n "$1" ]; then
        awk -v t="$(elapsed "$(date -d "$1" +%s.%N)" "$2")" \
            '{ printf "%s %.2f %d\n", t, $1 + $2, $3 }' "$WORK/time.w6"
    fi > "$WORK/result.applying"
}

# pgchangeset sink in mode $1 (mirror or history), group $2, until pgchangeset_sink.offsets
# holds every partition's end offset; checks the target's rows (and, for mirror, their md5
# against the source's). Prints "seconds cpu_seconds peak_rss_kb".
w6_run_sink() {
    local mode=$1 group=$2 start pid t t_end cpu_before done_offsets rows
    w6_new_target
    DAEMON_BROKERS=$KAFKA write_config "$W6_SLOT" bench_w6
    sed -i 's/^  level: warn$/  level: info/' "$WORK/config.yaml"  # its assignment's time
    cat >> "$WORK/config.yaml" <<YAML
sink:
  conninfo: "$W6_TARGET"
  mode: $mode
  group_id: $group
YAML
    cpu_before=$(server_cpu)
    start=$(now)
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.w6" \
        build/bin/pgchangeset sink --config "$WORK/config.yaml" > "$WORK/sink.log" 2>&1 &
    pid=$!
    while :; do
        done_offsets=$(psql "$W6_TARGET" -qAtX -c "SELECT coalesce(sum(next_offset), 0)
                       FROM pgchangeset_sink.offsets WHERE group_id = '$group'" 2>/dev/null || echo 0)
        [ "$done_offsets" -lt "$W6_ENDS" ] || break
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/sink.log" >&2; echo "bench.sh: the sink stopped" >&2; exit 1; }
        sleep 0.05
    done
    t_end=$(now)
    t=$(elapsed "$start" "$t_end")
    pkill -TERM -P "$pid"  # the sink, child of /usr/bin/time
    wait "$pid" || { cat "$WORK/sink.log" >&2; echo "bench.sh: the sink failed" >&2; exit 1; }
    if [ "$mode" = mirror ]; then
        rows=$(psql "$W6_TARGET" -qAtX -c "SELECT count(*) FROM public.bench_w6")
    else
        rows=$(psql "$W6_TARGET" -qAtX -c "SELECT count(*) FROM pgchangeset_history.public__bench_w6")
    fi
    [ "$rows" = "$W6_ROWS" ] ||
        { cat "$WORK/sink.log" >&2; echo "bench.sh: W6: the $mode target has $rows rows, not $W6_ROWS" >&2; exit 1; }
    if [ "$mode" = mirror ]; then
        local row_md5="md5(string_agg(t::text, ',' ORDER BY id)) FROM public.bench_w6 t"
        [ "$(psql "$W6_TARGET" -qAtX -c "SELECT $row_md5")" = "$(sql "SELECT $row_md5")" ] ||
            { echo "bench.sh: W6: the mirror's rows differ from the source's" >&2; exit 1; }
    fi
    w6_applying "$(awk '/ sink: .* from offset / { print $1; exit }' "$WORK/sink.log")" "$t_end"
    w6_server_cpu "$t" "$cpu_before"
    result_line "$t" "$WORK/time.w6"
}

# Kafka Connect with Debezium's JDBC sink, connector $1, until the last event of every
# partition of the debezium topic is a row of its table (one partition is applied in order),
# then counts the rows. Prints "seconds cpu_seconds peak_rss_kb".
w6_run_jdbc() {
    local name=$1 start pid t t_end cpu_before rows table=${W6_DBZ_SLOT}_public_bench_w6
    w6_new_target
    cpu_before=$(server_cpu)
    start=$(now)
    local done_sql="SELECT count(*) = $W6_LAST_COUNT FROM $table WHERE id IN ($W6_LAST_IDS)"
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.w6" \
        bash tests/peers/connect-jdbc/run-sink.sh --brokers "$KAFKA" --topics-regex "${W6_DBZ_SLOT}\\.public\\.bench_w6" \
        --target-conninfo "$W6_TARGET" --group "$name" --timeout-s 3600 --until-sql "$done_sql" \
        --log "$WORK/connect.log" > "$WORK/jdbc.out" 2>&1 &
    pid=$!
    # Polled here every 50 ms (run-sink.sh polls every second and then stops Connect).
    until [ "$(psql "$W6_TARGET" -qAtX -c "$done_sql" 2>/dev/null)" = t ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/jdbc.out" >&2; echo "bench.sh: the JDBC sink stopped" >&2; exit 1; }
        sleep 0.05
    done
    t_end=$(now)
    t=$(elapsed "$start" "$t_end")
    wait "$pid" || { cat "$WORK/jdbc.out" >&2; echo "bench.sh: the JDBC sink failed" >&2; exit 1; }
    rows=$(psql "$W6_TARGET" -qAtX -c "SELECT count(*) FROM $table")
    [ "$rows" = "$W6_ROWS" ] ||
        { cat "$WORK/jdbc.out" >&2; echo "bench.sh: W6: the JDBC sink's table has $rows rows, not $W6_ROWS" >&2; exit 1; }
    w6_applying "$(awk '/[Aa]dding newly assigned partitions: *[^ ]/ { print $1; exit }' "$WORK/connect.log")" "$t_end"
    w6_server_cpu "$t" "$cpu_before"
    result_line "$t" "$WORK/time.w6"
}

w6_main() {
    local end rep mode lo i readers
    say "W6: $W6_ROWS rows (10,000 a transaction) captured into Apache Kafka, then applied by $W6_READERS"
    W6_SLOT=bench_w6_$$ W6_DBZ_SLOT=bench_w6dbz_$$
    W6_TARGET="$CONNINFO dbname=bench_w6_target"
    sql "SET client_min_messages = warning; DROP PUBLICATION IF EXISTS bench_w6_pub; DROP TABLE IF EXISTS bench_w6;
         CREATE TABLE bench_w6 (id bigserial PRIMARY KEY, name text, amount numeric(12,2),
         ts timestamptz, flag bool, payload jsonb); CREATE PUBLICATION bench_w6_pub FOR TABLE bench_w6" >/dev/null
    sql "SELECT pg_create_logical_replication_slot('$W6_SLOT', 'pgoutput')" >/dev/null
    [[ " $W6_READERS " != *" jdbc "* ]] ||
        sql "SELECT pg_create_logical_replication_slot('$W6_DBZ_SLOT', 'pgoutput')" >/dev/null
    for ((lo = 1; lo <= W6_ROWS; lo += 10000)); do
        insert_rows bench_w6 "$lo" $((lo + 9999 < W6_ROWS ? lo + 9999 : W6_ROWS))
    done > "$WORK/load.sql"
    psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 -f "$WORK/load.sql" >/dev/null
    end=$(sql "SELECT pg_current_wal_lsn()")
    DAEMON_BROKERS=$KAFKA DAEMON_PUBLICATION=bench_w6_pub run_daemon "$W6_SLOT" "$end" bench_w6 > "$WORK/result"
    say "W6: captured in $(cut -d' ' -f1 "$WORK/result") s (not part of W6's numbers)"
    drop_slot_when_free "$W6_SLOT"
    W6_ENDS=$(w6_partition_ends "$W6_SLOT.public.bench_w6" | awk '{ s += $2 } END { print s }')
    if [[ " $W6_READERS " == *" jdbc "* ]]; then
        DAEMON_BROKERS=$KAFKA DAEMON_PUBLICATION=bench_w6_pub DAEMON_KAFKA_EXTRA=$'  format: debezium\n  schemas: true' \
            run_daemon "$W6_DBZ_SLOT" "$end" bench_w6 > "$WORK/result"
        say "W6: captured in Debezium's format in $(cut -d' ' -f1 "$WORK/result") s (not part of W6's numbers)"
        drop_slot_when_free "$W6_DBZ_SLOT"
        # The key of each partition's last event: its row is the last one the sink applies.
        W6_LAST_IDS='' W6_LAST_COUNT=0
        while read -r p e; do
            [ "$e" -gt 0 ] || continue
            i=$(kcat -C -b "$KAFKA" -t "$W6_DBZ_SLOT.public.bench_w6" -p "$p" -o $((e - 1)) -c 1 -e -q -f '%k\n' |
                    sed -n 's/.*"payload":{"id":\([0-9]*\)}.*/\1/p')
            [ -n "$i" ] || { echo "bench.sh: W6: no id in the key of partition $p's last event" >&2; exit 1; }
            W6_LAST_IDS+=${W6_LAST_IDS:+,}$i
            W6_LAST_COUNT=$((W6_LAST_COUNT + 1))
        done < <(w6_partition_ends "$W6_DBZ_SLOT.public.bench_w6")
    fi
    read -r -a readers <<<"$W6_READERS"
    for rep in $(seq 1 "$REPEAT"); do
        say "W6 repeat $rep/$REPEAT: $W6_ROWS rows, $W6_ENDS events"
        for ((i = 0; i < ${#readers[@]}; i++)); do
            mode=${readers[$(((i + rep - 1) % ${#readers[@]}))]}
            if [ "$mode" = jdbc ]; then
                w6_run_jdbc "bench_w6_jdbc_$$_$rep" > "$WORK/result"
            else
                w6_run_sink "$mode" "bench_w6_${mode}_$$_$rep" > "$WORK/result"
            fi
            record "sink W6 $mode" "$rep" "$W6_ROWS" "$(cat "$WORK/result")"
            [ ! -s "$WORK/result.applying" ] ||
                record "sink W6 $mode applying" "$rep" "$W6_ROWS" "$(cat "$WORK/result.applying")"
            [ ! -s "$WORK/result.server" ] ||
                record "sink W6 $mode server" "$rep" "$W6_ROWS" "$(cat "$WORK/result.server")"
        done
    done
    PGOPTIONS="-c client_min_messages=warning" sql "DROP DATABASE IF EXISTS bench_w6_target WITH (FORCE)" >/dev/null
}
