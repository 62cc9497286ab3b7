#!/usr/bin/env bash
# ctest label peers: the Flink harness (tests/peers/flink-json/parse.sh) on Debezium's own
# records (capture.sh, with and without schemas): a snapshot, an insert, an update and a delete
# on a REPLICA IDENTITY FULL table parse into rows of kind INSERT, INSERT, INSERT,
# UPDATE_BEFORE, UPDATE_AFTER, DELETE with the right fields (the tombstone is skipped); and an
# update on a DEFAULT identity table (no before image) makes parse.sh exit non-zero, as Flink
# refuses it.
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
T=peer_flink_$SFX PUB=peer_flink_pub_$SFX
cleanup() {
    for s in a b; do drop_slot "peer_flink_${s}_$SFX"; done
    sql -c "drop publication if exists $PUB; drop table if exists $T" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql -c "create table $T (id int primary key, v text, n numeric(10,2), ts timestamp);
        alter table $T replica identity full;
        insert into $T values (1, 'a', 1.50, '2026-01-01 00:00:00'), (2, 'b', null, null);
        create publication $PUB for table $T"

pids=()
for s in a b; do
    schemas=true
    [ $s = b ] && schemas=false
    "$PEERS/debezium/capture.sh" --conninfo "$PG" --slot "peer_flink_${s}_$SFX" --publication "$PUB" \
        --tables "public.$T" --schemas $schemas --snapshot initial --out "$WORK/$s.jsonl" \
        --topic-prefix pf --max-records 7 --timeout-s 240 --ready-file "$WORK/$s.ready" \
        2>"$WORK/$s.err" &
    pids+=($!)
done
for i in 0 1; do
    s=$([ $i = 0 ] && echo a || echo b)
    wait_for_file "$WORK/$s.ready" 300 "${pids[$i]}" ||
        { cat "$WORK/$s.err" >&2; fail "capture.sh ($s) never streamed"; finish; }
done
sql -c "insert into $T values (3, 'c', 3.00, '2026-01-01 00:00:01.5')"
sql -c "update $T set v = 'aa' where id = 1"
sql -c "delete from $T where id = 2"
# the same on a DEFAULT identity table: the update has no before image
sql -c "alter table $T replica identity default"
sql -c "update $T set v = 'ccc' where id = 3"
for i in 0 1; do
    wait "${pids[$i]}" || { fail "capture.sh failed"; cat "$WORK"/*.err >&2; finish; }
done

cols="id INT, v STRING, n BYTES, ts BIGINT"
want=$(printf '%s\n' "INSERT	1	a	\\x0096	1767225600000000" "INSERT	2	b	NULL	NULL" \
    "INSERT	3	c	\\x012c	1767225601500000" "UPDATE_BEFORE	1	a	\\x0096	1767225600000000" \
    "UPDATE_AFTER	1	aa	\\x0096	1767225600000000" "DELETE	2	b	NULL	NULL")
for s in a b; do
    include=true
    [ $s = b ] && include=false
    # the first 6 records (r, r, c, u, d, tombstone) of the FULL identity phase
    head -n 6 "$WORK/$s.jsonl" >"$WORK/$s.full.jsonl"
    t0=$(date +%s.%N)
    if "$PEERS/flink-json/parse.sh" --schema-include $include --columns "$cols" \
        --in "$WORK/$s.full.jsonl" >"$WORK/$s.rows" 2>"$WORK/$s.parse.err"; then
        pass "schema-include $include: every record parsed"
    else
        cat "$WORK/$s.parse.err" >&2
        fail "schema-include $include: parse.sh failed"
    fi
    printf 'parse.sh: %.1f s\n' "$(echo "$(date +%s.%N) - $t0" | bc)"
    check "schema-include $include: row kinds and fields" "$want" "$(cat "$WORK/$s.rows")"
    # all 7: the last record is the DEFAULT identity update, which Flink refuses
    set +e
    "$PEERS/flink-json/parse.sh" --schema-include $include --columns "$cols" --in "$WORK/$s.jsonl" \
        >/dev/null 2>"$WORK/$s.parse2.err"
    rc=$?
    set -e
    check "schema-include $include: an update without before image fails the parse" 1 "$rc"
    grep -q 'parse: error: line 7: .*REPLICA IDENTITY' "$WORK/$s.parse2.err" ||
        fail "schema-include $include: no 'line 7 ... REPLICA IDENTITY' error: $(head -c 600 "$WORK/$s.parse2.err")"
done
# schemas on, parsed as if off: the envelope is not a Debezium record -> failure
set +e
"$PEERS/flink-json/parse.sh" --schema-include false --columns "$cols" --in "$WORK/a.full.jsonl" \
    >/dev/null 2>/dev/null
rc=$?
set -e
check "schema-include false on records with schemas fails" 1 "$rc"
finish
