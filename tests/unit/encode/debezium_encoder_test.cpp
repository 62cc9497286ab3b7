// The debezium format from pgoutput bytes: each message is written as PostgreSQL sends it
// (tests/support/pgoutput_writer.hpp), decoded, built into a changeset and encoded. Expected
// JSON follows Debezium 3.6's PostgreSQL connector (PostgresValueConverter, Envelope,
// PostgresSourceInfoStructMaker) as JsonConverter writes it.
#include "core/encode/debezium_encoder.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "core/changeset/key_change.hpp"
#include "tests/support/pgoutput_writer.hpp"

using namespace pgcs;

namespace {

// One message through its pgoutput bytes; the bytes stay alive with the result.
struct Decoded {
    std::vector<std::byte> bytes;
    pgoutput::Message message;
};

Decoded round_trip(const pgoutput::Message& m) {
    testing::ByteWriter w;
    testing::write(w, m);
    Decoded d{w.take(), {}};
    d.message = pgoutput::decode(d.bytes, {});
    return d;
}

struct Col {
    std::string name;
    changeset::Oid oid;
    std::int32_t typmod = -1;
    bool key = false;
};

struct Fixture {
    changeset::TypeRegistry types;
    changeset::RelationCache cache;
    changeset::Changeset cs;
    // commit 2026-11-23T10:00:00.123456Z, captured 1 ms later
    changeset::EventMeta meta{(1795428000LL - 946684800LL) * 1000000LL + 123456,
                              (1795428000LL - 946684800LL) * 1000000LL + 124456,
                              742,
                              0x16B3748,
                              0x16B3800,
                              3};
    std::vector<Decoded> keep;
    std::vector<Col> cols;
    const changeset::RelationInfo* rel = nullptr;

    encode::DebeziumSettings settings(bool schemas = false) const {
        encode::DebeziumSettings s;
        s.topic_prefix = "app";
        s.schemas = schemas;
        s.version = "v";
        s.database = "shop";
        return s;
    }

    void define(std::vector<Col> columns, char identity = 'd',
                const std::vector<std::string>& pk = {}) {
        cols = std::move(columns);
        pgoutput::Relation r;
        r.oid = 1;
        r.schema = "public";
        r.name = "t";
        r.replica_identity = identity;
        for (const auto& c : cols) {
            r.columns.push_back({c.key, c.name, c.oid, c.typmod});
        }
        keep.push_back(round_trip(r));
        rel = &cache.define(std::get<pgoutput::Relation>(keep.back().message), pk, types);
    }
    static pgoutput::Tuple tuple(const std::vector<std::string>& values) {
        pgoutput::Tuple t;
        for (const auto& v : values) {
            if (v == "<null>") {
                t.push_back({'n', ""});
            } else if (v == "<toast>") {
                t.push_back({'u', ""});
            } else {
                t.push_back({'t', v});
            }
        }
        return t;
    }
    void insert(const std::vector<std::string>& values) {
        pgoutput::Insert ins{std::nullopt, 1, {}};
        ins.new_tuple = tuple(values);
        keep.push_back(round_trip(ins));
        changeset::build_insert(*rel, std::get<pgoutput::Insert>(keep.back().message), cs);
    }
    void update(char old_kind, const std::vector<std::string>& old_values,
                const std::vector<std::string>& values) {
        pgoutput::Update upd{std::nullopt, 1, old_kind, {}, {}};
        if (old_kind != 0) {
            upd.old_tuple = tuple(old_values);
        }
        upd.new_tuple = tuple(values);
        keep.push_back(round_trip(upd));
        changeset::build_update(*rel, std::get<pgoutput::Update>(keep.back().message), cs);
    }
    void del(char old_kind, const std::vector<std::string>& old_values) {
        pgoutput::Delete d{std::nullopt, 1, old_kind, tuple(old_values)};
        keep.push_back(round_trip(d));
        changeset::build_delete(*rel, std::get<pgoutput::Delete>(keep.back().message), cs);
    }
};

// The source and the fields after it, for Fixture::meta, a streamed event and op `op`.
std::string tail(char op) {
    return std::string(R"(,"source":{"version":"v","connector":"postgresql","name":"app",)") +
           R"("ts_ms":1795428000123,"snapshot":"false","db":"shop",)" +
           R"("sequence":"[null,\"23803720\"]","ts_us":1795428000123456,)" +
           R"("ts_ns":1795428000123456000,"schema":"public","table":"t","txId":742,)" +
           R"("lsn":23803720,"xmin":null,"origin":null,"origin_lsn":null},"transaction":null,)" +
           R"("op":")" + op +
           R"(","ts_ms":1795428000124,"ts_us":1795428000124456,"ts_ns":1795428000124456000})";
}

