// History mode at the target; see history_applier.hpp.
//
// Each key's versions are applied in its partition's order, so the key's latest version at the
// target is its previous one. A key change is two events on possibly two partitions: the old
// key's `deleted` at (L, s) and the new key's `added` at (L, s + 1). Whichever comes second
// links them (next_key on the deleted version, prev_key on the added one) and, when the `added`
// came first, computes its `changed` from the old row then.
#include "core/apply/history_applier.hpp"

#include <algorithm>

#include "core/apply/history_sql.hpp"
#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

constexpr std::size_t kMaxCachedKeys = 200000;  // keys' latest versions kept between batches

std::string canonical_key(const std::string& key_json) {
    return row_json(parse_json_row(key_json, {}, {}));
}

}  // namespace

HistoryApplier::HistoryApplier(const std::string& conninfo, std::string group_id)
    : TargetApplier(conninfo, std::move(group_id)) {
    run(kHistoryRegistryDdl);
}

HistoryApplier::Table& HistoryApplier::table_of(const SinkEvent& event) {
    auto it = tables_.find({event.schema, event.table});
    if (it == tables_.end()) {
        begin_if_needed();  // the table and its registry row are created in the batch
        const source::PgResultPtr r = query(
            "SELECT history_table, array_to_json(columns)::text FROM "
            "pgchangeset_history.tables WHERE source_schema = $1 AND source_table = $2",
            {event.schema, event.table});
        Table table;
        if (PQntuples(r.get()) == 1) {
            table.name = PQgetvalue(r.get(), 0, 0);
            table.columns = parse_name_list(PQgetvalue(r.get(), 0, 1));
        } else {
            const std::optional<std::string> name = history_table_name(event.schema, event.table);
            if (!name) {
                throw TargetError("the history table of " + event.schema + "." + event.table +
                                  " would be named '" + event.schema + "__" + event.table +
                                  "', longer than PostgreSQL's 63 bytes; leave the table out of "
                                  "sink.tables");
            }
            const source::PgResultPtr taken = query(
                "SELECT source_schema || '.' || source_table FROM pgchangeset_history.tables "
                "WHERE history_table = $1",
                {*name});
            if (PQntuples(taken.get()) != 0) {
                throw TargetError("the history table '" + *name + "' of " + event.schema + "." +
                                  event.table + " already keeps " + PQgetvalue(taken.get(), 0, 0) +
                                  "; leave one of them out of sink.tables");
            }
            table.name = *name;
            table.complete = true;  // a new table: a key not in memory has no version
            run(create_history_sql(table.name));
            add("INSERT INTO pgchangeset_history.tables (source_schema, source_table, "
                "history_table) VALUES (" +
                quote_literal(event.schema) + ", " + quote_literal(event.table) + ", " +
                quote_literal(table.name) + ");");
        }
        it = tables_.emplace(std::make_pair(event.schema, event.table), std::move(table)).first;
    }
    Table& table = it->second;
    std::vector<std::string> added;
    for (const ColumnType& c : event.types) {
        if (std::find(table.columns.begin(), table.columns.end(), c.name) == table.columns.end()) {
            table.columns.push_back(c.name);
            added.push_back(c.name);
        }
    }
    if (!added.empty()) {  // the column order `pgchangeset history` prints rows in
        add("UPDATE pgchangeset_history.tables SET columns = columns || " + text_array_sql(added) +
            " WHERE source_schema = " + quote_literal(event.schema) +
            " AND source_table = " + quote_literal(event.table) + ";");
    }
    return table;
}

HistoryApplier::Latest HistoryApplier::read_version(const Table& table, const std::string& key_json,
                                                    const EventPosition* position) {
    std::string sql =
        "SELECT op, row::text, array_to_json(json_null)::text, commit_lsn::text, seq FROM "
        "pgchangeset_history." +
        quote_ident(table.name) + " WHERE key = $1::jsonb";
    std::vector<std::string> params{key_json};
    if (position != nullptr) {
        sql += " AND commit_lsn = $2::pg_lsn AND seq = $3";
        params.push_back(format_lsn(position->commit_lsn));
        params.push_back(std::to_string(position->seq));
    }
    const source::PgResultPtr r =
        query(sql + " ORDER BY commit_lsn DESC, seq DESC LIMIT 1", params);
    Latest out;
    if (PQntuples(r.get()) == 0) {
        return out;
    }
    out.exists = true;
    const std::string op = PQgetvalue(r.get(), 0, 0);
    for (EventOp o :
         {EventOp::Added, EventOp::Modified, EventOp::Deleted, EventOp::Truncated, EventOp::Read}) {
        if (changeset::op_name(o) == op) {
            out.op = o;
        }
    }
    out.has_row = PQgetisnull(r.get(), 0, 1) == 0;
    if (out.has_row) {
        out.row = parse_json_row(PQgetvalue(r.get(), 0, 1),
                                 parse_name_list(PQgetvalue(r.get(), 0, 2)), table.columns);
    }
    out.position.commit_lsn = parse_lsn(PQgetvalue(r.get(), 0, 3)).value_or(0);
    out.position.seq = std::stoull(PQgetvalue(r.get(), 0, 4));
    return out;
}

