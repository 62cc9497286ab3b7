// The order of progress saves; see progress_saves.hpp.
#include "core/snapshot/progress_saves.hpp"

#include <algorithm>

namespace pgcs::snapshot {

void ProgressSaves::start(const std::string& table, std::int64_t generation) {
    tables_[table] = {generation, 0};
    std::erase_if(saves_, [&](const Save& s) { return s.table == table; });
}

void ProgressSaves::stop(const std::string& table) {
    tables_.erase(table);
    std::erase_if(saves_, [&](const Save& s) { return s.table == table; });
}

void ProgressSaves::add(Save save) {
    if (current(save)) {
        saves_.push_back(std::move(save));
    }
}

bool ProgressSaves::current(const Save& s) const {
    const auto t = tables_.find(s.table);
    return t != tables_.end() && t->second.generation == s.generation;
}

const ProgressSaves::Save* ProgressSaves::next_ready(std::uint64_t flush_lsn) {
    for (auto it = saves_.begin(); it != saves_.end();) {
        if (it->end_lsn > flush_lsn) {
            ++it;
        } else if (!current(*it)) {
            it = saves_.erase(it);  // requested again or cancelled meanwhile
        } else if (it->sequence != tables_.at(it->table).next_sequence) {
            ++it;  // an earlier chunk of the table is not acknowledged yet
        } else {
            return &*it;
        }
    }
    return nullptr;
}

void ProgressSaves::mark_saved(const Save* save) {
    const auto it =
        std::find_if(saves_.begin(), saves_.end(), [&](const Save& s) { return &s == save; });
    if (it == saves_.end()) {
        return;
    }
    if (it->done) {
        tables_.erase(it->table);
    } else if (const auto t = tables_.find(it->table); t != tables_.end()) {
        ++t->second.next_sequence;
    }
    saves_.erase(it);
}

}  // namespace pgcs::snapshot