// The JSON `after.v` of a one-column (plus key) table of `oid` holding `text`.
std::string value_of(changeset::Oid oid, std::int32_t typmod, const std::string& text,
                     encode::DebeziumSettings (*adjust)(encode::DebeziumSettings) = nullptr) {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"v", oid, typmod}});
    auto s = f.settings();
    if (adjust != nullptr) {
        s = adjust(s);
    }
    encode::DebeziumEncoder e(f.types, s);
    f.insert({"1", text});
    e.encode(f.cs, f.meta);
    const std::string v(e.value());
    const std::string from = R"("after":{"id":1)";
    const auto start = v.find(from);
    REQUIRE(start != std::string::npos);
    const auto end = v.find(R"(},"source")");
    std::string rest = v.substr(start + from.size(), end - start - from.size());
    return rest.rfind(R"(,"v":)", 0) == 0 ? rest.substr(5) : "<dropped>";
}

std::string json_of(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return {b.GetString(), b.GetSize()};
}

}  // namespace

TEST_CASE("debezium: an insert is a create, with the key struct of the primary key") {
    Fixture f;
    f.define({{"id", 20, -1, true}, {"name", 25}, {"price", 1700, (10 << 16 | 2) + 4}});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.insert({"42", "Alice", "123.45"});
    e.encode(f.cs, f.meta);
    CHECK(e.has_key());
    CHECK(e.key() == R"({"id":42})");
    CHECK(e.value() ==
          R"({"before":null,"after":{"id":42,"name":"Alice","price":"MDk="})" + tail('c'));
}

