// Mirror mode at the target; see mirror_applier.hpp.
#include "core/apply/mirror_applier.hpp"

#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {

void MirrorApplier::ensure_table(const SinkEvent& event) {
    const std::string key = qualified_name(event.schema, event.table);
    auto it = columns_.find(key);
    if (it == columns_.end()) {
        flush();  // what is batched first: the table may have been created in this batch
        const source::PgResultPtr r = source::exec(
            conn(),
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
            drain();
            add(add_column_sql(event, c));  // a column added at the source
        }
    }
}

void MirrorApplier::apply_event(const SinkEvent& event) {
    ensure_table(event);
    emit(batch_.add(event));
}

void MirrorApplier::drain() {
    emit(batch_.take());
}

void MirrorApplier::emit(const MirrorRun& run) {
    if (!run.sql.empty()) {
        add(run.sql);
        return;
    }
    if (run.copy.empty()) {
        return;
    }
    // One temporary table per table and column list, made once per session.
    std::string signature = qualified_name(run.schema, run.table);
    for (const ColumnType& c : run.columns) {
        signature += " " + quote_ident(c.name) + " " + quote_ident(c.type);
    }
    auto it = staging_.find(signature);
    if (it == staging_.end()) {
        const std::string name = "pgchangeset_staging_" + std::to_string(staging_.size() + 1);
        add(create_staging_sql(name, run.columns));
        it = staging_.emplace(signature, name).first;
    }
    copy_in(copy_staging_sql(it->second, run.columns), run.copy);  // after what came before
    add(merge_staged_sql(it->second, run.schema, run.table, run.columns, run.key_names));
}

void MirrorApplier::truncate(const SinkEvent& event) {
    begin_if_needed();
    drain();  // the events before the TRUNCATE first
    const std::string name = qualified_name(event.schema, event.table);
    // TRUNCATE of a table the target never got (no row reached it) is nothing to do.
    add("DO $$BEGIN IF to_regclass(" + quote_literal(name) + ") IS NOT NULL THEN EXECUTE " +
        quote_literal(truncate_sql(event.schema, event.table)) + "; END IF; END$$;");
}

}  // namespace pgcs::apply
