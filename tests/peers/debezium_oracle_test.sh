#!/usr/bin/env bash
# ctest label peers: THE ORACLE TEST of `kafka.format: debezium`. Debezium 3.6.1.Final's own
# PostgreSQL connector (tests/peers/debezium/capture.sh, its own slot and publication) and
# pgchangeset (its own slot, writing to the dev broker, or to Apache Kafka with
# PGCS_TEST_BROKER=kafka) capture the same WAL: a snapshot of existing rows, then a wide table
# of many types (NOT NULL ones too) under REPLICA IDENTITY DEFAULT, a table under FULL and one
# under USING INDEX (an index without the primary key), with TOAST values, updates that leave
# them untouched, deletes, key changes, a TRUNCATE
# (skipped by both: the default skipped.operations=t) and rows after it. Every record's key and value are compared,
# per key in order, after removing only what must differ: capture times (ts_ms/ts_us/ts_ns,
# source.ts_*), source.version, and for snapshot rows source.snapshot/lsn/txId/sequence
# (each snapshots at its own moment). Without and with JsonConverter's schemas.
# PGCS_ORACLE_BINARY=true runs pgchangeset with postgres.binary (values in binary form).
# PGCS_ORACLE_KEEP=1 keeps the work folder (both sides' normalised records) for inspection.
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
BIN=${PGCS_BIN_DIR:-$REPO/build/bin}
if [ "${PGCS_TEST_BROKER:-devbroker}" = kafka ]; then
    BROKER=$(kafka_bootstrap)
else
    BROKER=$(head -n 1 "$RUNTIME/devbroker.bootstrap" 2>/dev/null) ||
        { echo "cannot read $RUNTIME/devbroker.bootstrap: start the dev broker first" >&2; exit 1; }
