// table_topic: legal Kafka topic names, ordinary names unchanged, distinct tables never share a
// topic, and table_of_topic reads one back.
#include "core/base/topic_name.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

using pgcs::base::kMaxKafkaTopicLength;
using pgcs::base::table_of_topic;
using pgcs::base::table_topic;
using pgcs::base::topic_part;

namespace {

bool legal(const std::string& topic) {
    if (topic.empty() || topic.size() > kMaxKafkaTopicLength) {
        return false;
    }
    for (const char c : topic) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("topic names: ordinary names are unchanged") {
    CHECK(table_topic("app", "public", "users") == "app.public.users");
    CHECK(table_topic("app.v1", "sales_2024", "order_items_x41") ==
          "app.v1.sales_2024.order_items_x41");
    CHECK(table_topic("app", "Public", "MyTable") == "app.Public.MyTable");
}

TEST_CASE("topic names: every other byte is '-' and two hex digits") {
    CHECK(topic_part("A.B") == "A-2eB");
    CHECK(topic_part("a-b") == "a-2db");
    CHECK(topic_part("a b") == "a-20b");
    CHECK(topic_part("caf\xc3\xa9") == "caf-c3-a9");
    const std::string weird = table_topic("app", "we\"ird sch.ema", "ta\"ble; DROP TABLE x; --");
    CHECK(weird == "app.we-22ird-20sch-2eema.ta-22ble-3b-20DROP-20TABLE-20x-3b-20-2d-2d");
    CHECK(legal(weird));
}

TEST_CASE("topic names: tricky pairs get distinct, legal topics") {
    const std::vector<std::pair<std::string, std::string>> tables = {
        {"public", "A.B"},  {"public.A", "B"},  {"public", "A-2eB"}, {"public", "a_b"},
        {"public_a", "b"},  {"public", "a-b"},  {"public", "a"},     {"public", "A"},
        {"p", "ublic.a"},   {"-", "x"},         {"-2d", "x"},        {"public", "-41"},
        {"public", "\x7f"}, {"public", "\xff"}, {"public", "a b"},   {"public", "a  b"},
        {"public", "\""},   {"public", "\"\""}};
    std::set<std::string> topics;
    for (const auto& [schema, table] : tables) {
        const std::string topic = table_topic("app", schema, table);
        INFO(schema << "." << table << " -> " << topic);
        CHECK(legal(topic));
        CHECK(topics.insert(topic).second);
        // Read back: the mapping is a code, one table per topic.
        const auto back = table_of_topic("app", topic);
        REQUIRE(back);
        CHECK(back->first == schema);
        CHECK(back->second == table);
    }
}

TEST_CASE("topic names: every single byte maps to a distinct legal part") {
    std::set<std::string> parts;
    for (int b = 1; b < 256; ++b) {
        const std::string part = topic_part(std::string(1, static_cast<char>(b)));
        CHECK(parts.insert(part).second);
        CHECK(part.find('.') == std::string::npos);
        CHECK(legal(part));
    }
}

TEST_CASE("topic names: longer than Kafka's limit, shortened with a hash of the whole") {
    const std::string schema(63, '.');  // 63 bytes, 189 characters once escaped
    const std::string a = table_topic("app", schema, std::string(63, 'a'));
    const std::string b = table_topic("app", schema, std::string(62, 'a') + "b");
    CHECK(a.size() == kMaxKafkaTopicLength);
    CHECK(legal(a));
    CHECK(legal(b));
    CHECK(a != b);
    CHECK(a.substr(0, 231) == b.substr(0, 231));
    CHECK(a.substr(231, 2) == "-h");
    CHECK_FALSE(table_of_topic("app", a));  // never an unshortened table's topic
}

TEST_CASE("topic names: what is no table's topic") {
    CHECK_FALSE(table_of_topic("app", "app.messages"));
    CHECK_FALSE(table_of_topic("app", "other.public.users"));
    CHECK_FALSE(table_of_topic("app", "app.public.users.x"));
    CHECK_FALSE(table_of_topic("app", "app.public.-41"));  // 'A' is written as itself
    CHECK_FALSE(table_of_topic("app", "app.public.-4"));
    CHECK_FALSE(table_of_topic("app", "app.public.-zz"));
    CHECK(table_of_topic("app", "app.public.users") ==
          std::make_pair(std::string("public"), std::string("users")));
}
