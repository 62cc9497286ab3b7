// A typed row change, ready to encode: what happened (op), to which relation, the row before
// and after, which columns changed, and where it sits in the WAL. Values are views into the
// pgoutput message they came from.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/changeset/relation_cache.hpp"
#include "core/pgoutput/messages.hpp"

namespace pgcs::changeset {

enum class Op { Added, Modified, Deleted, Truncated, Read };

// The contract's `op` string.
std::string_view op_name(Op op);

// One column of `before` or `after`. Absent columns are not written at all (a key-only old
// tuple's other columns, an unchanged TOAST value PostgreSQL did not send).
struct Value {
    enum class State : std::uint8_t { Absent, Null, Text, Binary };
    State state = State::Absent;
    std::string_view data;
};

// Where the event sits: the contract's xid, lsn, commit_lsn, seq and timestamps.
struct EventMeta {
    pgoutput::PgTimestamp commit_time = 0;
    pgoutput::PgTimestamp captured_time = 0;
    pgoutput::Xid xid = 0;
    Lsn lsn = 0;
    Lsn commit_lsn = 0;  // end LSN of the commit
    std::uint64_t seq = 0;
};

struct Changeset {
    Op op = Op::Added;
    const RelationInfo* relation = nullptr;
    bool has_before = false;
    std::vector<Value> before;  // one per relation column when has_before
    bool has_after = false;
    std::vector<Value> after;  // one per relation column when has_after
    // Which row the key is read from: `after` for added/modified, `before` for deleted.
    bool key_from_before = false;
    bool has_changed = false;            // `changed` is null unless before is whole
    std::vector<std::uint16_t> changed;  // column indexes, in column order
    std::vector<std::uint16_t> unchanged_toast;

    // Keeps capacity: a Changeset is reused for every row.
    void clear();
};

// The builder: pgoutput row messages -> Changeset. Pure; throws ChangesetError when a tuple
// does not match its relation (column count) or a key column is missing.
class ChangesetError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

void build_insert(const RelationInfo& relation, const pgoutput::Insert& insert, Changeset& out);
void build_update(const RelationInfo& relation, const pgoutput::Update& update, Changeset& out);
void build_delete(const RelationInfo& relation, const pgoutput::Delete& del, Changeset& out);
void build_truncate(const RelationInfo& relation, Changeset& out);

}  // namespace pgcs::changeset