TEST_CASE("debezium: values of each type class as Debezium's defaults write them") {
    CHECK(value_of(16, -1, "t") == "true");
    CHECK(value_of(21, -1, "-7") == "-7");
    CHECK(value_of(20, -1, "9007199254740993") == "9007199254740993");
    CHECK(value_of(700, -1, "1.5") == "1.5");
    CHECK(value_of(701, -1, "NaN") == R"("NaN")");
    CHECK(value_of(701, -1, "-Infinity") == R"("-Infinity")");
    // numeric(7,2): Decimal, the unscaled value's two's complement bytes
    CHECK(value_of(1700, (7 << 16 | 2) + 4, "-1.28") == R"("gA==")");  // BigInteger: 0x80
    CHECK(value_of(1700, (7 << 16 | 2) + 4, "1234.50") == R"("AeI6")");
    // numeric without precision: VariableScaleDecimal
    CHECK(value_of(1700, -1, "1234.5") == R"({"scale":1,"value":"MDk="})");
    CHECK(value_of(1700, -1, "NaN") == "null");
    CHECK(value_of(25, -1, "héllo \"q\"") == R"("héllo \"q\"")");
    CHECK(value_of(1042, 8, "ab  ") == R"("ab  ")");
    CHECK(value_of(17, -1, "\\x0102ff") == R"("AQL/")");
    CHECK(value_of(1082, -1, "2026-11-23") == "20780");
    CHECK(value_of(1082, -1, "1969-12-31") == "-1");
    CHECK(value_of(1083, -1, "13:45:00.5") == "49500500000");  // MicroTime
    CHECK(value_of(1083, 3, "13:45:00.5") == "49500500");      // Time (millis)
    CHECK(value_of(1114, -1, "2026-11-23 13:45:00.123456") == "1795441500123456");
    CHECK(value_of(1114, 3, "2026-11-23 13:45:00.123") == "1795441500123");
    CHECK(value_of(1184, -1, "2026-11-23 13:45:00.5+00") == R"("2026-11-23T13:45:00.500000Z")");
    CHECK(value_of(1184, 3, "2026-11-23 01:45:00+02") == R"("2026-11-22T23:45:00.000Z")");
    CHECK(value_of(1266, -1, "13:45:00.5+02") == R"("11:45:00.5Z")");
    CHECK(value_of(1266, -1, "00:30:00-01:30") == R"("02:00:00Z")");
    CHECK(value_of(1186, -1, "P1Y2M3DT4H5M6.5S") == "37091106500000");
    CHECK(value_of(1186, -1, "PT-1M") == "-60000000");
    CHECK(value_of(2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") ==
          R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")");
    CHECK(value_of(3802, -1, R"({"a": [1, null]})") == R"("{\"a\": [1, null]}")");
    CHECK(value_of(3802, -1, "null") == R"("null")");  // JSON null: a string, SQL NULL: null
    CHECK(value_of(142, -1, "<a/>") == R"("<a/>")");
    CHECK(value_of(869, -1, "10.0.0.1/8") == R"("10.0.0.1/8")");
    CHECK(value_of(3904, -1, "[1,5)") == "\"[1,5)\"");
    CHECK(value_of(790, -1, "-$1,234.50") == R"("/h3G")");   // money: Decimal, scale 2
    CHECK(value_of(1560, 1, "1") == "true");                 // bit(1)
    CHECK(value_of(1560, 10, "1000000001") == R"("AQI=")");  // Bits, little-endian
    CHECK(value_of(600, -1, "(1.5,2)") ==
          R"({"x":1.5,"y":2.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAABA","srid":null})");
    CHECK(value_of(1007, -1, "{1,NULL,3}") == "[1,null,3]");
    CHECK(value_of(1009, -1, R"({a,"b c",NULL,"NULL"})") == R"(["a","b c",null,"NULL"])");
    CHECK(value_of(1182, -1, "{2026-11-23}") == "[20780]");
    CHECK(value_of(1007, -1, "{{1,2},{3,4}}") == "[null,null]");  // as Debezium 3.6 writes it
    CHECK(value_of(1009, -1, R"({{"}",b},{c,d}})") == "[null,null]");
    CHECK(value_of(1082, -1, "infinity") == "-2147472692");  // Debezium's 32-bit wrap-around
    CHECK(value_of(1114, -1, "-infinity") == "-9223372036832400000");
    CHECK(value_of(1184, -1, "infinity") == R"("infinity")");
    CHECK(value_of(603, -1, "(1,1),(0,0)") == "<dropped>");  // box: no Debezium schema
    CHECK(value_of(1187, -1, "{PT1S}") == "<dropped>");      // interval[]: not mapped
    CHECK(value_of(25, -1, "<null>") == "null");
}

TEST_CASE("debezium: decimal.handling.mode and time.precision.mode") {
    auto string_mode = [](encode::DebeziumSettings s) {
        s.types.decimal = encode::debezium::DecimalMode::String;
        return s;
    };
    auto double_mode = [](encode::DebeziumSettings s) {
        s.types.decimal = encode::debezium::DecimalMode::Double;
        return s;
    };
    auto connect = [](encode::DebeziumSettings s) {
        s.types.time = encode::debezium::TimeMode::Connect;
        return s;
    };
    CHECK(value_of(1700, (7 << 16 | 2) + 4, "1234.50", string_mode) == R"("1234.50")");
    CHECK(value_of(1700, -1, "1234.5", double_mode) == "1234.5");
    CHECK(value_of(1114, -1, "2026-11-23 13:45:00.123456", connect) == "1795441500123");
    CHECK(value_of(1083, -1, "13:45:00.5", connect) == "49500500");
}

TEST_CASE("debezium: BigInteger.toByteArray() of unscaled values") {
    using encode::debezium::unscaled_bytes;
    CHECK(unscaled_bytes("0", false) == std::string(1, '\0'));
    CHECK(unscaled_bytes("128", false) == std::string("\x00\x80", 2));
    CHECK(unscaled_bytes("128", true) == "\x80");
    CHECK(unscaled_bytes("129", true) == "\xff\x7f");
    CHECK(unscaled_bytes("1", true) == "\xff");
    CHECK(unscaled_bytes("255", false) == std::string("\x00\xff", 2));
    CHECK(unscaled_bytes("65536", false) == std::string("\x01\x00\x00", 3));
}

