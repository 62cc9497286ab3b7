// Topic names from odd schema and table names: legal, on the topic the README documents, and two
// tables whose dotted names read the same ("s"."A.B", "s.A"."B") on two topics.
#include "support/capture_fixture.hpp"

using pgcs::testing::CaptureFixture;
using pgcs::testing::KafkaReader;
using pgcs::testing::parse_json;
using pgcs::testing::PgClient;

namespace {

struct DropSchemas {
    PgClient& pg;
    std::vector<std::string> schemas;  // quoted
    ~DropSchemas() {
        for (const auto& s : schemas) {
            try {
                pg.exec("DROP SCHEMA IF EXISTS " + s + " CASCADE");
            } catch (...) {
            }
        }
    }
};

}  // namespace

TEST_CASE("events of tables with odd names land on their documented, distinct topics", "[topics]") {
    CaptureFixture f("CREATE TABLE {table} (id int PRIMARY KEY)");
    const std::string suffix = f.table().substr(2);
    // "we"ird sch.ema_<suffix>"."ta"ble; DROP TABLE x; --"
    const std::string weird_schema = "\"we\"\"ird sch.ema_" + suffix + "\"";
    const std::string weird = weird_schema + ".\"ta\"\"ble; DROP TABLE x; --\"";
    const std::string plain_schema = "\"s_" + suffix + "\"";
    const std::string dotted_schema = "\"s_" + suffix + ".A\"";
    const std::string ab = plain_schema + ".\"A.B\"";
    const std::string a_b = dotted_schema + ".\"B\"";
    DropSchemas drop{f.pg(), {weird_schema, plain_schema, dotted_schema}};
    for (const auto& s : drop.schemas) {
        f.pg().exec("CREATE SCHEMA " + s);
    }
    for (const auto& t : {weird, ab, a_b}) {
        f.pg().exec("CREATE TABLE " + t + " (id int PRIMARY KEY, note text)");
    }
    f.start_daemon_with_tables({"'" + weird + "'", "'" + ab + "'", "'" + a_b + "'"});
    f.pg().exec("INSERT INTO " + weird + " VALUES (1, 'weird')");
    f.pg().exec("INSERT INTO " + ab + " VALUES (2, 'A.B')");
    f.pg().exec("INSERT INTO " + a_b + " VALUES (3, 'A/B')");

    // The README's mapping: every byte outside [A-Za-z0-9_] as '-' and two hex digits.
    const std::string weird_topic = f.prefix() + ".we-22ird-20sch-2eema_" + suffix +
                                    ".ta-22ble-3b-20DROP-20TABLE-20x-3b-20-2d-2d";
    const std::string ab_topic = f.prefix() + ".s_" + suffix + ".A-2eB";
    const std::string a_b_topic = f.prefix() + ".s_" + suffix + "-2eA.B";
    KafkaReader reader(pgcs::testing::brokers());
    auto only_event = [&](const std::string& topic, const std::string& schema,
                          const std::string& table, int id) {
        INFO(topic << "\n" << f.daemon_log());
        const auto records = reader.read_all(topic, 1, std::chrono::seconds(2));
        REQUIRE(records.size() == 1);
        const auto doc = parse_json(records[0].value);
        CHECK(std::string(doc["schema"].GetString()) == schema);
        CHECK(std::string(doc["table"].GetString()) == table);
        CHECK(doc["after"]["id"].GetInt() == id);
    };
    only_event(weird_topic, "we\"ird sch.ema_" + suffix, "ta\"ble; DROP TABLE x; --", 1);
    only_event(ab_topic, "s_" + suffix, "A.B", 2);
    only_event(a_b_topic, "s_" + suffix + ".A", "B", 3);
}
