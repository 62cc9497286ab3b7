// Snapshot reads; see table_reader.hpp.
#include "core/snapshot/table_reader.hpp"

#include "core/encode/encoder_factory.hpp"
#include "core/source/catalog.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace pgcs::snapshot {

using source::exec;

pgoutput::Relation SnapshotTable::relation() const {
    pgoutput::Relation r;
    r.oid = oid;
    r.schema = schema;
    r.name = name;
    r.replica_identity = replica_identity;
    r.columns.reserve(columns.size());
    for (const auto& c : columns) {
        r.columns.push_back({c.identity, c.name, c.type_oid, c.type_modifier});
    }
    return r;
}

TableReader::TableReader(source::PgConnPtr conn) : conn_(std::move(conn)) {
    // A watermark reaches the stream only once its commit is flushed (the walsender sends
    // flushed WAL only): flushed at commit, not by the WAL writer up to wal_writer_delay
    // later. Not waiting for synchronous standbys: they do not hold back logical decoding.
    exec(conn_.get(), "SET synchronous_commit = local");
}

SnapshotTable TableReader::describe(const std::string& quoted,
                                    const std::string& publication) const {
    PGconn* c = conn_.get();
    SnapshotTable t;
    t.quoted = quoted;
    auto rel = exec(c,
                    "SELECT c.oid, n.nspname, c.relname, c.relreplident FROM pg_class c JOIN "
                    "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                    {quoted});
    if (PQntuples(rel.get()) != 1) {
        throw std::runtime_error("table " + quoted + " does not exist");
    }
    t.oid = static_cast<std::uint32_t>(std::stoul(PQgetvalue(rel.get(), 0, 0)));
    t.schema = PQgetvalue(rel.get(), 0, 1);
    t.name = PQgetvalue(rel.get(), 0, 2);
    t.replica_identity = PQgetvalue(rel.get(), 0, 3)[0];

    const bool pg15 = PQserverVersion(c) >= 150000;
    auto pub = exec(c,
                    std::string("SELECT ") +
                        (pg15 ? "coalesce(array_to_string(attnames, ','), ''), "
                                "coalesce(rowfilter, '')"
                              : "'', ''") +
                        " FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND "
                        "tablename = $3",
                    {publication, t.schema, t.name});
    if (PQntuples(pub.get()) != 1) {
        throw std::runtime_error("table " + quoted + " is not in publication " + publication +
                                 ": only published tables can be snapshotted");
    }
    t.row_filter = PQgetvalue(pub.get(), 0, 1);
    std::vector<std::string> published;  // a publication column list, if any
    for (std::string names = PQgetvalue(pub.get(), 0, 0); !names.empty();) {
        const auto comma = names.find(',');
        published.push_back(names.substr(0, comma));
        names = comma == std::string::npos ? "" : names.substr(comma + 1);
    }

    const source::Catalog catalog(c);
    t.primary_key = catalog.primary_key(t.oid);
    std::vector<std::string> identity;
    if (t.replica_identity == 'd') {
        identity = t.primary_key;
    } else if (t.replica_identity == 'i') {
        identity = catalog.replica_identity_index(t.oid);
    }
    // Generated columns are in the stream only from PostgreSQL 18, and there only those the
    // publication lists (publish_generated_columns = stored, or a column list naming them),
    // which pg_publication_tables.attnames says: the snapshot reads the same columns.
    const bool published_generated = PQserverVersion(c) >= 180000 && !published.empty();
    auto cols = exec(
        c,
        std::string("SELECT attname, atttypid, atttypmod FROM pg_attribute WHERE "
                    "attrelid = $1::oid AND attnum > 0 AND NOT attisdropped") +
            (published_generated ? " AND attgenerated IN ('', 's')" : " AND attgenerated = ''") +
            " ORDER BY attnum",
        {std::to_string(t.oid)});
    for (int i = 0; i < PQntuples(cols.get()); ++i) {
        SnapshotTable::Column col;
        col.name = PQgetvalue(cols.get(), i, 0);
        if (!published.empty() &&
            std::find(published.begin(), published.end(), col.name) == published.end()) {
            continue;
        }
        col.type_oid = static_cast<std::uint32_t>(std::stoul(PQgetvalue(cols.get(), i, 1)));
        col.type_modifier = std::stoi(PQgetvalue(cols.get(), i, 2));
        col.identity = t.replica_identity == 'f' ||
                       std::find(identity.begin(), identity.end(), col.name) != identity.end();
        t.columns.push_back(std::move(col));
    }
    // The Kafka key (relation_cache.hpp): the identity columns under DEFAULT/INDEX, the primary
    // key under FULL/NOTHING. Chunks follow the key's index order, so the index serves them.
    const std::vector<std::string>& key =
        (t.replica_identity == 'f' || t.replica_identity == 'n') ? t.primary_key : identity;
    for (const auto& k : key) {
        const auto it =
            std::find_if(t.columns.begin(), t.columns.end(),
                         [&](const SnapshotTable::Column& col) { return col.name == k; });
        if (it == t.columns.end()) {
            t.key_order.clear();  // a key column left out of the column list: no usable key
            break;
        }
        t.key_order.push_back(static_cast<std::size_t>(it - t.columns.begin()));
    }
    return t;
}

namespace {

// "(k1, k2)" in the key's index order.
std::string key_tuple(PGconn* c, const SnapshotTable& t) {
    std::string out;
    for (std::size_t i = 0; i < t.key_order.size(); ++i) {
        out += (i ? ", " : "") + source::quote_ident(c, t.columns[t.key_order[i]].name);
    }
    return "(" + out + ")";
}

// "($n, $n+1)" for a key's values, appended to the statement's parameters.
std::string key_params(const SnapshotTable& t, const std::vector<std::string>& key,
                       std::vector<const char*>& values, std::vector<Oid>& types) {
    if (key.size() != t.key_order.size()) {
        throw std::runtime_error("snapshot progress of " + t.quoted + " has " +
                                 std::to_string(key.size()) + " key values, the key " +
                                 std::to_string(t.key_order.size()) + " columns");
    }
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) {
        values.push_back(key[i].c_str());
        types.push_back(t.columns[t.key_order[i]].type_oid);
        out += (i ? ", $" : "$") + std::to_string(values.size());
    }
    return "(" + out + ")";
}

}  // namespace