TEST_CASE("debezium: unchanged TOAST values are Debezium's placeholder") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"doc", 25}, {"blob", 17}, {"tags", 1009}});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.update(0, {}, {"1", "<toast>", "<toast>", "<toast>"});
    e.encode(f.cs, f.meta);
    CHECK(e.value() == R"({"before":null,"after":{"id":1,"doc":"__debezium_unavailable_value",)"
                       R"("blob":"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==",)"
                       R"("tags":["__debezium_unavailable_value"]})" +
                           tail('u'));
    // What a snapshot row is patched with carries only the values PostgreSQL sent.
    CHECK(e.row_patch() == R"({"after":{"id":1}})");
}

TEST_CASE("debezium: an update under FULL has the whole old row in before") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"name", 25}}, 'f', {"id"});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.update('O', {"1", "a"}, {"1", "b"});
    e.encode(f.cs, f.meta);
    CHECK(e.value() == R"({"before":{"id":1,"name":"a"},"after":{"id":1,"name":"b"})" + tail('u'));
}

TEST_CASE("debezium: a delete under DEFAULT has the key columns in before, the rest null") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"name", 25}});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.del('K', {"7", "<null>"});
    e.encode(f.cs, f.meta);
    CHECK(e.has_key());
    CHECK(e.key() == R"({"id":7})");
    CHECK(e.value() == R"({"before":{"id":7,"name":null},"after":null)" + tail('d'));
    CHECK(e.publishes(changeset::Op::Deleted));
}

TEST_CASE("debezium: NOT NULL columns: not optional, and their fallback in a key-only before") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"name", 25}, {"qty", 23}, {"note", 25}});
    f.cache.set_not_null(1, {"id", "name", "qty"});
    encode::DebeziumEncoder e(f.types, f.settings(true));
    CHECK(e.wants_not_null());
    f.del('K', {"7", "<null>", "<null>", "<null>"});
    e.encode(f.cs, f.meta);
    rapidjson::Document d;
    d.Parse(e.value().data(), e.value().size());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(json_of(d["payload"]["before"]) == R"({"id":7,"name":"","qty":0,"note":null})");
    const auto& fields = d["schema"]["fields"][0]["fields"];
    CHECK_FALSE(fields[1]["optional"].GetBool());
    CHECK_FALSE(fields[2]["optional"].GetBool());
    CHECK(fields[3]["optional"].GetBool());
}

TEST_CASE("debezium: a key change is a delete under the old key, then a create without before") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"name", 25}});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.update('K', {"1", "<null>"}, {"2", "b"});
    REQUIRE(changeset::changes_key(f.cs));
    changeset::Changeset deleted;
    changeset::Changeset added;
    changeset::split_key_change(f.cs, deleted, added);
    e.encode(deleted, f.meta);
    CHECK(e.key() == R"({"id":1})");
    CHECK(e.value() == R"({"before":{"id":1,"name":null},"after":null)" + tail('d'));
    e.encode(added, f.meta);
    CHECK(e.key() == R"({"id":2})");
    CHECK(e.value() == R"({"before":null,"after":{"id":2,"name":"b"})" + tail('c'));
}

TEST_CASE("debezium: the new row of a key change keeps Debezium's TOAST placeholder") {
    Fixture f;
    f.define({{"id", 23, -1, true}, {"doc", 25}});
    encode::DebeziumEncoder e(f.types, f.settings());
    CHECK_FALSE(e.fills_key_change_toast());  // the publisher reads nothing from the table
    f.update('K', {"1", "<null>"}, {"2", "<toast>"});
    changeset::Changeset deleted;
    changeset::Changeset added;
    changeset::split_key_change(f.cs, deleted, added);
    e.encode(added, f.meta);
    CHECK(e.value() ==
          R"({"before":null,"after":{"id":2,"doc":"__debezium_unavailable_value"})" + tail('c'));
}

TEST_CASE("debezium: truncates are skipped by default, as skipped.operations=t does") {
    Fixture f;
    f.define({{"id", 23, -1, true}});
    encode::DebeziumEncoder skipping(f.types, f.settings());
    CHECK_FALSE(skipping.publishes(changeset::Op::Truncated));
    CHECK(skipping.publishes(changeset::Op::Added));
    auto s = f.settings();
    s.skipped_operations = "none";
    encode::DebeziumEncoder e(f.types, s);
    CHECK(e.publishes(changeset::Op::Truncated));
    changeset::build_truncate(*f.rel, f.cs);
    e.encode(f.cs, f.meta);
    CHECK_FALSE(e.has_key());
    CHECK(e.value() == R"({"before":null,"after":null)" + tail('t'));
    s.skipped_operations = "c,d";
    encode::DebeziumEncoder some(f.types, s);
    CHECK_FALSE(some.publishes(changeset::Op::Added));
    CHECK_FALSE(some.publishes(changeset::Op::Deleted));
    CHECK(some.publishes(changeset::Op::Modified));
}

