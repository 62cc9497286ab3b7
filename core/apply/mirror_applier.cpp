// Mirror mode at the target; see mirror_applier.hpp.
#include "core/apply/mirror_applier.hpp"

#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

constexpr const char* kOffsetsDdl =
    "CREATE SCHEMA IF NOT EXISTS pgchangeset_sink;"
    "CREATE TABLE IF NOT EXISTS pgchangeset_sink.offsets ("
    " group_id text NOT NULL, topic text NOT NULL, partition int NOT NULL,"
    " next_offset bigint NOT NULL, commit_lsn pg_lsn, seq bigint,"
    " updated_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (group_id, topic, partition));";

}  // namespace

MirrorApplier::MirrorApplier(const std::string& conninfo, std::string group_id)
    : group_id_(std::move(group_id)) {
    try {
        conn_ = source::connect({conninfo, "", "pgchangeset-sink"}, false);
    } catch (const std::exception& e) {
        throw TargetError("cannot connect to the target database (sink.conninfo '" +
                          source::mask_conninfo(conninfo) + "'): " + e.what() +
                          "; check sink.conninfo and that the database exists");
    }
    run("SET client_min_messages TO warning");  // no NOTICE of IF NOT EXISTS on stderr
    run(kOffsetsDdl);
}

void MirrorApplier::run(const std::string& sql) {
    source::PgResultPtr result(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string message = result ? PQresultErrorMessage(result.get()) : "";
        if (message.empty()) {
            message = PQerrorMessage(conn_.get());
        }
        while (!message.empty() && message.back() == '\n') {
            message.pop_back();
        }
        throw TargetError("the target database refused the sink's statements: " + message +
                          " (first statement: " + sql.substr(0, 300) + ")");
    }
}

std::map<TopicPartition, PartitionProgress> MirrorApplier::load_progress() {
    const source::PgResultPtr r =
        source::exec(conn_.get(),
                     "SELECT topic, partition, next_offset, commit_lsn::text, coalesce(seq, 0) "
                     "FROM pgchangeset_sink.offsets WHERE group_id = $1",
                     {group_id_});
    std::map<TopicPartition, PartitionProgress> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        TopicPartition tp{PQgetvalue(r.get(), i, 0), std::stoi(PQgetvalue(r.get(), i, 1))};
        PartitionProgress p;
        p.next_offset = std::stoll(PQgetvalue(r.get(), i, 2));
        if (PQgetisnull(r.get(), i, 3) == 0) {
            p.has_position = true;
            p.last.commit_lsn = parse_lsn(PQgetvalue(r.get(), i, 3)).value_or(0);
            p.last.seq = std::stoull(PQgetvalue(r.get(), i, 4));
        }
        out[tp] = p;
        progress_[tp] = p;
    }
    return out;
}

void MirrorApplier::begin_if_needed() {
    if (!in_transaction_) {
        sql_ = "BEGIN;";
        in_transaction_ = true;
        batch_started_ = std::chrono::steady_clock::now();
    }
}

void MirrorApplier::add(const std::string& sql) {
    begin_if_needed();
    sql_ += sql;
    if (sql_.size() > (4U << 20U)) {
        run(sql_);
        sql_.clear();
    }
}

void MirrorApplier::ensure_table(const SinkEvent& event) {
    const std::string key = qualified_name(event.schema, event.table);
    auto it = columns_.find(key);
    if (it == columns_.end()) {
        begin_if_needed();
        run(sql_);  // what is batched first: the table may have been created in this batch
        sql_.clear();
        const source::PgResultPtr r = source::exec(
            conn_.get(),
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
            "AND NOT attisdropped",
            {key});
        std::set<std::string> columns;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            columns.insert(PQgetvalue(r.get(), i, 0));
        }
        if (columns.empty()) {
            run(create_table_sql(event));
            for (const ColumnType& c : event.types) {
                columns.insert(c.name);
            }
        }
        it = columns_.emplace(key, std::move(columns)).first;
    }
    for (const ColumnType& c : event.types) {
        if (it->second.insert(c.name).second) {
            add(add_column_sql(event, c));  // a column added at the source
        }
    }
}

bool MirrorApplier::is_repeat(const TopicPartition& tp, const SinkEvent& event) const {
    auto it = progress_.find(tp);
    return it != progress_.end() && it->second.has_position && !(it->second.last < event.position);
}

void MirrorApplier::advance(const TopicPartition& tp, std::int64_t offset,
                            const EventPosition* position) {
    begin_if_needed();
    PartitionProgress& p = progress_[tp];
    p.next_offset = offset + 1;
    if (position != nullptr) {
        p.has_position = true;
        p.last = *position;
    }
    moved_.insert(tp);
    ++pending_;
}

bool MirrorApplier::apply(const TopicPartition& tp, std::int64_t offset, const SinkEvent& event) {
    if (is_repeat(tp, event)) {
        advance(tp, offset, nullptr);
        return false;
    }
    switch (event.op) {
        case EventOp::Added:
        case EventOp::Modified:
        case EventOp::Read:
            ensure_table(event);
            add(upsert_sql(event));
            break;
        case EventOp::Deleted:
            ensure_table(event);
            add(delete_sql(event));
            break;
        case EventOp::Truncated:
            break;  // the consumer's barrier calls truncate() once for every partition
    }
    advance(tp, offset, &event.position);
    return true;
}

void MirrorApplier::skip(const TopicPartition& tp, std::int64_t offset) {
    advance(tp, offset, nullptr);
}

void MirrorApplier::truncate(const std::string& schema, const std::string& table) {
    begin_if_needed();
    const std::string name = qualified_name(schema, table);
    // TRUNCATE of a table the target never got (no row reached it) is nothing to do.
    add("DO $$BEGIN IF to_regclass(" + quote_literal(name) + ") IS NOT NULL THEN EXECUTE " +
        quote_literal(truncate_sql(schema, table)) + "; END IF; END$$;");
}

void MirrorApplier::commit() {
    if (!in_transaction_) {
        return;
    }
    for (const TopicPartition& tp : moved_) {
        const PartitionProgress& p = progress_[tp];
        sql_ +=
            "INSERT INTO pgchangeset_sink.offsets AS o (group_id, topic, partition, "
            "next_offset, commit_lsn, seq) VALUES (" +
            quote_literal(group_id_) + ", " + quote_literal(tp.topic) + ", " +
            std::to_string(tp.partition) + ", " + std::to_string(p.next_offset) + ", " +
            (p.has_position ? quote_literal(format_lsn(p.last.commit_lsn)) + "::pg_lsn, " +
                                  std::to_string(p.last.seq)
                            : std::string("NULL, NULL")) +
            ") ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = "
            "EXCLUDED.next_offset, commit_lsn = EXCLUDED.commit_lsn, seq = EXCLUDED.seq, "
            "updated_at = now();";
    }
    sql_ += "COMMIT;";
    run(sql_);
    sql_.clear();
    moved_.clear();
    pending_ = 0;
    in_transaction_ = false;
}

}  // namespace pgcs::apply
