// `pgchangeset history`: one row's versions read back from a history-mode target, printed oldest
// first as the contract's lines (or as a table on a terminal), or the row as of a time.
#pragma once

#include <ostream>
#include <string>

namespace pgcs::apply {

struct HistoryRequest {
    std::string conninfo;   // sink.conninfo
    std::string table;      // SCHEMA.TABLE of the source
    std::string key_json;   // the row's key, e.g. {"id":42}
    std::string as_of;      // a timestamptz; empty: every version
    bool terminal = false;  // standard output is a terminal: a table for people
};

// 0 printed; 1 the key has no history (or no row as of that time), or the target is
// unreachable; 2 a bad --key or --as-of, or a table the history does not keep. Messages go to
// `err`, naming what is wrong and what to do.
int run_history_query(const HistoryRequest& request, std::ostream& out, std::ostream& err);

}  // namespace pgcs::apply