void TableReader::fix_end(SnapshotTable& t) const {
    PGconn* c = conn_.get();
    if (t.keyed()) {
        const std::string key = key_tuple(c, t);
        std::string columns;
        std::string descending;
        for (const std::size_t k : t.key_order) {
            const std::string name = source::quote_ident(c, t.columns[k].name);
            columns += (columns.empty() ? "" : ", ") + name;
            descending += (descending.empty() ? "" : ", ") + name + " DESC";
        }
        auto res = exec(
            c, "SELECT " + columns + " FROM " + t.quoted + " ORDER BY " + descending + " LIMIT 1");
        t.end_key.reset();
        if (PQntuples(res.get()) == 1) {
            std::vector<std::string> end;
            for (int i = 0; i < PQnfields(res.get()); ++i) {
                end.emplace_back(PQgetvalue(res.get(), 0, i));
            }
            t.end_key = std::move(end);
        }
    } else {
        auto size = exec(c,
                         "SELECT pg_relation_size($1::regclass) / "
                         "current_setting('block_size')::int8",
                         {t.quoted});
        t.end_block = std::stoll(PQgetvalue(size.get(), 0, 0));
    }
    t.end_fixed = true;
}

std::optional<std::vector<std::string>> TableReader::upper_bound(
    const SnapshotTable& t, const std::vector<std::string>& after, int rows) const {
    PGconn* c = conn_.get();
    if (t.end_fixed && !t.end_key) {
        return std::nullopt;  // empty when the snapshot began
    }
    std::vector<const char*> values;
    std::vector<Oid> types;
    const std::string key = key_tuple(c, t);
    std::string sql = "SELECT " + key.substr(1, key.size() - 2) + " FROM " + t.quoted;
    std::string where;
    if (!after.empty()) {
        where += key + " > " + key_params(t, after, values, types);
    }
    if (t.end_key) {
        where += (where.empty() ? "" : " AND ") + key +
                 " <= " + key_params(t, *t.end_key, values, types);
    }
    if (!where.empty()) {
        sql += " WHERE " + where;
    }
    sql += " ORDER BY " + key.substr(1, key.size() - 2) + " OFFSET " +
           std::to_string(std::max(rows, 1) - 1) + " LIMIT 1";
    auto res = source::exec_params(c, sql, static_cast<int>(values.size()), types.data(),
                                   values.data(), nullptr, nullptr);
    if (PQntuples(res.get()) == 0) {
        return std::nullopt;
    }
    std::vector<std::string> upper;
    upper.reserve(static_cast<std::size_t>(PQnfields(res.get())));
    for (int i = 0; i < PQnfields(res.get()); ++i) {
        upper.emplace_back(PQgetvalue(res.get(), 0, i));
    }
    return upper;
}

