// KeyIndex: a snapshot chunk's Kafka key -> row lookup, which decides the rows a streamed change
// drops from a chunk.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "core/snapshot/table_reader.hpp"

using pgcs::snapshot::EncodedRows;
using pgcs::snapshot::KeyIndex;

namespace {

EncodedRows rows_with_keys(int n) {
    EncodedRows rows;
    rows.has_key = true;
    for (int i = 0; i < n; ++i) {
        const std::string key = "{\"id\":" + std::to_string(i * 7) + "}";
        rows.keys.insert(rows.keys.end(), key.begin(), key.end());
        rows.key_ends.push_back(static_cast<std::uint32_t>(rows.keys.size()));
        rows.value_ends.push_back(0);
    }
    return rows;
}

}  // namespace

TEST_CASE("key index: every key finds its row, other keys none") {
    const EncodedRows rows = rows_with_keys(10000);
    KeyIndex index;
    index.build(rows);
    for (int i = 0; i < 10000; ++i) {
        const auto row = index.find("{\"id\":" + std::to_string(i * 7) + "}");
        REQUIRE(row.has_value());
        CHECK(*row == static_cast<std::uint32_t>(i));
    }
    for (const char* other : {"{\"id\":1}", "{\"id\":69994}", "{\"id\":70000}", "", "{\"id\":0"}) {
        INFO(other);
        CHECK_FALSE(index.find(other).has_value());
    }
}

TEST_CASE("key index: survives the chunk being moved, and an empty chunk finds nothing") {
    EncodedRows rows = rows_with_keys(3);
    KeyIndex index;
    index.build(rows);
    const EncodedRows moved = std::move(rows);  // the views point into the moved buffer
    CHECK(index.find(moved.key(2)) == std::optional<std::uint32_t>(2));
    KeyIndex empty;
    empty.build(EncodedRows{});
    CHECK(empty.empty());
    CHECK_FALSE(empty.find("{\"id\":0}").has_value());
}
