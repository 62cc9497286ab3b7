// Batches and offsets at the target; see target_applier.hpp.
#include "core/apply/target_applier.hpp"

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

TargetApplier::TargetApplier(const std::string& conninfo, std::string group_id)
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

void TargetApplier::refused(const std::string& message, const std::string& sql) {
    std::string text = message.empty() ? PQerrorMessage(conn_.get()) : message;
    while (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    throw TargetError("the target database refused the sink's statements: " + text +
                      " (first statement: " + sql.substr(0, 300) + ")");
}

void TargetApplier::run(const std::string& sql) {
    wait_in_flight();
    source::PgResultPtr result(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        refused(result ? PQresultErrorMessage(result.get()) : "", sql);
    }
}

void TargetApplier::wait_in_flight() {
    if (in_flight_.empty()) {
        return;
    }
    const std::string sql = std::move(in_flight_);
    in_flight_.clear();
    std::string message;
    bool failed = false;
    while (PGresult* raw = PQgetResult(conn_.get())) {
        const source::PgResultPtr result(raw);
        const ExecStatusType status = PQresultStatus(raw);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !failed) {
            failed = true;
            message = PQresultErrorMessage(raw);
        }
    }
    if (failed || PQstatus(conn_.get()) != CONNECTION_OK) {
        refused(message, sql);
    }
}

source::PgResultPtr TargetApplier::query(const std::string& sql,
                                         const std::vector<std::string>& params) {
    if (in_transaction_) {
        flush();  // the open batch's statements first: the query sees what they did
    }
    try {
        return source::exec(conn(), sql, params);
    } catch (const std::exception& e) {
        throw TargetError(std::string("the target database refused the sink's query: ") + e.what());
    }
}

std::map<TopicPartition, PartitionProgress> TargetApplier::load_progress() {
    const source::PgResultPtr r =
        source::exec(conn(),
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
    on_load();
    return out;
}

void TargetApplier::begin_if_needed() {
    if (!in_transaction_) {
        sql_ = "BEGIN;";
        in_transaction_ = true;
        batch_started_ = std::chrono::steady_clock::now();
    }
}

void TargetApplier::add(const std::string& sql) {
    begin_if_needed();
    sql_ += sql;
    if (sql_.size() > (4U << 20U)) {
        flush();
    }
}

void TargetApplier::flush() {
    begin_if_needed();
    if (!sql_.empty()) {
        run(sql_);
        sql_.clear();
    }
}

void TargetApplier::copy_in(const std::string& sql, const std::string& data) {
    flush();
    source::PgResultPtr started(PQexec(conn_.get(), sql.c_str()));
    if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) {
        refused(started ? PQresultErrorMessage(started.get()) : "", sql);
    }
    if (PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn_.get(), nullptr) != 1) {
        refused("", sql);
    }
    std::string message;
    bool failed = false;
    while (PGresult* raw = PQgetResult(conn_.get())) {
        const source::PgResultPtr result(raw);
        if (PQresultStatus(raw) != PGRES_COMMAND_OK && !failed) {
            failed = true;
            message = PQresultErrorMessage(raw);
        }
    }
    if (failed) {
        refused(message, sql);
    }
}

bool TargetApplier::is_repeat(const TopicPartition& tp, const SinkEvent& event) const {
    auto it = progress_.find(tp);
    return it != progress_.end() && it->second.has_position && !(it->second.last < event.position);
}

void TargetApplier::advance(const TopicPartition& tp, std::int64_t offset,
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

bool TargetApplier::apply(const TopicPartition& tp, std::int64_t offset, const SinkEvent& event) {
    if (is_repeat(tp, event)) {
        advance(tp, offset, nullptr);
        return false;
    }
    if (event.op != EventOp::Truncated) {  // the consumer's barrier calls truncate() once
        apply_event(event);
    }
    advance(tp, offset, &event.position);
    return true;
}

void TargetApplier::skip(const TopicPartition& tp, std::int64_t offset) {
    advance(tp, offset, nullptr);
}

void TargetApplier::commit() {
    if (!in_transaction_) {
        return;
    }
    drain();
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
    wait_in_flight();  // one batch in flight at a time
    if (PQsendQuery(conn_.get(), sql_.c_str()) == 0) {
        refused("", sql_);
    }
    in_flight_ = sql_.substr(0, 300);
    sql_.clear();
    moved_.clear();
    pending_ = 0;
    in_transaction_ = false;
    on_commit();
}

}  // namespace pgcs::apply