fi
W=ow_$SFX F=of_$SFX X=ox_$SFX E=oe_$SFX DPUB=oracle_dbz_$SFX
PIDS=()
# stop PID: the process and its children (capture.sh runs java as a child).
stop() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    kill "$1" 2>/dev/null || true
}
# records TOPIC...: every record of the topics as {"topic","key","value"} JSON lines.
records() {
    local t
    for t in "$@"; do
        kcat -C -b "$BROKER" -t "$t" -e -q -J -Z 2>/dev/null |
            jq -c '{topic, key: (.key | if . then fromjson else null end),
                    value: (.payload | if . then fromjson else null end)}'
    done
}
cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop "$p"; done
    wait 2>/dev/null || true
    for s in false true; do
        drop_slot "odbz_${s}_$SFX"
        drop_slot "opgcs_${s}_$SFX"
        sql -c "drop publication if exists opgcs_${s}_$SFX" || true
    done
    sql -c "drop publication if exists $DPUB; drop table if exists $W, $F, $X; drop type if exists $E;
            drop domain if exists ${W}_d" || true
    if [ "${PGCS_ORACLE_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ~16 kB of md5 hex: too little redundancy for pglz to bring it under the TOAST threshold, so it
# is stored out of line and an UPDATE that leaves it alone does not send it.
BIG="(select string_agg(md5(random()::text), '') from generate_series(1, 500))"
sql -c "create extension if not exists hstore; create extension if not exists ltree;
create extension if not exists citext;
create type $E as enum ('red', 'green'); create domain ${W}_d as int check (value > 0);
create table $W (id int primary key, i2 int2, i8 int8, f4 float4, f8 float8, b bool,
  n numeric(12,3), nv numeric, m money, t text, vc varchar(20), c char(5), by bytea, d date,
  tm time, tm3 time(3), ts timestamp, ts3 timestamp(3), tz timestamptz, tz3 timestamptz(3),
  ttz timetz, iv interval, u uuid, j json, jb jsonb, x xml, ip inet, cn cidr, mac macaddr,
  bit1 bit(1), bits bit(10), pt point, bx box, r int4range, ai int[], at text[], ad date[],
  en $E, vb varbit(8), tsv tsvector, dm ${W}_d, nan numeric, dinf date, tsinf timestamp,
  tzinf timestamptz, a2 int[], hs hstore, lt ltree, ci citext, big text, nn_t text not null,
  nn_i int not null, nn_n numeric(10,2) not null, nn_tz timestamptz not null);
create table $F (id int primary key, payload text, k int);
alter table $F replica identity full;
create table $X (id int primary key, code text not null, v text);
create unique index ${X}_code on $X (code);
alter table $X replica identity using index ${X}_code;
insert into $X values (9, 'z', 'snap');
insert into $W (id, t, n, big, nn_t, nn_i, nn_n, nn_tz) values
  (1, 'snap one', 1.5, $BIG, 'a', 1, 1.5, '2026-01-01 00:00:00+00'),
  (2, 'snap two', null, 'small', 'b', 2, 2.5, '2026-01-02 00:00:00+00');
insert into $F values (1, $BIG, 1);
create publication $DPUB for table $W, $F, $X"

workload() {
    sql -c "insert into $W values (10, -7, 9007199254740993, 1.5, -2.25e-7, true, 1234.5, 0.000123,
      '-1234.56', 'héllo \"q\"', 'vc', 'ab', '\\x0102ff', '2026-11-23', '13:45:00.5', '13:45:00.123',
      '2026-11-23 13:45:00.123456', '2026-11-23 13:45:00.123', '2026-11-23 13:45:00.5+02',
      '2026-11-23 13:45:00.5+00', '13:45:00.5+02', '1 year 2 mons 3 days 04:05:06.5',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, null]}', '{\"b\": {\"c\": 2}}',
      '<a>x</a>', '10.0.0.1/8', '10.0.0.0/8', '08:00:2b:01:02:03', '1', '1000000001', '(1.5,2)',
      '((0,0),(1,1))', '[1,5)', '{1,NULL,3}', '{a,\"b c\",NULL}', '{2026-11-23}', 'green',
      '101', 'a fat cat', 7, 'NaN', 'infinity', '-infinity', 'infinity', '{{1,2},{3,4}}',
      'a=>1, b=>NULL', 'top.science', 'MiXed', $BIG, 'nn', 5, 2.50, '2026-01-01 00:00:00.5+00')"
    sql -c "insert into $W (id, nn_t, nn_i, nn_n, nn_tz) values (11, 'x', 0, 0, now())"
    sql -c "update $W set t = 'toast untouched' where id = 10"
    sql -c "update $W set big = 'now small', n = -0.001 where id = 10"
    sql -c "update $W set big = $BIG where id = 10"
    sql -c "delete from $W where id = 11"
    sql -c "update $W set id = 12 where id = 10"
    sql -c "insert into $F values (3, $BIG, 1)"
    sql -c "update $F set k = 2 where id = 3"
    sql -c "update $F set id = 4 where id = 3"
    sql -c "delete from $F where id = 4"
    sql -c "begin; update $W set t = 'in txn' where id = 1; delete from $F where id = 1;
            insert into $F values (6, 'six', 6); commit"
    # USING INDEX: keyed by the primary key; a primary key change leaving the index alone has
    # no old row in the stream, so Debezium writes a plain update under the new key.
    sql -c "insert into $X values (1, 'a', 'one'), (2, 'b', 'two')"
    sql -c "update $X set v = 'uno' where id = 1"
    sql -c "update $X set id = 3 where id = 1"
    sql -c "update $X set code = 'c' where id = 2"
    sql -c "delete from $X where id = 3"
    sql -c "truncate $F"
    sql -c "insert into $F values (5, 'after truncate', 5)"
    sql -c "insert into $W (id, t, nn_t, nn_i, nn_n, nn_tz) values (999, 'marker', '', 0, 0, now())"
}

# normalise: one line a record, {"topic","key","value"}, without what must differ; the
# snapshot rows' source position fields too. Then grouped per (topic, key) in order.
NORM='
def strip: if . == null then null else
    del(.ts_ms, .ts_us, .ts_ns, .source.version, .source.ts_ms, .source.ts_us, .source.ts_ns)
    | if .op == "r" then del(.source.snapshot, .source.lsn, .source.txId, .source.sequence)
      else . end end;
def body: if . == null then null elif has("payload") then .payload = (.payload | strip)
          else strip end;
select((.topic | endswith(".message")) | not)
| {topic, key, value: (.value | body)}'
GROUP='group_by([.topic, (.key | tojson)]) | map({topic: .[0].topic, key: .[0].key,
        records: map(.value)})'

