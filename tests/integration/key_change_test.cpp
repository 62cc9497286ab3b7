// An UPDATE that changes the primary key reaches Kafka as two events a consumer applying each
// partition on its own can apply blindly: `deleted` under the old key (with its tombstone) on
// the old key's partition, then `added` under the new key with the whole new row, on the new
// key's partition. Under REPLICA IDENTITY DEFAULT and FULL, with and without a TOAST value the
// UPDATE did not touch.
#include <map>
#include <set>

#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::json_text;
using pgcs::testing::parse_json;
using pgcs::testing::Record;

namespace {

struct Ev {
    Record record;
    rapidjson::Document doc;  // null for a tombstone
    std::string field(const char* name) const { return json_text(doc[name]); }
    std::string op() const { return doc["op"].GetString(); }
    std::string key() const { return record.key.value_or("null"); }
};

std::uint64_t lsn_value(const std::string& text) {
    unsigned hi = 0;
    unsigned lo = 0;
    REQUIRE(std::sscanf(text.c_str(), "%X/%X", &hi, &lo) == 2);
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

// Events in (commit_lsn, seq) order, each tombstone right after the event before it on its
// partition (its offset follows that event's).
std::vector<Ev> in_commit_order(const std::vector<Record>& records) {
    std::vector<Ev> events;
    std::map<std::pair<std::int32_t, std::int64_t>, Record> tombstones;  // by partition, offset
    for (const auto& r : records) {
        if (r.null_value) {
            tombstones.emplace(std::make_pair(r.partition, r.offset), r);
        } else {
            events.push_back({r, parse_json(r.value)});
        }
    }
    std::sort(events.begin(), events.end(), [](const Ev& a, const Ev& b) {
        return std::make_pair(lsn_value(a.doc["commit_lsn"].GetString()),
                              a.doc["seq"].GetUint64()) <
               std::make_pair(lsn_value(b.doc["commit_lsn"].GetString()), b.doc["seq"].GetUint64());
    });
    std::vector<Ev> out;
    for (auto& e : events) {
        const auto next = std::make_pair(e.record.partition, e.record.offset + 1);
        out.push_back(std::move(e));
        if (const auto t = tombstones.find(next); t != tombstones.end()) {
            out.push_back({t->second, rapidjson::Document()});
            tombstones.erase(t);
        }
    }
    for (auto& [at, t] : tombstones) {  // a tombstone after nothing: shows up in the checks
        out.push_back({t, rapidjson::Document()});
    }
    return out;
}

// 200 kB of hex digits: random enough that PostgreSQL cannot compress it below the TOAST
// threshold, so it is stored out of line and an UPDATE that does not touch it leaves it out.
const char* kBigValue = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 6250) g)";

// Writes the same steps for each identity and returns the events: key 1 inserted, updated
// without touching `big`, its key changed to 2, then key 2 updated.
std::vector<Ev> key_change_events(CaptureFixture& fx, bool big) {
    const std::string big_value = big ? kBigValue : "'small'";
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, 'a', " + big_value + ")");
    fx.exec("UPDATE {table} SET v = 'b' WHERE id = 1");
    fx.exec("UPDATE {table} SET id = 2 WHERE id = 1");
    fx.exec("UPDATE {table} SET v = 'c' WHERE id = 2");
    // added, modified, deleted + tombstone, added, modified
    auto events = in_commit_order(fx.read(6));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 6);
    return events;
}

// What both identities share: the two halves, their keys, partitions and positions.
void check_halves(const std::vector<Ev>& e) {
    REQUIRE(e[0].op() == "added");
    REQUIRE(e[1].op() == "modified");
    const Ev& deleted = e[2];
    const Ev& tombstone = e[3];
    const Ev& added = e[4];
    const Ev& later = e[5];
    CHECK(deleted.op() == "deleted");
    CHECK(deleted.key() == "{\"id\":1}");
    CHECK(deleted.field("key") == "{\"id\":1}");
    CHECK(deleted.field("after") == "null");
    CHECK(deleted.field("changed") == "null");
    CHECK(deleted.field("unchanged_toast") == "[]");
    // On the old key's partition, followed there by its tombstone.
    CHECK(deleted.record.partition == e[0].record.partition);
    REQUIRE(tombstone.record.null_value);
    CHECK(tombstone.key() == "{\"id\":1}");
    CHECK(tombstone.record.partition == deleted.record.partition);

    CHECK(added.op() == "added");
    CHECK(added.key() == "{\"id\":2}");
    CHECK(added.field("key") == "{\"id\":2}");
    CHECK(added.field("changed") == "null");
    CHECK(added.field("unchanged_toast") == "[]");  // nothing is missing
    CHECK(later.op() == "modified");
    CHECK(later.key() == "{\"id\":2}");
    CHECK(added.record.partition == later.record.partition);  // the new key's partition

    // One transaction, consecutive positions.
    CHECK(deleted.field("commit_lsn") == added.field("commit_lsn"));
    CHECK(deleted.field("xid") == added.field("xid"));
    CHECK(added.doc["seq"].GetUint64() == deleted.doc["seq"].GetUint64() + 1);
    CHECK(deleted.doc["seq"].GetUint64() == 0);
}

}  // namespace