Chunk TableReader::read(const SnapshotTable& t, const std::string& condition,
                        const std::vector<std::string>& after, int limit,
                        const std::vector<std::string>& upper) const {
    PGconn* c = conn_.get();
    std::string columns;
    for (const auto& col : t.columns) {
        columns += (columns.empty() ? "" : ", ") + source::quote_ident(c, col.name);
    }
    std::string where;
    auto add = [&](const std::string& clause) {
        where += (where.empty() ? " WHERE " : " AND ") + clause;
    };
    if (!t.row_filter.empty()) {
        add(t.row_filter);
    }
    if (!condition.empty()) {
        // Always one parenthesised expression; the line breaks end any comment that
        // condition_syntax_error missed, so it cannot hide the key range or the limit.
        add("(\n" + condition + "\n)");
    }
    std::vector<const char*> values;
    std::vector<Oid> types;
    std::string sql;
    std::int64_t first_block = 0;
    std::int64_t blocks = 0;
    if (t.keyed()) {
        const std::string key = key_tuple(c, t);
        if (!after.empty()) {
            add(key + " > " + key_params(t, after, values, types));
        }
        if (!upper.empty()) {
            add(key + " <= " + key_params(t, upper, values, types));
        }
        if (t.end_key) {
            add(key + " <= " + key_params(t, *t.end_key, values, types));
        } else if (t.end_fixed) {
            add("false");  // empty when the snapshot began: its rows come with the stream
        }
        sql = "SELECT " + columns + " FROM " + t.quoted + where + " ORDER BY " +
              key.substr(1, key.size() - 2) + (limit > 0 ? " LIMIT " + std::to_string(limit) : "");
    } else {
        // No key to order by: ranges of heap blocks (a TID range scan), about `limit` rows.
        first_block = after.empty() ? 0 : std::stoll(after[0]);
        blocks = std::max<std::int64_t>(1, limit / 50);
        add("ctid >= '(" + std::to_string(first_block) + ",0)'::tid AND ctid < '(" +
            std::to_string(first_block + blocks) + ",0)'::tid");
        sql = "SELECT " + columns + " FROM " + t.quoted + where;
    }

    Chunk chunk;
    exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        // The first statement fixes the transaction's snapshot: this is the one the rows are
        // read under.
        auto snap = exec(c, "SELECT pg_current_snapshot()::text");
        auto parsed = XidSnapshot::parse(PQgetvalue(snap.get(), 0, 0));
        if (!parsed) {
            throw std::runtime_error(std::string("unexpected pg_current_snapshot() text: ") +
                                     PQgetvalue(snap.get(), 0, 0));
        }
        chunk.snapshot = std::move(*parsed);
        chunk.rows = source::exec_params(c, sql, static_cast<int>(values.size()), types.data(),
                                         values.data(), nullptr, nullptr);
        if (t.keyed() && !upper.empty()) {  // a range: the next starts after its end
            chunk.last = false;
            chunk.last_key = upper;
        } else if (t.keyed()) {
            const int n = PQntuples(chunk.rows.get());
            chunk.last = limit <= 0 || n < limit;
            if (n > 0) {
                for (const std::size_t k : t.key_order) {
                    chunk.last_key.emplace_back(
                        PQgetvalue(chunk.rows.get(), n - 1, static_cast<int>(k)));
                }
            } else {
                chunk.last_key = after;
            }
            // The fixed end read: the last chunk, even when it held `limit` rows.
            chunk.last = chunk.last || (t.end_key && chunk.last_key == *t.end_key);
        } else {
            std::int64_t relation_blocks = t.end_block;
            if (!t.end_fixed) {
                auto size = exec(c,
                                 "SELECT pg_relation_size($1::regclass) / "
                                 "current_setting('block_size')::int8",
                                 {t.quoted});
                relation_blocks = std::stoll(PQgetvalue(size.get(), 0, 0));
            }
            chunk.last = first_block + blocks >= relation_blocks;
            chunk.last_key = {std::to_string(first_block + blocks)};
        }
        exec(c, "COMMIT");
    } catch (...) {
        PQclear(PQexec(c, "ROLLBACK"));
        throw;
    }
    return chunk;
}