TEST_CASE("debezium: source.sequence names the previous transaction's commit") {
    Fixture f;
    f.define({{"id", 23, -1, true}});
    encode::DebeziumEncoder e(f.types, f.settings());
    f.insert({"1"});
    e.encode(f.cs, f.meta);
    e.on_commit(f.meta.commit_lsn);  // that transaction ended
    auto next = f.meta;
    next.commit_lsn = 0x16B4000;
    next.lsn = 0x16B3900;
    e.encode(f.cs, next);
    const std::string expected = "\"sequence\":\"[\\\"" + std::to_string(0x16B3800) + "\\\",\\\"" +
                                 std::to_string(0x16B3900) + "\\\"]\"";
    CHECK(std::string(e.value()).find(expected) != std::string::npos);
}

TEST_CASE("debezium: a snapshot row in two steps equals the row encoded at once") {
    for (bool schemas : {false, true}) {
        Fixture f;
        f.define({{"id", 23, -1, true}, {"name", 25}});
        encode::DebeziumEncoder e(f.types, f.settings(schemas));
        f.insert({"5", "x"});
        f.cs.op = changeset::Op::Read;
        e.encode(f.cs, f.meta);
        const std::string whole(e.value());
        CHECK(whole.find(R"("snapshot":"true")") != std::string::npos);
        CHECK(whole.find(R"("op":"r")") != std::string::npos);
        encode::DebeziumEncoder reader(f.types, f.settings(schemas));
        reader.encode_without_meta(f.cs);
        std::string pieces;
        e.snapshot_open(pieces, *f.rel);
        pieces += reader.value();
        e.snapshot_meta_head(pieces, *f.rel, f.meta);
        e.snapshot_seq(pieces, 9);
        // The snapshot's source time is when the row was read (captured_time).
        std::string expected = whole;
        CHECK(pieces == expected);
        CHECK(reader.key() == e.key());
    }
}

TEST_CASE("debezium: with schemas, JsonConverter's schema and payload") {
    Fixture f;
    f.define({{"id", 23, -1, true},
              {"price", 1700, (10 << 16 | 2) + 4},
              {"at", 1184},
              {"doc", 3802},
              {"tags", 1009}});
    encode::DebeziumEncoder e(f.types, f.settings(true));
    f.insert({"1", "1.00", "2026-11-23 00:00:00+00", "{}", "{a}"});
    e.encode(f.cs, f.meta);
    CHECK(e.key() ==
          R"({"schema":{"type":"struct","fields":[{"type":"int32","optional":false,)"
          R"("field":"id"}],"optional":false,"name":"app.public.t.Key"},"payload":{"id":1}})");
    rapidjson::Document d;
    d.Parse(e.value().data(), e.value().size());
    REQUIRE_FALSE(d.HasParseError());
    const auto& schema = d["schema"];
    CHECK(std::string(schema["name"].GetString()) == "app.public.t.Envelope");
    CHECK(schema["version"].GetInt() == 2);
    const auto& fields = schema["fields"];
    REQUIRE(fields.Size() == 8);
    const char* names[] = {"before", "after", "source", "transaction",
                           "op",     "ts_ms", "ts_us",  "ts_ns"};
    for (rapidjson::SizeType i = 0; i < 8; ++i) {
        CHECK(std::string(fields[i]["field"].GetString()) == names[i]);
    }
    const auto& after = fields[1];
    CHECK(std::string(after["name"].GetString()) == "app.public.t.Value");
    CHECK(after["optional"].GetBool());
    const auto& price = after["fields"][1];
    CHECK(std::string(price["name"].GetString()) == "org.apache.kafka.connect.data.Decimal");
    CHECK(std::string(price["parameters"]["scale"].GetString()) == "2");
    CHECK(std::string(price["parameters"]["connect.decimal.precision"].GetString()) == "10");
    CHECK(std::string(after["fields"][2]["name"].GetString()) == "io.debezium.time.ZonedTimestamp");
    CHECK(std::string(after["fields"][3]["name"].GetString()) == "io.debezium.data.Json");
    CHECK(std::string(after["fields"][4]["type"].GetString()) == "array");
    CHECK(std::string(after["fields"][4]["items"]["type"].GetString()) == "string");
    CHECK_FALSE(after["fields"][0]["optional"].GetBool());  // the key column
    CHECK(std::string(fields[2]["name"].GetString()) == "io.debezium.connector.postgresql.Source");
    CHECK(std::string(fields[2]["fields"][4]["default"].GetString()) == "false");
    const auto& payload = d["payload"];
    CHECK(std::string(payload["op"].GetString()) == "c");
    CHECK(std::string(payload["after"]["price"].GetString()) == "ZA==");
    CHECK(std::string(payload["after"]["at"].GetString()) == "2026-11-23T00:00:00.000000Z");
    CHECK(std::string(payload["source"]["db"].GetString()) == "shop");
    // The snapshot path patches rows with the payload, not the schema.
    CHECK(e.row_patch().substr(0, 16) == R"({"before":null,")");
}