const HistoryApplier::Latest& HistoryApplier::latest(Table& table, const std::string& key_json) {
    auto it = table.latest.find(key_json);
    if (it == table.latest.end()) {
        it = table.latest
                 .emplace(key_json,
                          table.complete ? Latest{} : read_version(table, key_json, nullptr))
                 .first;
        ++cached_;
    }
    return it->second;
}

std::optional<HistoryApplier::Latest> HistoryApplier::version_at(Table& table,
                                                                 const std::string& key_json,
                                                                 const EventPosition& position) {
    const Latest& last = latest(table, key_json);
    if (!last.exists || last.position < position) {
        return std::nullopt;  // the old key's partition has not come so far yet
    }
    if (last.position == position) {
        return last;
    }
    Latest exact = read_version(table, key_json, &position);
    return exact.exists ? std::optional<Latest>(std::move(exact)) : std::nullopt;
}

void HistoryApplier::apply_deleted(Table& table, const std::string& key, const SinkEvent& event,
                                   HistoryVersion& version, std::string& next_key) {
    const Latest& previous = latest(table, key);
    if (previous.live() && previous.has_row) {
        version.has_row = true;
        version.row = previous.row;
    } else if (event.has_before) {  // the whole old row under FULL, else its key
        version.has_row = true;
        version.row = event.before_json;
    }
    auto pending = pending_.find({table.name, event.position});
    if (pending != pending_.end()) {  // the second half of a key change came first
        next_key = pending->second.new_key;
        const PendingLink& link = pending->second;
        JsonRow new_row = link.new_row;
        if (version.has_row) {  // TOAST values the new key's row lacks: from the old row
            JsonRow missing;
            for (const JsonColumn& c : version.row) {
                if (std::none_of(new_row.begin(), new_row.end(),
                                 [&](const JsonColumn& n) { return n.name == c.name; })) {
                    missing.push_back(c);
                }
            }
            if (!missing.empty()) {
                std::vector<std::string> names;
                for (const JsonColumn& c : missing) {
                    names.push_back(c.name);
                }
                new_row = merge_unchanged_toast(new_row, names, &version.row, event.types);
                add(fill_columns_sql(table.name, next_key, link.new_position, missing));
                if (auto cached = table.latest.find(next_key);
                    cached != table.latest.end() && cached->second.has_row) {
                    cached->second.row =
                        merge_unchanged_toast(cached->second.row, names, &version.row, event.types);
                }
            }
        }
        if (link.needs_changed && version.has_row) {
            add(set_version_sql(table.name, next_key, link.new_position, "changed",
                                changed_json(version.row, new_row)));
        }
        pending_.erase(pending);
    }
}

void HistoryApplier::apply_upsert(Table& table, const std::string& key, const SinkEvent& event,
                                  HistoryVersion& version, std::string& prev_key) {
    std::optional<JsonRow> old_row;
    const bool insert = event.op == EventOp::Added && !event.has_before;  // no TOAST to merge
    if (const Latest* previous = insert ? nullptr : &latest(table, key);
        previous != nullptr && previous->live() && previous->has_row) {
        old_row = previous->row;
    } else if (event.op == EventOp::Modified && event.has_before) {
        old_row = event.before_json;  // REPLICA IDENTITY FULL, history starting here
    }
    const bool key_change = event.op == EventOp::Added && event.has_before;
    std::optional<EventPosition> unlinked;  // the old key's `deleted`, not applied yet
    if (key_change) {
        JsonRow old_key;
        for (const ColumnValue& k : event.key) {
            for (const JsonColumn& c : event.before_json) {
                if (c.name == k.name) {
                    old_key.push_back(c);
                }
            }
        }
        prev_key = row_json(old_key);
        old_row.reset();
        if (event.before_json.size() > event.key.size()) {
            old_row = event.before_json;  // the whole old row (FULL)
        }
        const EventPosition deleted{event.position.commit_lsn,
                                    event.position.seq == 0 ? 0 : event.position.seq - 1};
        std::optional<Latest> old_version = version_at(table, prev_key, deleted);
        if (old_version && old_version->op == EventOp::Deleted) {
            if (old_version->has_row && old_version->row.size() > event.key.size()) {
                old_row = old_version->row;
            }
            add(set_version_sql(table.name, prev_key, deleted, "next_key", key));
        } else {
            unlinked = deleted;
        }
    }
    version.has_row = true;
    version.row = merge_unchanged_toast(event.after_json, event.unchanged_toast,
                                        old_row ? &*old_row : nullptr, event.types);
    if (unlinked) {
        pending_[{table.name, *unlinked}] = {key, event.position, version.row, !old_row};
    }
    if (old_row && (event.op != EventOp::Added || key_change)) {
        version.changed_json = changed_json(*old_row, version.row);
    }
}