TEST_CASE("key change under DEFAULT: deleted under the old key, added under the new one") {
    for (const bool big : {false, true}) {
        DYNAMIC_SECTION((big ? "with" : "without") << " an unchanged TOAST value") {
            CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text, big text)");
            const auto e = key_change_events(fx, big);
            check_halves(e);
            if (big) {  // PostgreSQL really left the value out of the plain update
                CHECK(e[1].field("unchanged_toast") == "[\"big\"]");
                CHECK(e[1].field("after") == "{\"id\":1,\"v\":\"b\"}");
            }
            const std::string big_text =
                big ? fx.pg().value(std::string("SELECT ") + kBigValue) : "small";
            CHECK(e[2].field("before") == "{\"id\":1}");  // the old key only
            CHECK(e[4].field("before") == "{\"id\":1}");
            // The whole new row: `big` read from the table when PostgreSQL did not send it.
            CHECK(e[4].field("after") == "{\"id\":2,\"v\":\"b\",\"big\":\"" + big_text + "\"}");
            CHECK(fx.stop_daemon().exit_code == 0);
        }
    }
}

TEST_CASE("key change under FULL: both halves carry the whole old row") {
    for (const bool big : {false, true}) {
        DYNAMIC_SECTION((big ? "with" : "without") << " an unchanged TOAST value") {
            CaptureFixture fx(
                "CREATE TABLE {table} (id int PRIMARY KEY, v text, big text); "
                "ALTER TABLE {table} REPLICA IDENTITY FULL");
            const auto e = key_change_events(fx, big);
            check_halves(e);
            const std::string big_text =
                big ? fx.pg().value(std::string("SELECT ") + kBigValue) : "small";
            if (big) {
                CHECK(e[1].field("unchanged_toast") == "[\"big\"]");
            }
            const std::string old_row = "{\"id\":1,\"v\":\"b\",\"big\":\"" + big_text + "\"}";
            CHECK(e[2].field("before") == old_row);
            CHECK(e[4].field("before") == old_row);
            CHECK(e[4].field("after") == "{\"id\":2,\"v\":\"b\",\"big\":\"" + big_text + "\"}");
            CHECK(fx.stop_daemon().exit_code == 0);
        }
    }
}

TEST_CASE("many keys changed at once: each half on the partition of its own key's other events") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, v text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} SELECT g, 'x' FROM generate_series(1, 16) g");
    fx.exec("UPDATE {table} SET id = id + 100");
    fx.exec("UPDATE {table} SET v = 'y'");
    // 16 added, 16 x (deleted + tombstone + added), 16 modified
    auto records = fx.read(16 * 5);
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(records.size() == 16 * 5);
    std::map<std::string, std::set<std::int32_t>> partitions;  // key -> partitions it used
    std::map<std::string, std::size_t> by_op;
    for (const auto& r : records) {
        partitions[r.key.value_or("null")].insert(r.partition);
        by_op[r.null_value ? "tombstone" : std::string(parse_json(r.value)["op"].GetString())]++;
    }
    CHECK(by_op == std::map<std::string, std::size_t>{
                       {"added", 32}, {"deleted", 16}, {"modified", 16}, {"tombstone", 16}});
    CHECK(partitions.size() == 32);
    bool moved = false;  // some rows change partition with their key
    for (int id = 1; id <= 16; ++id) {
        const std::string old_key = "{\"id\":" + std::to_string(id) + "}";
        const std::string new_key = "{\"id\":" + std::to_string(id + 100) + "}";
        INFO(old_key << " -> " << new_key);
        CHECK(partitions[old_key].size() == 1);  // added, deleted, tombstone: one partition
        CHECK(partitions[new_key].size() == 1);  // added, modified: one partition
        moved = moved || partitions[old_key] != partitions[new_key];
    }
    CHECK(moved);
    CHECK(fx.stop_daemon().exit_code == 0);
}

TEST_CASE("a key change read later: the value the row has then, or the column left out") {
    CaptureFixture fx("CREATE TABLE {table} (id int PRIMARY KEY, big text)");
    fx.start_daemon();
    fx.exec("INSERT INTO {table} VALUES (1, " + std::string(kBigValue) + "), (2, " + kBigValue +
            ")");
    REQUIRE(fx.read(2).size() == 2);
    CHECK(fx.stop_daemon().exit_code == 0);
    // While the daemon is stopped: both keys change; then row 12 gets a new value and row 11
    // is deleted, before the daemon reads the key changes from the slot.
    fx.exec("UPDATE {table} SET id = 11 WHERE id = 1");
    fx.exec("UPDATE {table} SET id = 12 WHERE id = 2");
    fx.exec("UPDATE {table} SET big = 'newer' WHERE id = 12");
    fx.exec("DELETE FROM {table} WHERE id = 11");
    fx.start_daemon();
    // 2 added, 2 x (deleted + tombstone + added), modified 12, deleted 11 + tombstone
    auto events = in_commit_order(fx.read(2 + 6 + 1 + 2));
    INFO("daemon log:\n" << fx.daemon_log());
    REQUIRE(events.size() == 11);
    const Ev& added_11 = events[4];
    REQUIRE(added_11.op() == "added");
    REQUIRE(added_11.key() == "{\"id\":11}");
    // The row is gone: the column stays absent and listed, never a placeholder or a null.
    CHECK(added_11.field("after") == "{\"id\":11}");
    CHECK(added_11.field("unchanged_toast") == "[\"big\"]");
    const Ev& added_12 = events[7];
    REQUIRE(added_12.op() == "added");
    REQUIRE(added_12.key() == "{\"id\":12}");
    // Read after the later update: that newer value (the next event of the key carries it too).
    CHECK(added_12.field("after") == "{\"id\":12,\"big\":\"newer\"}");
    CHECK(added_12.field("unchanged_toast") == "[]");
    CHECK(events[8].op() == "modified");
    CHECK(events[8].field("after") == "{\"id\":12,\"big\":\"newer\"}");
    CHECK(events[9].op() == "deleted");
    CHECK(events[9].key() == "{\"id\":11}");
    CHECK(events[10].record.null_value);
    CHECK(fx.stop_daemon().exit_code == 0);
}
