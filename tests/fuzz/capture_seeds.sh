#!/usr/bin/env bash
# Captures real pgoutput messages from the test PostgreSQL into tests/fuzz/corpus/ as seeds
# for fuzz_pgoutput (one file per message: the selector byte of pgoutput_fuzz_input.hpp, then
# the message). A workload covers every message type: inserts, updates and deletes under each
# replica identity, TOAST, truncate, types, DDL, logical decoding messages, and a transaction
# streamed in pieces with a rolled-back subtransaction, in text and binary mode.
# Needs a running test cluster (deploy/pg-start.sh) and xxd. Re-run after changing the
# workload; commit the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNINFO=$(cat "${PGCS_RUNTIME_DIR:-$PWD/.run}/pg/conninfo")
OUT=tests/fuzz/corpus
sql() { psql "$CONNINFO" -qAtX -v ON_ERROR_STOP=1 "$@"; }

sql <<'SQL'
DROP TABLE IF EXISTS fuzz_seed_a, fuzz_seed_full, fuzz_seed_nothing CASCADE;
DROP PUBLICATION IF EXISTS fuzz_seed;
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'fuzz_seed';
CREATE TABLE fuzz_seed_a (id int PRIMARY KEY, t text, n numeric, ts timestamptz, j jsonb,
    a int4[], b bytea, big text);
ALTER TABLE fuzz_seed_a ALTER big SET STORAGE EXTERNAL;
CREATE TABLE fuzz_seed_full (id int PRIMARY KEY, v text);
ALTER TABLE fuzz_seed_full REPLICA IDENTITY FULL;
CREATE TABLE fuzz_seed_nothing (v text);
CREATE PUBLICATION fuzz_seed FOR TABLE fuzz_seed_a, fuzz_seed_full, fuzz_seed_nothing;
SELECT 1 FROM pg_create_logical_replication_slot('fuzz_seed', 'pgoutput');
INSERT INTO fuzz_seed_a VALUES (1, 'x', 1.5, now(), '{"k": [1, null]}', '{1,NULL}', '\x00ff',
    (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 100) g));
UPDATE fuzz_seed_a SET t = 'y' WHERE id = 1;
UPDATE fuzz_seed_a SET id = 2 WHERE id = 1;
DELETE FROM fuzz_seed_a WHERE id = 2;
INSERT INTO fuzz_seed_full VALUES (1, 'a'), (2, NULL);
UPDATE fuzz_seed_full SET v = 'b';
DELETE FROM fuzz_seed_full WHERE id = 1;
INSERT INTO fuzz_seed_nothing VALUES ('free');
TRUNCATE fuzz_seed_full, fuzz_seed_nothing;
SELECT 1 FROM pg_logical_emit_message(true, 'seed.tx', 'content');
SELECT 1 FROM pg_logical_emit_message(false, 'seed.nontx', '\x00ff'::bytea);
ALTER TABLE fuzz_seed_full ADD COLUMN extra int8;
INSERT INTO fuzz_seed_full VALUES (3, 'c', 9007199254740993);
BEGIN;
INSERT INTO fuzz_seed_full SELECT g, repeat('s', 50), g FROM generate_series(10, 3000) g;
SAVEPOINT s1;
INSERT INTO fuzz_seed_full SELECT g, 'gone', g FROM generate_series(3001, 4000) g;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SQL

rm -rf "$OUT"
mkdir -p "$OUT"
count=0
for mode in "proto_version 1" "proto_version 2 streaming on binary true messages true"; do
    # shellcheck disable=SC2086
    set -- $mode
    opts=""
    while [ $# -gt 0 ]; do opts+=", '$1', '$2'"; shift 2; done
    version=$(sed -n "s/.*'proto_version', '\([0-9]\)'.*/\1/p" <<<"$opts")
    in_stream=0
    per_type=""
    while IFS= read -r hex; do
        type=${hex:0:2}
        [ "$type" = 45 ] && in_stream=0   # 'E' Stream Stop
        # Keep at most 8 messages of each type and stream state: the streamed transaction
        # repeats the same few thousand times.
        key="$type$in_stream"
        n=$(grep -o "$key" <<<"$per_type" | wc -l || true)
        if [ "$n" -lt 8 ]; then
            per_type+="$key "
            selector=$(( (version - 1) | (in_stream ? 4 : 0) ))
            printf '%02x%s' "$selector" "$hex" | xxd -r -p > "$OUT/v${version}_$(printf '%04d' $count).bin"
            count=$((count + 1))
        fi
        [ "$type" = 53 ] && in_stream=1   # 'S' Stream Start
    done < <(sql -c "SET logical_decoding_work_mem = '64kB'" \
                 -c "SELECT encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('fuzz_seed', NULL, NULL, 'publication_names', 'fuzz_seed'$opts)")
done

sql <<'SQL'
SELECT pg_drop_replication_slot('fuzz_seed');
DROP PUBLICATION fuzz_seed;
DROP TABLE fuzz_seed_a, fuzz_seed_full, fuzz_seed_nothing;
SQL
echo "capture_seeds.sh: $count real messages in $OUT"