run_case() {
    local schemas=$1 dslot=odbz_$1_$SFX pslot=opgcs_$1_$SFX prefix=o$1_$SFX t0 dpid ppid
    local dout=$WORK/dbz_$1.jsonl pout=$WORK/pgcs_$1.jsonl cfg=$WORK/pgcs_$1.yaml n i
    t0=$(date +%s)
    "$PEERS/debezium/capture.sh" --conninfo "$PG" --slot "$dslot" --publication "$DPUB" \
        --tables "public.$W,public.$F,public.$X" --schemas "$schemas" --snapshot initial --out "$dout" \
        --topic-prefix "$prefix" --max-records 0 --timeout-s 600 \
        --ready-file "$WORK/$dslot.ready" 2>"$WORK/$dslot.err" &
    dpid=$!
    PIDS+=("$dpid")
    wait_for_file "$WORK/$dslot.ready" 600 "$dpid" ||
        { cat "$WORK/$dslot.err" >&2; fail "$schemas: Debezium never streamed"; return 1; }
    cat >"$cfg" <<YAML
postgres:
  conninfo: "$PG"
  slot: $pslot
  publication: opgcs_$1_$SFX
  tables: [public.$W, public.$F, public.$X]
  binary: ${PGCS_ORACLE_BINARY:-false}
kafka:
  brokers: "$BROKER"
  topic_prefix: $prefix
  format: debezium
  schemas: $schemas
snapshot:
  mode: initial
YAML
    "$BIN/pgchangeset" run --config "$cfg" >"$WORK/$pslot.log" 2>&1 &
    ppid=$!
    PIDS+=("$ppid")
    # pgchangeset's snapshot: its 3 rows (and Debezium's) before the workload starts.
    for ((i = 0; i < 600; i++)); do
        n=$(records "$prefix.public.$W" "$prefix.public.$F" "$prefix.public.$X" | wc -l)
        [ "$n" -ge 3 ] && break
        kill -0 "$ppid" 2>/dev/null || break
        sleep 0.5
    done
    [ "${n:-0}" -ge 3 ] || { cat "$WORK/$pslot.log" >&2; fail "$schemas: no pgchangeset snapshot"; return 1; }
    workload
    # Until both have the marker row (id 999), then until Debezium has as many records.
    for ((i = 0; i < 600; i++)); do
        records "$prefix.public.$W" "$prefix.public.$F" "$prefix.public.$X" >"$pout"
        if grep -q '"marker"' "$pout" && grep -q '"marker"' "$dout"; then
            [ "$(jq -c "$NORM" "$dout" | wc -l)" -ge "$(wc -l <"$pout")" ] && break
        fi
        sleep 0.5
    done
    stop "$dpid"
    stop "$ppid"
    wait "$dpid" "$ppid" 2>/dev/null || true
    printf 'schemas=%s: %d Debezium records, %d pgchangeset records, %d s\n' "$schemas" \
        "$(jq -c "$NORM" "$dout" | wc -l)" "$(wc -l <"$pout")" "$(($(date +%s) - t0))" >&2
    jq -c "$NORM" "$dout" | jq -S -s "$GROUP" >"$WORK/dbz_$1.norm.json"
    jq -c "$NORM" "$pout" | jq -S -s "$GROUP" >"$WORK/pgcs_$1.norm.json"
    if diff -u "$WORK/dbz_$1.norm.json" "$WORK/pgcs_$1.norm.json" >"$WORK/diff_$1.txt"; then
        pass "schemas=$schemas: every key and value equal Debezium's"
    else
        fail "schemas=$schemas: records differ from Debezium's (- Debezium, + pgchangeset):"
        head -c 20000 "$WORK/diff_$1.txt" >&2
    fi
    check "schemas=$schemas: same record count" "$(jq -c "$NORM" "$dout" | wc -l)" "$(wc -l <"$pout")"
}

run_case false
sql -c "delete from $W where id in (12, 999); update $W set t = 'snap one' where id = 1;
        delete from $F; insert into $F values (1, $BIG, 1); delete from $X; insert into $X values (9, 'z', 'snap')"
run_case true
finish
