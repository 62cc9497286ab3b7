// What both sink modes share at the target: one connection, batches of events in one transaction
// each, and the consumed offsets (with each partition's last applied (commit_lsn, seq)) written
// to pgchangeset_sink.offsets in that same transaction, so a crash at any moment neither loses
// nor repeats an event (README, "pgchangeset sink"). MirrorApplier and HistoryApplier add what
// an event does to the target's rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/apply/sink_event.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::apply {

struct TopicPartition {
    std::string topic;
    std::int32_t partition = 0;
    auto operator<=>(const TopicPartition&) const = default;
};

// Where a partition stands at the target.
struct PartitionProgress {
    std::int64_t next_offset = -1;  // -1: nothing applied yet (start at the beginning)
    bool has_position = false;
    EventPosition last;  // the last applied event's (commit_lsn, seq)
};

// A failure at the target (connection, SQL, a type the target lacks): what() says what to do.
class TargetError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class TargetApplier {
  public:
    // Connects and creates pgchangeset_sink.offsets when missing. Throws TargetError.
    TargetApplier(const std::string& conninfo, std::string group_id);
    virtual ~TargetApplier() = default;
    TargetApplier(const TargetApplier&) = delete;
    TargetApplier& operator=(const TargetApplier&) = delete;

    // The committed progress of every partition the group ever applied; also resets the
    // in-memory progress of those partitions to it (call after commit(), at an assignment).
    std::map<TopicPartition, PartitionProgress> load_progress();

    // Adds a record to the open batch. Returns false when the event is dropped as a repeat of
    // one the partition applied already ((commit_lsn, seq) not above its last).
    bool apply(const TopicPartition& tp, std::int64_t offset, const SinkEvent& event);
    // A record that changes nothing (a tombstone): only the partition's offset moves.
    void skip(const TopicPartition& tp, std::int64_t offset);
    // True when `event` on `tp` is a repeat (see apply()).
    bool is_repeat(const TopicPartition& tp, const SinkEvent& event) const;
    // The TRUNCATE of `event`'s table, once for all partitions, in the open batch (the
    // consumer's barrier then apply()s each partition's `truncated` event, which moves offsets).
    virtual void truncate(const SinkEvent& event) = 0;

    std::size_t pending() const { return pending_; }
    std::chrono::steady_clock::time_point batch_started() const { return batch_started_; }
    // Writes the moved offsets and sends the batch's transaction; the target applies it while
    // the next batch is read. Throws TargetError, also for the previous batch's transaction.
    void commit();
    // Waits until the last commit()'s transaction is committed. Throws TargetError.
    void sync() { wait_in_flight(); }

  protected:
    // What a read/added/modified/deleted event does to the target, in the open batch.
    virtual void apply_event(const SinkEvent& event) = 0;
    // After load_progress() read the offsets (a new assignment, after a commit).
    virtual void on_load() {}
    // After commit() committed the batch.
    virtual void on_commit() {}
    // Before commit() commits: add() what the mode still holds back. Not in flush(): what it
    // holds back comes after everything add()ed, so it may stay back while that runs.
    virtual void drain() {}

    void run(const std::string& sql);  // several statements, in the open transaction
    void add(const std::string& sql);  // appended to the open batch
    void flush();                      // runs what is batched so far, in the open transaction
    // After what is batched so far: COPY `sql` (... FROM STDIN) with `data`, in the open batch.
    void copy_in(const std::string& sql, const std::string& data);
    // A query after what is batched so far (in the open transaction, if one is open).
    source::PgResultPtr query(const std::string& sql, const std::vector<std::string>& params);
    void begin_if_needed();
    PGconn* conn() {
        wait_in_flight();
        return conn_.get();
    }

  private:
    void advance(const TopicPartition& tp, std::int64_t offset, const EventPosition* position);
    void wait_in_flight();  // the result of the batch commit() sent, when there is one
    [[noreturn]] void refused(const std::string& message, const std::string& sql);

    source::PgConnPtr conn_;
    std::string group_id_;
    std::string sql_;
    bool in_transaction_ = false;
    std::string in_flight_;  // the start of the batch commit() sent and not yet confirmed
    std::size_t pending_ = 0;
    std::chrono::steady_clock::time_point batch_started_;
    std::map<TopicPartition, PartitionProgress> progress_;
    std::set<TopicPartition> moved_;
};

}  // namespace pgcs::apply