TEST_CASE("debezium: a logical decoding message") {
    Fixture f;
    encode::DebeziumEncoder e(f.types, f.settings());
    encode::MessageEvent m;
    m.prefix = "audit";
    m.content = "hi";
    m.transactional = true;
    m.commit_time = f.meta.commit_time;
    m.captured_time = f.meta.captured_time;
    m.xid = 742;
    m.lsn = 100;
    e.encode_message(m);
    CHECK(e.key() == R"({"prefix":"audit"})");
    CHECK(
        e.value() ==
        R"({"op":"m","ts_ms":1795428000124,"source":{"version":"v","connector":"postgresql",)"
        R"("name":"app","ts_ms":1795428000123,"snapshot":"false","db":"shop",)"
        R"("sequence":"[null,\"100\"]","ts_us":1795428000123456,"ts_ns":1795428000123456000,)"
        R"("schema":"","table":"","txId":742,"lsn":100,"xmin":null,"origin":null,)"
        R"("origin_lsn":null},"transaction":null,"message":{"prefix":"audit","content":"aGk="}})");
}

TEST_CASE("debezium: an enum's schema lists its labels in Enum's allowed parameter") {
    Fixture f;
    changeset::CatalogType color;
    color.oid = 50000;
    color.name = "color";
    color.typtype = 'e';
    color.enum_labels = "red,green";
    f.types.add(color);
    f.define({{"id", 23, -1, true}, {"c", 50000}});
    encode::DebeziumEncoder e(f.types, f.settings(true));
    f.insert({"1", "green"});
    e.encode(f.cs, f.meta);
    rapidjson::Document d;
    d.Parse(e.value().data(), e.value().size());
    REQUIRE_FALSE(d.HasParseError());
    const auto& c = d["schema"]["fields"][1]["fields"][1];
    CHECK(std::string(c["name"].GetString()) == "io.debezium.data.Enum");
    CHECK(std::string(c["parameters"]["allowed"].GetString()) == "red,green");
    CHECK(std::string(d["payload"]["after"]["c"].GetString()) == "green");
}

TEST_CASE("debezium: under REPLICA IDENTITY USING INDEX the key is still the primary key") {
    Fixture f;
    f.define({{"id", 23}, {"code", 25, -1, true}, {"v", 25}}, 'i');  // index on code
    f.cache.set_format_key(1, {"id"});
    encode::DebeziumEncoder e(f.types, f.settings(true));
    CHECK(e.keys_by_primary_key());
    f.insert({"1", "a", "x"});
    e.encode(f.cs, f.meta);
    CHECK(e.key().find(R"("payload":{"id":1})") != std::string::npos);
    CHECK(e.key().find(R"("field":"code")") == std::string::npos);
    // A primary key change leaving the index alone: pgoutput sends no old row, so (as in
    // Debezium) a plain update under the new key, without `before`.
    f.update(0, {}, {"2", "a", "x"});
    CHECK_FALSE(changeset::changes_key(f.cs));
    e.encode(f.cs, f.meta);
    CHECK(e.key().find(R"("payload":{"id":2})") != std::string::npos);
    CHECK(e.value().find(R"("payload":{"before":null,"after":{"id":2,)") != std::string::npos);
}
