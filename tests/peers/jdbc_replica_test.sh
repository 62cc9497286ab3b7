#!/usr/bin/env bash
# ctest label peers: a real consumer of pgchangeset's `kafka.format: debezium` (with
# `kafka.schemas: true`). pgchangeset (build/bin, or PGCS_BIN_DIR) captures three tables into
# Apache Kafka: a snapshot of existing rows, then inserts, updates, deletes, primary key changes
# (one of a composite key) and TOAST values. Kafka Connect with Debezium's JDBC sink
# (tests/peers/connect-jdbc/run-sink.sh) reads those topics and writes a replica into a second
# database, which must equal the source table by table (md5 over the rows ordered by key, the
# columns as text) with the same column types. The TOAST table is REPLICA IDENTITY FULL: under
# DEFAULT, an update that leaves a TOAST value alone carries Debezium's placeholder
# "__debezium_unavailable_value", which the sink writes as the value (see README, "Peers used as
# oracles"), and float NaN and infinities are left out: JsonConverter reads the strings Jackson
# writes for them ("NaN", "Infinity", as Debezium does) back as 0. Needs Apache Kafka running
# (deploy/kafka/kafka-start.sh). PGCS_JR_IDENTITY=default puts the TOAST table under DEFAULT
# identity (then the test fails: the placeholder reaches the replica); PGCS_JR_TIMEOUT (seconds,
# default 300) bounds the sink's run.
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
BIN=${PGCS_BIN_DIR:-$REPO/build/bin}
BOOT=$(kafka_bootstrap)
A=jr_a_$SFX B=jr_b_$SFX C=jr_c_$SFX SLOT=jr_$SFX PUB=jr_pub_$SFX PFX=jr$SFX DB=jr_rep_$SFX
TARGET=$(sed "s/dbname=[^ ]*/dbname=$DB/" <<<"$PG")
tsql() { psql "$TARGET" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
ppid=''
cleanup() {
    if [ -n "$ppid" ]; then kill "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true; fi
    drop_slot "$SLOT"
    sql -c "drop publication if exists $PUB; drop table if exists $A, $B, $C" || true
    sql -c "drop database if exists $DB with (force)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql -c "create database $DB"

# ~16 kB of md5 hex: stored out of line (pglz cannot shrink it under the TOAST threshold), so an
# UPDATE that leaves it alone does not send it.
BIG="(select string_agg(md5(random()::text), '') from generate_series(1, 500))"
sql -c "create table $A (id int primary key, i8 int8, f8 float8, b bool, t text, vc varchar(20),
          n numeric(12,3), d date, ts timestamp, tz timestamptz, by bytea);
        create table $B (id int primary key, big text, k int);
        alter table $B replica identity ${PGCS_JR_IDENTITY:-full};
        create table $C (a int, b text, v int, primary key (a, b));
        insert into $A select g, g * 1000000000::int8, g / 3.0, g % 2 = 0, 'row ' || g, 'vc' || g,
          g * 1.125, '2026-01-01'::date + g, '2026-01-01'::timestamp + g * interval '1.5 hour',
          '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', decode(md5(g::text), 'hex')
          from generate_series(1, 20) g;
        insert into $B select g, $BIG, g from generate_series(1, 3) g;
        insert into $C select g, 'k' || g, g from generate_series(1, 5) g"

cat >"$WORK/pgcs.yaml" <<YAML
postgres:
  conninfo: "$PG"
  slot: $SLOT
  publication: $PUB
  tables: [public.$A, public.$B, public.$C]
kafka:
  brokers: "$BOOT"
  topic_prefix: $PFX
  format: debezium
  schemas: ${PGCS_JR_SCHEMAS:-true}
snapshot:
  mode: initial
YAML
t0=$(date +%s)
"$BIN/pgchangeset" run --config "$WORK/pgcs.yaml" >"$WORK/pgcs.log" 2>&1 &
ppid=$!
# the snapshot's 28 rows in Kafka before the workload starts
n=0
for ((i = 0; i < 600; i++)); do
    n=0
    for t in $A $B $C; do
        n=$((n + $(kcat -C -b "$BOOT" -t "$PFX.public.$t" -e -q -f 'x\n' 2>/dev/null | wc -l || true)))
    done
    [ "$n" -ge 28 ] && break
    kill -0 "$ppid" 2>/dev/null || break
    sleep 0.5
done
[ "$n" -ge 28 ] || { cat "$WORK/pgcs.log" >&2; fail "no snapshot from pgchangeset ($n records)"; finish; }
printf 'pgchangeset snapshot in Kafka: %d s\n' $(($(date +%s) - t0))

sql -c "insert into $A (id, t, n, ts, tz, by) values (100, 'héllo \"q\" ''s', -0.001,
          '2026-11-23 13:45:00.123456', '2026-11-23 13:45:00.5+02', '\\x00ff'),
          (101, null, null, null, null, null)"
