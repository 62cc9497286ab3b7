// Mirror mode at the target: events become rows of the table of the same schema and name, in
// batches of one transaction each; the consumed offsets (and each partition's last applied
// (commit_lsn, seq)) are written in the same transaction to pgchangeset_sink.offsets, so a
// crash at any moment neither loses nor repeats an event (README, "pgchangeset sink").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

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

class MirrorApplier {
  public:
    // Connects and creates pgchangeset_sink.offsets when missing. Throws TargetError.
    MirrorApplier(const std::string& conninfo, std::string group_id);

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
    // Empties schema.table in the open batch (when the target has it).
    void truncate(const std::string& schema, const std::string& table);

    std::size_t pending() const { return pending_; }
    std::chrono::steady_clock::time_point batch_started() const { return batch_started_; }
    // Writes the moved offsets and commits the batch. Throws TargetError.
    void commit();

  private:
    void run(const std::string& sql);  // several statements, in the open transaction
    void add(const std::string& sql);
    void begin_if_needed();
    void ensure_table(const SinkEvent& event);
    void advance(const TopicPartition& tp, std::int64_t offset, const EventPosition* position);

    source::PgConnPtr conn_;
    std::string group_id_;
    std::string sql_;
    bool in_transaction_ = false;
    std::size_t pending_ = 0;
    std::chrono::steady_clock::time_point batch_started_;
    std::map<TopicPartition, PartitionProgress> progress_;
    std::set<TopicPartition> moved_;
    std::map<std::string, std::set<std::string>> columns_;  // known target columns by table
};

}  // namespace pgcs::apply
