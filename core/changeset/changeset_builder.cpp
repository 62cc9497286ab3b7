// The builder: Insert/Update/Delete/Truncate messages + their RelationInfo -> Changeset.
// REPLICA IDENTITY rules (docs/CORRECTNESS.md, "Replica identity"): DEFAULT/INDEX send the old
// key ('K') only when a key column changed (or is stored out of line), and a delete's 'K' tuple
// has the non-key columns as 'n' (not NULLs: dropped). FULL sends the whole old row ('O'). An
// update that changes the key is split into two events by key_change.hpp.
#include <string>

#include "core/changeset/changeset.hpp"
#include "core/changeset/key_change.hpp"

namespace pgcs::changeset {

std::string_view op_name(Op op) {
    switch (op) {
        case Op::Added:
            return "added";
        case Op::Modified:
            return "modified";
        case Op::Deleted:
            return "deleted";
        case Op::Truncated:
            return "truncated";
        case Op::Read:
            return "read";
    }
    return "unknown";
}

void Changeset::clear() {
    relation = nullptr;
    has_before = has_after = key_from_before = has_changed = false;
    before.clear();
    after.clear();
    changed.clear();
    unchanged_toast.clear();
}

namespace {

Value to_value(const pgoutput::TupleValue& v) {
    switch (v.kind) {
        case 'n':
            return {Value::State::Null, {}};
        case 'u':
            return {Value::State::Absent, {}};
        case 't':
            return {Value::State::Text, v.data};
        case 'b':
            return {Value::State::Binary, v.data};
        default:
            throw ChangesetError(std::string("unknown tuple value kind '") + v.kind + "'");
    }
}

void check_width(const RelationInfo& relation, const pgoutput::Tuple& tuple, const char* what) {
    if (tuple.size() != relation.columns.size()) {
        throw ChangesetError(std::string(what) + " tuple of " + relation.schema + "." +
                             relation.name + " has " + std::to_string(tuple.size()) +
                             " columns but its Relation message declared " +
                             std::to_string(relation.columns.size()));
    }
}

// `before` from an old tuple: whole for 'O'; key columns only for 'K'.
void fill_before(const RelationInfo& relation, char old_kind, const pgoutput::Tuple& old_tuple,
                 Changeset& out) {
    check_width(relation, old_tuple, "old");
    out.has_before = true;
    out.before.reserve(old_tuple.size());
    for (std::size_t i = 0; i < old_tuple.size(); ++i) {
        Value v = to_value(old_tuple[i]);
        if (old_kind == 'K' && !relation.columns[i].is_key) {
            v = {};  // 'n' placeholders for non-key columns: not values
        }
        out.before.push_back(v);
    }
}

void fill_after(const RelationInfo& relation, const pgoutput::Tuple& new_tuple, Changeset& out) {
    check_width(relation, new_tuple, "new");
    out.has_after = true;
    out.after.reserve(new_tuple.size());
    for (std::size_t i = 0; i < new_tuple.size(); ++i) {
        Value v = to_value(new_tuple[i]);
        if (new_tuple[i].kind == 'u') {
            out.unchanged_toast.push_back(static_cast<std::uint16_t>(i));
            // Under FULL the old row holds the value: carry it over. Otherwise absent.
            if (out.has_before && out.before[i].state != Value::State::Absent) {
                v = out.before[i];
            }
        }
        out.after.push_back(v);
    }
}

bool same_value(const Value& a, const Value& b) {
    return a.state == b.state && a.data == b.data;
}

}  // namespace

void build_insert(const RelationInfo& relation, const pgoutput::Insert& insert, Changeset& out) {
    out.clear();
    out.op = Op::Added;
    out.relation = &relation;
    fill_after(relation, insert.new_tuple, out);
}

void build_update(const RelationInfo& relation, const pgoutput::Update& update, Changeset& out) {
    out.clear();
    out.op = Op::Modified;
    out.relation = &relation;
    if (update.old_kind == 'K' || update.old_kind == 'O') {
        fill_before(relation, update.old_kind, update.old_tuple, out);
    }
    fill_after(relation, update.new_tuple, out);
    if (update.old_kind == 'K' && !changes_key(out)) {
        // PostgreSQL also sends the old key when a key column is stored out of line, changed
        // or not (its value was carried into `after` above). Unchanged, it is an ordinary
        // update: `before` null under DEFAULT/INDEX, as the contract says.
        out.has_before = false;
        out.before.clear();
    }
    if (update.old_kind == 'O') {
        out.has_changed = true;
        for (std::size_t i = 0; i < out.after.size(); ++i) {
            if (!same_value(out.before[i], out.after[i])) {
                out.changed.push_back(static_cast<std::uint16_t>(i));
            }
        }
    }
}

void build_delete(const RelationInfo& relation, const pgoutput::Delete& del, Changeset& out) {
    out.clear();
    out.op = Op::Deleted;
    out.relation = &relation;
    out.key_from_before = true;
    if (del.old_kind != 'K' && del.old_kind != 'O') {
        throw ChangesetError(std::string("delete on ") + relation.schema + "." + relation.name +
                             " has old tuple kind '" + del.old_kind + "', expected 'K' or 'O'");
    }
    fill_before(relation, del.old_kind, del.old_tuple, out);
}

void build_truncate(const RelationInfo& relation, Changeset& out) {
    out.clear();
    out.op = Op::Truncated;
    out.relation = &relation;
}

}  // namespace pgcs::changeset