sql -c "update $A set t = 'updated', n = n + 1, b = not b where id between 2 and 6"
sql -c "update $A set ts = null, tz = null, vc = null where id = 7"
sql -c "delete from $A where id in (8, 9, 101)"
sql -c "update $A set id = 200 where id = 10"
sql -c "begin; update $A set f8 = -1.5e-300 where id = 11; delete from $A where id = 12;
        insert into $A (id, t) values (12, 're-inserted'); commit"
sql -c "insert into $B values (10, $BIG, 10)"
sql -c "update $B set k = k + 100 where id in (1, 10)"
sql -c "update $B set big = 'now small' where id = 2"
sql -c "update $B set big = $BIG where id = 3"
sql -c "update $B set id = 20 where id = 10"
sql -c "delete from $B where id = 1"
sql -c "update $C set b = 'changed' where a = 1"
sql -c "update $C set a = 50, v = 50 where a = 2"
sql -c "update $C set v = v * 10 where a >= 3"
sql -c "delete from $C where a = 4"

# the same text on both sides: every column as text, rows ordered by key
digest() { # TABLE KEY: the md5 query for TABLE's rows
    printf "select md5(coalesce(string_agg(r::text, ',' order by %s), '')) from %s r" "$2" "$1"
}
types() { # TABLE: its columns with their types
    printf "select string_agg(column_name || ' ' || data_type, '|' order by ordinal_position)
            from information_schema.columns where table_schema = 'public' and table_name = '%s'" "$1"
}
declare -A key=([$A]=id [$B]=id [$C]="a, b")
until_sql="select true"
for t in $A $B $C; do
    want=$(sql -c "$(digest "$t" "${key[$t]}")")
    until_sql="$until_sql and ($(digest "${PFX}_public_$t" "${key[$t]}")) = '$want'"
done
t1=$(date +%s)
if "$PEERS/connect-jdbc/run-sink.sh" --brokers "$BOOT" --topics-regex "$PFX\\.public\\..*" \
    --target-conninfo "$TARGET" --group "jr-$SFX" --timeout-s "${PGCS_JR_TIMEOUT:-300}" \
    --until-sql "$until_sql" 2>"$WORK/sink.err"; then
    pass "run-sink.sh: the replica reached the source's digests"
else
    cat "$WORK/sink.err" >&2
    fail "run-sink.sh did not reach the source's digests"
fi
printf 'run-sink.sh: %d s; whole test so far: %d s\n' $(($(date +%s) - t1)) $(($(date +%s) - t0))
kill -0 "$ppid" 2>/dev/null || { cat "$WORK/pgcs.log" >&2; fail "pgchangeset exited"; }

for t in $A $B $C; do
    r=${PFX}_public_$t
    check "$t: replica equals source (md5 of ordered rows)" "$(sql -c "$(digest "$t" "${key[$t]}")")" \
        "$(tsql -c "$(digest "$r" "${key[$t]}")" 2>&1)"
    check "$t: row count" "$(sql -c "select count(*) from $t")" "$(tsql -c "select count(*) from $r" 2>&1)"
    rows="select r::text from %s r order by ${key[$t]}"
    # shellcheck disable=SC2059  # the query is the format
    diff <(sql -c "$(printf "$rows" "$t")") <(tsql -c "$(printf "$rows" "$r")" 2>&1) >"$WORK/$t.diff" ||
        { echo "$t: rows that differ (< source, > replica):" >&2; head -c 4000 "$WORK/$t.diff" >&2; }
done
# the types the sink created from pgchangeset's schemas (varchar(20) has no length in them)
check "$A: replica column types" \
    "$(sql -c "$(types "$A")" | sed 's/character varying/text/')" "$(tsql -c "$(types "${PFX}_public_$A")")"
check "$B: replica column types" "$(sql -c "$(types "$B")")" "$(tsql -c "$(types "${PFX}_public_$B")")"
check "$C: replica column types" "$(sql -c "$(types "$C")")" "$(tsql -c "$(types "${PFX}_public_$C")")"
check "no placeholder in the replica" 0 \
    "$(tsql -c "select count(*) from ${PFX}_public_$B where big like '%__debezium_unavailable_value%'")"
finish
