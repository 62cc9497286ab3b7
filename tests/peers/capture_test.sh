#!/usr/bin/env bash
# ctest label peers: tests/peers/debezium/capture.sh (the Debezium oracle) against the real
# PostgreSQL cluster. A snapshot of 2 rows, then, once capture.sh says it streams, an insert,
# an update and a delete: the JSON lines must be r, r, c, u, d and a tombstone, with the keys,
# before/after images and schemas Debezium writes (with and without schemas). Also: a
# connection that fails exits non-zero with Debezium's reason.
. "$(dirname "${BASH_SOURCE[0]}")/_test_env.sh"
T=peer_cap_$SFX PUB=peer_cap_pub_$SFX
cleanup() {
    drop_slot "peer_cap_a_$SFX"
    drop_slot "peer_cap_b_$SFX"
    sql -c "drop publication if exists $PUB; drop table if exists $T" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql -c "create table $T (id int primary key, v text, n numeric(10,2));
        insert into $T values (1, 'one', 1.50), (2, 'two', 2.25);
        create publication $PUB for table $T"

# run_case SLOT SCHEMAS SNAPSHOT RECORDS: capture.sh in the background; after ready, writes.
run_case() {
    local slot=$1 schemas=$2 snapshot=$3 n=$4 out=$WORK/$1.jsonl pid t0 t1
    t0=$(date +%s.%N)
    "$PEERS/debezium/capture.sh" --conninfo "$PG" --slot "$slot" --publication "$PUB" \
        --tables "public.$T" --schemas "$schemas" --snapshot "$snapshot" --out "$out" \
        --topic-prefix pfx --max-records "$n" --timeout-s 240 --ready-file "$WORK/$slot.ready" \
        2>"$WORK/$slot.err" &
    pid=$!
    if ! wait_for_file "$WORK/$slot.ready" 300 "$pid"; then
        cat "$WORK/$slot.err" >&2
        fail "$slot: capture.sh never reported streaming"
        return 1
    fi
    t1=$(date +%s.%N)
    printf 'capture.sh streaming %.1f s after launch\n' "$(echo "$t1 - $t0" | bc)" >&2
    sql -c "insert into $T values (3, 'three', 3.00)"
    sql -c "update $T set v = 'uno' where id = 1"
    sql -c "delete from $T where id = 2"
    # put the rows back for the next case
    sql -c "delete from $T where id = 3; update $T set v = 'one' where id = 1;
            insert into $T values (2, 'two', 2.25)"
    if ! wait "$pid"; then
        cat "$WORK/$slot.err" >&2
        fail "$slot: capture.sh failed"
        return 1
    fi
    grep -q '^{"ready":true}$' "$WORK/$slot.err" || fail "$slot: no {\"ready\":true} on stderr"
    printf 'capture.sh took %.1f s in all\n' "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
    cat "$out"
}

# Case A: snapshot, schemas: r r c u d tombstone (plus the restoring writes, not read).
out=$(run_case "peer_cap_a_$SFX" true initial 6) || true
p='if .value == null then "tombstone" else .value.payload.op end'
check "A: ops" "r r c u d tombstone" "$(jq -r "$p" <<<"$out" | paste -sd' ')"
check "A: topics" "pfx.public.$T" "$(jq -r .topic <<<"$out" | sort -u | paste -sd' ')"
check "A: key ids" "1 2 3 1 2 2" "$(jq -r .key.payload.id <<<"$out" | paste -sd' ')"
check "A: key schema name" "pfx.public.$T.Key" "$(jq -r .key.schema.name <<<"$out" | sort -u)"
check "A: envelope name" "pfx.public.$T.Envelope" \
    "$(jq -r 'select(.value) | .value.schema.name' <<<"$out" | sort -u)"
check "A: numeric as Decimal" "org.apache.kafka.connect.data.Decimal" \
    "$(jq -r 'select(.value) | .value.schema.fields[] | select(.field == "after") | .fields[]
              | select(.field == "n") | .name' <<<"$out" | sort -u)"
check "A: insert after" '{"id":3,"v":"three","n":"ASw="}' \
    "$(jq -c 'select(.value.payload.op == "c") | .value.payload.after' <<<"$out")"
check "A: update before/after" 'null {"id":1,"v":"uno","n":"AJY="}' \
    "$(jq -c 'select(.value.payload.op == "u") | .value.payload.before, .value.payload.after' <<<"$out" | paste -sd' ')"
check "A: delete before (identity default: key only)" '{"id":2,"v":null,"n":null} null' \
    "$(jq -c 'select(.value.payload.op == "d") | .value.payload.before, .value.payload.after' <<<"$out" | paste -sd' ')"
check "A: snapshot flags (Debezium 3: first, true.., last)" "first last false false false" \
    "$(jq -r 'select(.value) | .value.payload.source.snapshot' <<<"$out" | paste -sd' ')"
check "A: source" "postgresql pfx app public $T" \
    "$(jq -r 'select(.value) | .value.payload.source | [.connector, .name, .db, .schema, .table] | join(" ")' <<<"$out" | sort -u)"

# Case B: no snapshot, no schemas: c u d tombstone.
out=$(run_case "peer_cap_b_$SFX" false never 4) || true
p='if .value == null then "tombstone" else .value.op end'
check "B: ops" "c u d tombstone" "$(jq -r "$p" <<<"$out" | paste -sd' ')"
check "B: keys" '{"id":3} {"id":1} {"id":2} {"id":2}' "$(jq -c .key <<<"$out" | paste -sd' ')"
check "B: no schema envelope" "0" "$(jq -r 'select(.value.schema or .key.schema)' <<<"$out" | wc -l)"
check "B: insert after" '{"id":3,"v":"three","n":"ASw="}' \
    "$(jq -c 'select(.value.op == "c") | .value.after' <<<"$out")"

# A connection that fails: non-zero, with the reason.
set +e
"$PEERS/debezium/capture.sh" --conninfo "host=127.0.0.1 port=1 user=postgres password=x dbname=app" \
    --slot "peer_cap_c_$SFX" --publication "$PUB" --tables "public.$T" --schemas true \
    --snapshot never --out "$WORK/c.jsonl" --topic-prefix pfx --max-records 1 --timeout-s 120 \
    2>"$WORK/c.err"
rc=$?
set -e
check "bad connection: exit status" 1 "$rc"
if grep -q 'capture: error: Debezium stopped: .*onnect' "$WORK/c.err"; then
    pass "bad connection: reason on stderr"
else
    fail "bad connection: no reason on stderr: $(tail -n 3 "$WORK/c.err")"
fi
set +e
"$PEERS/debezium/capture.sh" --conninfo "$PG" --slot x --publication "$PUB" --tables t \
    --schemas maybe --snapshot never --out "$WORK/d.jsonl" --topic-prefix pfx --max-records 1 \
    --timeout-s 1 2>"$WORK/d.err"
rc=$?
set -e
check "usage error: exit status" 2 "$rc"
finish
