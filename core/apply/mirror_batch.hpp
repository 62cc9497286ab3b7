// Runs of mirror events that one statement applies: consecutive upserts of one table with the
// same columns and distinct keys become one multi-row INSERT ... ON CONFLICT (key) DO UPDATE,
// or, from `copy_rows` rows on, one COPY into a staging table and one such INSERT from it
// (PostgreSQL reads COPY's text several times faster than literals); consecutive deletes of one
// table one DELETE ... USING (VALUES ...). Events are never reordered: a run ends at the first
// event that does not fit it (another table, op, column list or column type, a key the run has
// already: ON CONFLICT DO UPDATE cannot touch a row twice), so each key's events apply in their
// order. Pure: events in, SQL and COPY text out; the MirrorApplier runs them.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/apply/sink_event.hpp"

namespace pgcs::apply {

// A closed run: a statement (`sql`), or rows for COPY (`copy` non-empty: COPY text lines of
// `columns`, to be merged into schema.table ON CONFLICT (key_names)), or nothing.
struct MirrorRun {
    std::string sql;
    std::string copy;
    std::size_t rows = 0;
    std::string schema;
    std::string table;
    std::vector<ColumnType> columns;
    std::vector<std::string> key_names;
    bool empty() const { return sql.empty() && copy.empty(); }
};

class MirrorBatch {
  public:
    explicit MirrorBatch(std::size_t max_rows = 5000, std::size_t copy_rows = 32)
        : max_rows_(max_rows), copy_rows_(copy_rows) {}

    // Adds a read/added/modified/deleted event. Returns the run it ended (empty when the event
    // joined the open run); the event then opens the next run.
    MirrorRun add(const SinkEvent& event);
    // The open run (empty when there is none); the run is closed.
    MirrorRun take();
    bool empty() const { return rows_ == 0; }

  private:
    bool fits(const SinkEvent& event) const;
    void open(const SinkEvent& event);

    std::size_t max_rows_;
    std::size_t copy_rows_;
    std::size_t rows_ = 0;
    bool deletes_ = false;
    std::string schema_;
    std::string table_;
    std::vector<ColumnType> columns_;  // upserts: after's columns with their types; deletes: key's
    std::vector<std::string> key_names_;
    std::unordered_set<std::string> keys_;  // upserts: the run's keys
    std::string values_;                    // "(..), (..)": deletes, and upserts below copy_rows
    std::string copy_;                      // upserts: COPY text lines
    std::string single_;                    // a delete run's one-event statement
};

}  // namespace pgcs::apply
