// Reads a table for a snapshot on a connection of its own: describes it as pgoutput would
// (publication column list and row filter applied), reads it in chunks in key order (each in a
// REPEATABLE READ transaction whose MVCC snapshot it returns) and writes the watermark that
// fences a chunk in the WAL.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/changeset/changeset.hpp"
#include "core/encode/encoder_factory.hpp"
#include "core/pgoutput/messages.hpp"
#include "core/snapshot/xid_snapshot.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::snapshot {

// The prefix of the watermark messages (pg_logical_emit_message); never published.
inline constexpr std::string_view kWatermarkPrefix = "pgchangeset.snapshot";

struct SnapshotTable {
    struct Column {
        std::string name;
        std::uint32_t type_oid = 0;
        std::int32_t type_modifier = -1;
        bool identity = false;  // what pgoutput flags as part of the replica identity
    };
    std::string quoted;  // "schema"."name"
    std::uint32_t oid = 0;
    std::string schema;
    std::string name;
    char replica_identity = 'd';
    std::vector<Column> columns;           // as pgoutput sends them, in attribute order
    std::vector<std::string> primary_key;  // for RelationCache::define (FULL, NOTHING)
    std::vector<std::size_t> key_order;    // the Kafka key's columns in index order; empty: none
    std::string row_filter;                // the publication's row filter, empty if none
    // Where the snapshot ends, fixed when it starts (TableReader::fix_end): the largest key then
    // (none: the table was empty), or a keyless table's size in blocks. Rows added later come
    // with the stream, so a table written faster than it is read still ends.
    bool end_fixed = false;
    std::optional<std::vector<std::string>> end_key;
    std::int64_t end_block = 0;

    // A Relation message describing it; views into this object.
    pgoutput::Relation relation() const;
    bool keyed() const { return !key_order.empty(); }
};

// A chunk's rows encoded by a reader thread: each row's Kafka key and its value without the
// watermark transaction's fields (ChangesetEncoder::encode_without_meta). Arenas, not a string
// per row.
struct EncodedRows {
    std::vector<char> keys;
    std::vector<char> values;
    std::vector<std::uint32_t> key_ends;    // row i: keys[key_ends[i-1], key_ends[i])
    std::vector<std::uint64_t> value_ends;  // likewise
    bool has_key = false;

    std::size_t size() const { return value_ends.size(); }
    std::string_view key(std::size_t i) const {
        const std::uint32_t from = i == 0 ? 0 : key_ends[i - 1];
        return {keys.data() + from, key_ends[i] - from};
    }
    std::string_view value(std::size_t i) const {
        const std::uint64_t from = i == 0 ? 0 : value_ends[i - 1];
        return {values.data() + from, static_cast<std::size_t>(value_ends[i] - from)};
    }
};

// Kafka key JSON -> row of a chunk: one flat array sorted by the key's hash, built once by
// the reader thread (no allocation per row, unlike a node-based map); views into the rows'
// `keys`, whose buffer stays put when the chunk is moved.
class KeyIndex {
  public:
    void build(const EncodedRows& rows);
    std::optional<std::uint32_t> find(std::string_view key) const;
    bool empty() const { return entries_.empty(); }

  private:
    struct Entry {
        std::size_t hash;
        std::string_view key;
        std::uint32_t row;
    };
    std::vector<Entry> entries_;
};

struct Chunk {
    source::PgResultPtr rows;  // the table's columns, in SnapshotTable::columns order (freed
                               // once encoded)
    EncodedRows encoded;       // when the reader encoded them
    bool is_encoded = false;
    KeyIndex rows_by_key;  // for a keyed table
    XidSnapshot snapshot;  // the MVCC snapshot the rows were read under
    // Where the next chunk starts: the last row's key columns (key order), or for a table
    // without a key the next block number.
    std::vector<std::string> last_key;
    bool last = false;  // nothing after this chunk
};

// Row `row` of a chunk's result as a `read` change of `relation` (text values).
void fill_read_change(const changeset::RelationInfo& relation, const PGresult* rows, int row,
                      changeset::Changeset& out);

// Encodes every row of `chunk.rows` into `chunk.encoded` (and the key map), then frees them.
void encode_chunk(const changeset::RelationInfo& relation, const changeset::TypeRegistry& types,
                  const encode::FormatSettings& format, Chunk& chunk);

class TableReader {
  public:
    explicit TableReader(source::PgConnPtr conn);

    PGconn* conn() const { return conn_.get(); }

    // Throws std::runtime_error when the table is gone or not in the publication.
    SnapshotTable describe(const std::string& quoted, const std::string& publication) const;

    // Fixes where the table's snapshot ends: its largest key now, or its size in blocks.
    void fix_end(SnapshotTable& table) const;

    // The rows after `after` (empty: from the first), up to and including `upper` (empty: no
    // bound) and the table's fixed end, at most `limit` (0: no limit), matching `condition` (SQL,
    // empty: every row) and the publication's row filter, in key order. A table without a key is
    // read by block ranges instead (`after`: the first block).
    Chunk read(const SnapshotTable& table, const std::string& condition,
               const std::vector<std::string>& after, int limit,
               const std::vector<std::string>& upper = {}) const;

    // The key of the `rows`-th row after `after` (empty: from the first), in key order; none
    // when fewer rows follow. Where a chunk of that many rows ends, found by a scan of the
    // key's index alone, so that the next chunk can be read at the same time.
    std::optional<std::vector<std::string>> upper_bound(const SnapshotTable& table,
                                                        const std::vector<std::string>& after,
                                                        int rows) const;

    // Every row (matching the publication's row filter) under an exported snapshot (a new
    // slot's), `batch` rows at a time, in no particular order.
    void read_exported(const SnapshotTable& table, const std::string& snapshot_name, int batch,
                       const std::function<void(source::PgResultPtr rows)>& each) const;

    // A transactional logical message with the watermark prefix; committed at once.
    void emit_watermark(const std::string& content) const;

  private:
    source::PgConnPtr conn_;
};

}  // namespace pgcs::snapshot