void TableReader::read_exported(const SnapshotTable& t, const std::string& snapshot_name, int batch,
                                const std::function<void(source::PgResultPtr rows)>& each) const {
    PGconn* c = conn_.get();
    std::string columns;
    for (const auto& col : t.columns) {
        columns += (columns.empty() ? "" : ", ") + source::quote_ident(c, col.name);
    }
    char* literal = PQescapeLiteral(c, snapshot_name.data(), snapshot_name.size());
    if (literal == nullptr) {
        throw source::PgError(std::string("cannot quote a snapshot name: ") + PQerrorMessage(c),
                              "");
    }
    const std::string quoted_name = literal;
    PQfreemem(literal);
    exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
        exec(c, "SET TRANSACTION SNAPSHOT " + quoted_name);
        exec(c, "DECLARE pgchangeset_export NO SCROLL CURSOR FOR SELECT " + columns + " FROM " +
                    t.quoted + (t.row_filter.empty() ? "" : " WHERE " + t.row_filter));
        const std::string fetch =
            "FETCH FORWARD " + std::to_string(batch) + " FROM pgchangeset_export";
        for (;;) {
            source::PgResultPtr rows = exec(c, fetch);
            if (PQntuples(rows.get()) == 0) {
                break;
            }
            each(std::move(rows));
        }
        exec(c, "COMMIT");
    } catch (...) {
        PQclear(PQexec(c, "ROLLBACK"));
        throw;
    }
}

void fill_read_change(const changeset::RelationInfo& relation, const PGresult* rows, int row,
                      changeset::Changeset& out) {
    out.clear();
    out.op = changeset::Op::Read;
    out.relation = &relation;
    out.has_after = true;
    const auto columns = relation.columns.size();
    out.after.resize(columns);
    for (std::size_t i = 0; i < columns; ++i) {
        const int c = static_cast<int>(i);
        if (PQgetisnull(rows, row, c)) {
            out.after[i] = {changeset::Value::State::Null, {}};
        } else {
            out.after[i] = {
                changeset::Value::State::Text,
                {PQgetvalue(rows, row, c), static_cast<std::size_t>(PQgetlength(rows, row, c))}};
        }
    }
}

void KeyIndex::build(const EncodedRows& rows) {
    entries_.clear();
    entries_.reserve(rows.size());
    const std::hash<std::string_view> hash;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        entries_.push_back({hash(rows.key(i)), rows.key(i), static_cast<std::uint32_t>(i)});
    }
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
        return a.hash < b.hash || (a.hash == b.hash && a.row < b.row);
    });
}

std::optional<std::uint32_t> KeyIndex::find(std::string_view key) const {
    const std::size_t h = std::hash<std::string_view>()(key);
    auto it = std::lower_bound(entries_.begin(), entries_.end(), h,
                               [](const Entry& e, std::size_t v) { return e.hash < v; });
    for (; it != entries_.end() && it->hash == h; ++it) {
        if (it->key == key) {
            return it->row;
        }
    }
    return std::nullopt;
}

void encode_chunk(const changeset::RelationInfo& relation, const changeset::TypeRegistry& types,
                  const encode::FormatSettings& format, Chunk& chunk) {
    const std::unique_ptr<encode::EventEncoder> made = encode::make_event_encoder(format, types);
    encode::EventEncoder& encoder = *made;
    changeset::Changeset change;
    EncodedRows& out = chunk.encoded;
    const int n = PQntuples(chunk.rows.get());
    out.key_ends.reserve(static_cast<std::size_t>(n));
    out.value_ends.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        fill_read_change(relation, chunk.rows.get(), i, change);
        encoder.encode_without_meta(change);
        out.has_key = encoder.has_key();
        const std::string_view key = encoder.key();
        const std::string_view value = encoder.value();
        out.keys.insert(out.keys.end(), key.begin(), key.end());
        out.values.insert(out.values.end(), value.begin(), value.end());
        if (out.keys.size() > std::numeric_limits<std::uint32_t>::max()) {
            throw std::runtime_error("snapshot chunk keys exceed 4 GB: lower snapshot.chunk_size");
        }
        out.key_ends.push_back(static_cast<std::uint32_t>(out.keys.size()));
        out.value_ends.push_back(out.values.size());
        if (i == 0) {  // room for rows like the first, and a quarter more
            const auto rows = static_cast<std::size_t>(n);
            out.keys.reserve(rows * key.size() * 5 / 4);
            out.values.reserve(rows * value.size() * 5 / 4);
        }
    }
    if (out.has_key) {
        chunk.rows_by_key.build(out);
    }
    chunk.is_encoded = true;
    chunk.rows.reset();
}

void TableReader::emit_watermark(const std::string& content) const {
    exec(conn_.get(), "SELECT pg_logical_emit_message(true, $1, $2)",
         {std::string(kWatermarkPrefix), content});
}

}  // namespace pgcs::snapshot
