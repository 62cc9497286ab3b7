// History mode at the target: every event becomes a version of its row in
// pgchangeset_history."<schema>__<table>" (history_sql.hpp), with `changed` computed from the
// key's previous version and unchanged TOAST merged from it (history_version.hpp), in the
// batches of TargetApplier (offsets in the same transaction: exactly once).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/apply/history_version.hpp"
#include "core/apply/target_applier.hpp"

namespace pgcs::apply {

class HistoryApplier : public TargetApplier {
  public:
    // Connects, creates the offsets table and the history registry when missing.
    HistoryApplier(const std::string& conninfo, std::string group_id);

    // Closes every current row of the event's table with a `truncated` version.
    void truncate(const SinkEvent& event) override;

  protected:
    void apply_event(const SinkEvent& event) override;
    void on_load() override;
    void on_commit() override;

  private:
    // The latest version of a key the target holds (committed or in the open batch).
    struct Latest {
        bool exists = false;
        EventOp op = EventOp::Added;
        EventPosition position;
        bool has_row = false;
        JsonRow row;
        bool live() const { return exists && op != EventOp::Deleted && op != EventOp::Truncated; }
    };
    // The new key's first version of a key change whose old key's `deleted` is not applied yet
    // (the two keys live on different partitions): resolved when that event comes.
    struct PendingLink {
        std::string new_key;  // JSON
        EventPosition new_position;
        JsonRow new_row;
        bool needs_changed = false;
    };
    struct Table {
        std::string name;  // history table (and view) name
        std::vector<std::string> columns;
        std::map<std::string, Latest> latest;  // by key JSON
        bool complete = false;  // `latest` has every key of the table (created by this sink)
    };

    Table& table_of(const SinkEvent& event);
    const Latest& latest(Table& table, const std::string& key_json);
    // The key's version at exactly `position`, if the target has it.
    std::optional<Latest> version_at(Table& table, const std::string& key_json,
                                     const EventPosition& position);
    Latest read_version(const Table& table, const std::string& key_json,
                        const EventPosition* position);
    void apply_deleted(Table& table, const std::string& key, const SinkEvent& event,
                       HistoryVersion& version, std::string& next_key);
    void apply_upsert(Table& table, const std::string& key, const SinkEvent& event,
                      HistoryVersion& version, std::string& prev_key);

    std::map<std::pair<std::string, std::string>, Table> tables_;  // by source schema, table
    // by history table and the position of the old key's `deleted` event
    std::map<std::pair<std::string, EventPosition>, PendingLink> pending_;
    std::size_t cached_ = 0;
};

}  // namespace pgcs::apply