void HistoryApplier::apply_event(const SinkEvent& event) {
    Table& table = table_of(event);
    const std::string key = canonical_key(event.key_json);
    // An INSERT needs nothing of the key's previous version (the SQL closes it), so a key not
    // in memory is not read back: inserts cost no query.
    const bool insert = event.op == EventOp::Added && !event.has_before;
    if (!insert || table.latest.count(key) != 0) {
        const Latest& previous = latest(table, key);
        if (previous.exists && !(previous.position < event.position)) {
            return;  // this key has it already: a repeat the offsets did not catch
        }
    }
    HistoryVersion version;
    version.op = event.op;
    version.commit_ts = event.commit_ts;
    version.position = event.position;
    version.xid = event.xid;
    std::string prev_key;
    std::string next_key;
    if (event.op == EventOp::Deleted) {
        apply_deleted(table, key, event, version, next_key);
    } else {
        apply_upsert(table, key, event, version, prev_key);
    }
    auto known = table.latest.find(key);
    const bool first = known == table.latest.end() ? table.complete : !known->second.exists;
    add(add_version_sql(table.name, key, version, prev_key, next_key, first));
    Latest& now = table.latest[key];
    now = {true, version.op, version.position, version.has_row, version.row};
}

void HistoryApplier::truncate(const SinkEvent& event) {
    Table& table = table_of(event);
    HistoryVersion version;
    version.op = EventOp::Truncated;
    version.commit_ts = event.commit_ts;
    version.position = event.position;
    version.xid = event.xid;
    add(truncate_history_sql(table.name, version));
    if (table.complete) {
        for (auto& [key, last] : table.latest) {
            if (last.live()) {
                last.op = EventOp::Truncated;
                last.position = event.position;
            }
        }
    } else {
        cached_ -= std::min(cached_, table.latest.size());
        table.latest.clear();  // every current row changed: read again when needed
    }
}

void HistoryApplier::on_load() {
    // Key changes whose second half is applied and whose first is not: left by an earlier run.
    pending_.clear();
    const source::PgResultPtr tables = query(
        "SELECT history_table, array_to_json(columns)::text FROM pgchangeset_history.tables", {});
    for (int t = 0; t < PQntuples(tables.get()); ++t) {
        const std::string name = PQgetvalue(tables.get(), t, 0);
        const std::string h = "pgchangeset_history." + quote_ident(name);
        const source::PgResultPtr r = query(
            "SELECT n.key::text, n.row::text, array_to_json(n.json_null)::text, "
            "n.commit_lsn::text, n.seq, n.changed IS NULL FROM " +
                h + " n WHERE n.prev_key IS NOT NULL AND n.seq > 0 AND NOT EXISTS (SELECT 1 FROM " +
                h +
                " o WHERE o.key = n.prev_key AND o.commit_lsn = n.commit_lsn AND o.seq = n.seq - "
                "1)",
            {});
        const std::vector<std::string> columns = parse_name_list(PQgetvalue(tables.get(), t, 1));
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            PendingLink link;
            link.new_key = PQgetvalue(r.get(), i, 0);
            link.new_position = {parse_lsn(PQgetvalue(r.get(), i, 3)).value_or(0),
                                 std::stoull(PQgetvalue(r.get(), i, 4))};
            if (PQgetisnull(r.get(), i, 1) == 0) {
                link.new_row = parse_json_row(PQgetvalue(r.get(), i, 1),
                                              parse_name_list(PQgetvalue(r.get(), i, 2)), columns);
            }
            link.needs_changed = std::string(PQgetvalue(r.get(), i, 5)) == "t";
            pending_[{name, {link.new_position.commit_lsn, link.new_position.seq - 1}}] = link;
        }
    }
}

void HistoryApplier::on_commit() {
    if (cached_ > kMaxCachedKeys) {
        for (auto& [name, table] : tables_) {
            table.latest.clear();
            table.complete = false;
        }
        cached_ = 0;
    }
}

}  // namespace pgcs::apply
