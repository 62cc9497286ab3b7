// Key changes as two events; see key_change.hpp. The old row PostgreSQL sends for an UPDATE is
// a flattened tuple (never 'u'), so a key column is always present in `before`; a new row's
// key column PostgreSQL left out (an out-of-line key value that did not change) was taken from
// `before` by the builder, and compares equal.
#include "core/changeset/key_change.hpp"

#include <algorithm>

namespace pgcs::changeset {

namespace {

bool same_value(const Value& a, const Value& b) {
    return a.state == b.state && a.data == b.data;
}

}  // namespace

bool changes_key(const Changeset& update) {
    if (update.op != Op::Modified || !update.has_before || !update.has_after ||
        update.relation == nullptr || !update.relation->has_key) {
        return false;
    }
    const auto& columns = update.relation->columns;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].is_key && !same_value(update.before[i], update.after[i])) {
            return true;
        }
    }
    return false;
}

void split_key_change(const Changeset& update, Changeset& deleted, Changeset& added) {
    deleted.clear();
    deleted.op = Op::Deleted;
    deleted.relation = update.relation;
    deleted.has_before = true;
    deleted.before = update.before;
    deleted.key_from_before = true;

    added.clear();
    added.op = Op::Added;
    added.relation = update.relation;
    added.has_before = true;
    added.before = update.before;
    added.has_after = true;
    added.after = update.after;  // the builder carried FULL's old values into it already
    for (const std::uint16_t column : update.unchanged_toast) {
        if (added.after[column].state == Value::State::Absent) {
            added.unchanged_toast.push_back(column);
        }
    }
}

void fill_column(Changeset& added, std::uint16_t column, Value value) {
    auto& listed = added.unchanged_toast;
    const auto it = std::find(listed.begin(), listed.end(), column);
    if (it == listed.end()) {
        return;
    }
    listed.erase(it);
    added.after[column] = value;
}

}  // namespace pgcs::changeset
