// The chunks' windows and the change log; see chunk_window.hpp.
#include "core/snapshot/chunk_window.hpp"

#include <stdexcept>

namespace pgcs::snapshot {

void ChunkWindow::open(std::uint64_t id, std::uint32_t relation_oid) {
    Window w;
    w.oid = relation_oid;
    w.log_position = log_base_ + log_.size();
    if (!windows_.emplace(id, std::move(w)).second) {
        return;  // already open
    }
    ++watched_[relation_oid];
    ++reading_[relation_oid];
    ++reads_;
}

void ChunkWindow::rows_read(std::uint64_t id, const KeyIndex& keys, std::size_t rows) {
    const auto it = windows_.find(id);
    if (it == windows_.end() || it->second.read) {
        return;
    }
    Window& w = it->second;
    w.read = true;
    w.keys = &keys;
    w.dropped.assign(rows, false);
    // Changes the stream processed since the read began win over the chunk's rows.
    for (std::size_t i = static_cast<std::size_t>(w.log_position - log_base_); i < log_.size();
         ++i) {
        const Logged& c = log_[i];
        if (c.oid == w.oid) {
            apply(w, c.key, {c.kind, c.after});
        }
    }
    stop_reading(w.oid);
}

const std::vector<bool>& ChunkWindow::dropped(std::uint64_t id) const {
    const auto it = windows_.find(id);
    if (it == windows_.end()) {
        throw std::logic_error("snapshot chunk " + std::to_string(id) + " has no open window");
    }
    return it->second.dropped;
}

std::unordered_map<std::uint32_t, RowPatch> ChunkWindow::patched(std::uint64_t id) const {
    const auto it = windows_.find(id);
    if (it == windows_.end()) {
        throw std::logic_error("snapshot chunk " + std::to_string(id) + " has no open window");
    }
    const Window& w = it->second;
    std::unordered_map<std::uint32_t, RowPatch> out;
    for (const auto& [row, patch] : w.carried) {
        if (!w.dropped[row]) {
            out.emplace(row, patch);
        }
    }
    return out;
}

void ChunkWindow::close(std::uint64_t id) {
    const auto it = windows_.find(id);
    if (it == windows_.end()) {
        return;
    }
    const Window w = std::move(it->second);
    windows_.erase(it);
    if (!w.read) {
        stop_reading(w.oid);
    }
    unwatch(w.oid);
}

void ChunkWindow::on_change(std::uint32_t relation_oid, std::string_view key_json,
                            RowChange change) {
    if (key_json.empty()) {
        return;
    }
    if (change.kind == RowChange::Kind::Gone) {
        change.after = {};
    }
    for (auto& [id, w] : windows_) {
        if (w.read && w.oid == relation_oid) {
            apply(w, key_json, change);
        }
    }
    record(relation_oid, key_json, change);
}

void ChunkWindow::on_truncate(std::uint32_t relation_oid) {
    for (auto& [id, w] : windows_) {
        if (w.read && w.oid == relation_oid) {
            apply(w, {}, {});
        }
    }
    record(relation_oid, {}, {});
}

void ChunkWindow::apply(Window& w, std::string_view key_json, const RowChange& change) {
    if (key_json.empty()) {
        w.dropped.assign(w.dropped.size(), true);
        return;
    }
    const auto row = w.keys->find(key_json);
    if (!row || *row >= w.dropped.size()) {
        return;
    }
    // The newest change decides: only one that lacks columns leaves the row to publish, with
    // what every change of the key carried laid over it in WAL order.
    if (change.kind != RowChange::Kind::Gone) {
        w.carried[*row].overlay(change.after);
    }
    w.dropped[*row] = change.kind != RowChange::Kind::Partial;
}

void ChunkWindow::record(std::uint32_t relation_oid, std::string_view key_json,
                         const RowChange& change) {
    if (reading_.find(relation_oid) != reading_.end()) {
        log_.push_back(
            {relation_oid, std::string(key_json), change.kind, std::string(change.after)});
    }
}

void ChunkWindow::stop_reading(std::uint32_t relation_oid) {
    const auto it = reading_.find(relation_oid);
    if (it != reading_.end() && --it->second == 0) {
        reading_.erase(it);
    }
    if (--reads_ == 0) {  // no read in flight: the change log is not needed
        log_base_ += log_.size();
        log_.clear();
    }
}

void ChunkWindow::unwatch(std::uint32_t relation_oid) {
    const auto it = watched_.find(relation_oid);
    if (it != watched_.end() && --it->second == 0) {
        watched_.erase(it);
    }
}

}  // namespace pgcs::snapshot
