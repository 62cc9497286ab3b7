// Runs of mirror events in one statement; see mirror_batch.hpp.
#include "core/apply/mirror_batch.hpp"

#include "core/apply/mirror_sql.hpp"

namespace pgcs::apply {
namespace {

// The key's values as one string, distinct for distinct keys (lengths and NULL marks included).
std::string key_identity(const SinkEvent& event) {
    std::string out;
    for (const ColumnValue& k : event.key) {
        out += k.sql_null ? "N" : std::to_string(k.text.size()) + ":" + k.text;
        out += ';';
    }
    return out;
}

bool same_names(const std::vector<ColumnValue>& values, const std::vector<std::string>& names) {
    if (values.size() != names.size()) {
        return false;
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i].name != names[i]) {
            return false;
        }
    }
    return true;
}

// Whether `values` are the columns `columns` (names and the event's types, in that order).
bool same_columns(const SinkEvent& event, const std::vector<ColumnValue>& values,
                  const std::vector<ColumnType>& columns) {
    if (values.size() != columns.size()) {
        return false;
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i].name != columns[i].name ||
            column_type(event, values[i].name) != columns[i].type) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool MirrorBatch::fits(const SinkEvent& event) const {
    if (rows_ == 0 || rows_ >= max_rows_ || deletes_ != (event.op == EventOp::Deleted) ||
        event.table != table_ || event.schema != schema_ || !same_names(event.key, key_names_)) {
        return false;
    }
    if (deletes_) {
        return same_columns(event, event.key, columns_);
    }
    return same_columns(event, event.after, columns_) && keys_.count(key_identity(event)) == 0;
}

void MirrorBatch::open(const SinkEvent& event) {
    deletes_ = event.op == EventOp::Deleted;
    schema_ = event.schema;
    table_ = event.table;
    key_names_.clear();
    for (const ColumnValue& k : event.key) {
        key_names_.push_back(k.name);
    }
    columns_.clear();
    for (const ColumnValue& v : deletes_ ? event.key : event.after) {
        columns_.push_back({v.name, std::string(column_type(event, v.name))});
    }
}

MirrorRun MirrorBatch::add(const SinkEvent& event) {
    MirrorRun closed;
    if (!fits(event)) {
        closed = take();
        open(event);
    }
    if (deletes_) {
        values_ += (rows_ == 0 ? "" : ", ") + row_values_sql(event.key, columns_);
        if (rows_ == 0) {
            single_ = delete_sql(event);
        }
    } else {
        if (rows_ < copy_rows_) {
            values_ += (rows_ == 0 ? "" : ", ") + row_values_sql(event.after, columns_);
        }
        copy_row(event.after, columns_, copy_);
        keys_.insert(key_identity(event));
    }
    ++rows_;
    return closed;
}

MirrorRun MirrorBatch::take() {
    MirrorRun run;
    if (rows_ == 0) {
        return run;
    }
    if (deletes_) {
        run.sql = rows_ == 1 ? single_ : delete_rows_sql(schema_, table_, columns_, values_);
    } else if (rows_ < copy_rows_) {
        run.sql = upsert_rows_sql(schema_, table_, columns_, key_names_, values_);
    } else {
        run.copy = std::move(copy_);
        run.schema = schema_;
        run.table = table_;
        run.columns = columns_;
        run.key_names = key_names_;
    }
    run.rows = rows_;
    rows_ = 0;
    keys_.clear();
    values_.clear();
    copy_.clear();
    single_.clear();
    return run;
}

}  // namespace pgcs::apply
