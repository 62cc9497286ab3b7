// A snapshot chunk's row patched from the stream (README "Snapshots"): the values the stream
// carried for the row's key during the chunk's window, the newest per column, laid over the
// chunk's `read` event when the newest change lacked some columns (unchanged TOAST). Pure, on
// the encoder's JSON text: values are moved as text, never parsed into numbers and written
// again, so each keeps exactly the form the encoder gave it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgcs::snapshot {

// The JSON text of member `name` (plain, without quotes or escapes) of the JSON object `object`,
// or std::nullopt when it has none. `object` may stop before its closing brace (a snapshot
// row's value without its transaction fields). Throws std::invalid_argument when it is not a
// JSON object.
std::optional<std::string_view> json_member(std::string_view object, std::string_view name);

class RowPatch {
  public:
    // Lays `after` (a change's new row, a JSON object) over the values kept: each of its columns
    // takes the new value, the others keep theirs. Throws std::invalid_argument when `after` is
    // not a JSON object.
    void overlay(std::string_view after);

    // `read_value` (a `read` event's value, or its beginning through its "after" object) with
    // the kept values in place of the same columns of its "after" object, appended to `out`.
    // The row's other columns stay; a kept column the row does not have (added to the table
    // meanwhile) is left out, like its type from "types". Throws std::invalid_argument when
    // `read_value` has no "after" object.
    void apply(std::string_view read_value, std::string& out) const;

    std::size_t columns() const { return columns_.size(); }

  private:
    struct Column {
        std::string name;   // the JSON string as written, quotes included
        std::string value;  // JSON text
    };
    std::vector<Column> columns_;  // in the order first carried
};

}  // namespace pgcs::snapshot
