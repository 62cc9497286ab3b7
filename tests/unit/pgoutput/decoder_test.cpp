// The pgoutput decoder from bytes alone: every message type round-trips through the test
// writer (tests/support/pgoutput_writer.hpp), and every corruption is a DecodeError that
// names the message type and byte offset.
#include "core/pgoutput/decoder.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/pgoutput_writer.hpp"

namespace pg = pgcs::pgoutput;
using pgcs::testing::ByteWriter;
using pgcs::testing::write;

namespace {

using Bytes = std::vector<std::byte>;

constexpr pg::DecodeOptions kV1{1, false};
constexpr pg::DecodeOptions kV2{2, false};
constexpr pg::DecodeOptions kV2Stream{2, true};
constexpr pg::DecodeOptions kV4{4, false};
constexpr pg::DecodeOptions kV4Stream{4, true};
constexpr pg::DecodeOptions kV4Parallel{4, false, true};

pg::Message decode(const Bytes& bytes, const pg::DecodeOptions& options) {
    return pg::decode(bytes, options);
}

Bytes prefix(const Bytes& bytes, std::size_t length) {
    return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
}

// Runs `f`, which must throw DecodeError; returns it for further checks.
pg::DecodeError decode_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const pg::DecodeError& e) {
        return e;
    }
    FAIL("no DecodeError thrown");
    throw std::logic_error("unreachable");
}

pg::DecodeError decode_error(const Bytes& bytes, const pg::DecodeOptions& options) {
    return decode_error([&] { pg::decode(bytes, options); });
}

// ---- field-by-field comparison -------------------------------------------------------------

void check_same(const pg::Tuple& got, const pg::Tuple& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("column " << i);
        CHECK(got[i].kind == want[i].kind);
        CHECK(got[i].data == want[i].data);
    }
}

void check_same(const pg::Begin& got, const pg::Begin& want) {
    CHECK(got.final_lsn == want.final_lsn);
    CHECK(got.commit_time == want.commit_time);
    CHECK(got.xid == want.xid);
}

void check_same(const pg::Commit& got, const pg::Commit& want) {
    CHECK(got.flags == want.flags);
    CHECK(got.commit_lsn == want.commit_lsn);
    CHECK(got.end_lsn == want.end_lsn);
    CHECK(got.commit_time == want.commit_time);
}

void check_same(const pg::Origin& got, const pg::Origin& want) {
    CHECK(got.commit_lsn == want.commit_lsn);
    CHECK(got.name == want.name);
}

void check_same(const pg::Relation& got, const pg::Relation& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.oid == want.oid);
    CHECK(got.schema == want.schema);
    CHECK(got.name == want.name);
    CHECK(got.replica_identity == want.replica_identity);
    REQUIRE(got.columns.size() == want.columns.size());
    for (std::size_t i = 0; i < got.columns.size(); ++i) {
        INFO("column " << i);
        CHECK(got.columns[i].is_key == want.columns[i].is_key);
        CHECK(got.columns[i].name == want.columns[i].name);
        CHECK(got.columns[i].type_oid == want.columns[i].type_oid);
        CHECK(got.columns[i].type_modifier == want.columns[i].type_modifier);
    }
}

void check_same(const pg::Type& got, const pg::Type& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.oid == want.oid);
    CHECK(got.schema == want.schema);
    CHECK(got.name == want.name);
}

void check_same(const pg::Insert& got, const pg::Insert& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.relation_oid == want.relation_oid);
    check_same(got.new_tuple, want.new_tuple);
}

void check_same(const pg::Update& got, const pg::Update& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.relation_oid == want.relation_oid);
    CHECK(got.old_kind == want.old_kind);
    check_same(got.old_tuple, want.old_tuple);
    check_same(got.new_tuple, want.new_tuple);
}

void check_same(const pg::Delete& got, const pg::Delete& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.relation_oid == want.relation_oid);
    CHECK(got.old_kind == want.old_kind);
    check_same(got.old_tuple, want.old_tuple);
}

void check_same(const pg::Truncate& got, const pg::Truncate& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.options == want.options);
    CHECK(got.relation_oids == want.relation_oids);
}

void check_same(const pg::LogicalMessage& got, const pg::LogicalMessage& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.transactional == want.transactional);
    CHECK(got.lsn == want.lsn);
    CHECK(got.prefix == want.prefix);
    CHECK(got.content == want.content);
}

void check_same(const pg::StreamStart& got, const pg::StreamStart& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.first_segment == want.first_segment);
}

void check_same(const pg::StreamStop&, const pg::StreamStop&) {}

void check_same(const pg::StreamCommit& got, const pg::StreamCommit& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.flags == want.flags);
    CHECK(got.commit_lsn == want.commit_lsn);
    CHECK(got.end_lsn == want.end_lsn);
    CHECK(got.commit_time == want.commit_time);
}

void check_same(const pg::StreamAbort& got, const pg::StreamAbort& want) {
    CHECK(got.xid == want.xid);
    CHECK(got.subxid == want.subxid);
    CHECK(got.abort_lsn == want.abort_lsn);
    CHECK(got.abort_time == want.abort_time);
}

void check_same(const pg::Message& got, const pg::Message& want) {
    REQUIRE(got.index() == want.index());
    std::visit([&](const auto& w) { check_same(std::get<std::decay_t<decltype(w)>>(got), w); },
               want);
}

// ---- zero copy: every view of a decoded message points into the input ---------------------

void collect(std::vector<std::string_view>& out, const pg::Tuple& tuple) {
    for (const auto& v : tuple) {
        if (v.kind == 't' || v.kind == 'b') {
            out.push_back(v.data);
        }
    }
}

std::vector<std::string_view> views_of(const pg::Message& message) {
    std::vector<std::string_view> out;
    if (const auto* m = std::get_if<pg::Origin>(&message)) {
        out.push_back(m->name);
    } else if (const auto* m = std::get_if<pg::Relation>(&message)) {
        out.push_back(m->schema);
        out.push_back(m->name);
        for (const auto& c : m->columns) {
            out.push_back(c.name);
        }
    } else if (const auto* m = std::get_if<pg::Type>(&message)) {
        out.push_back(m->schema);
        out.push_back(m->name);
    } else if (const auto* m = std::get_if<pg::Insert>(&message)) {
        collect(out, m->new_tuple);
    } else if (const auto* m = std::get_if<pg::Update>(&message)) {
        collect(out, m->old_tuple);
        collect(out, m->new_tuple);
    } else if (const auto* m = std::get_if<pg::Delete>(&message)) {
        collect(out, m->old_tuple);
    } else if (const auto* m = std::get_if<pg::LogicalMessage>(&message)) {
        out.push_back(m->prefix);
        out.push_back(m->content);
    }
    return out;
}

bool points_into(std::string_view view, const Bytes& bytes) {
    const auto* begin = reinterpret_cast<const char*>(bytes.data());
    return std::less_equal<const char*>()(begin, view.data()) &&
           std::less_equal<const char*>()(view.data() + view.size(), begin + bytes.size());
}

// ---- one sample of every message type, plain and streamed ----------------------------------

struct Sample {
    std::string name;
    pg::Message message;
    pg::DecodeOptions options;
};

pg::Tuple all_kinds_tuple() {
    using namespace std::string_literals;
    static const std::string binary = "\x00\x01\xff\x00"s;  // embedded NULs: length, not NUL
    return {{'t', "42"}, {'n', {}}, {'u', {}}, {'b', binary}, {'t', ""}};
}

std::vector<Sample> samples() {
    const pg::Tuple row = all_kinds_tuple();
    const pg::Tuple key = {{'t', "42"}, {'n', {}}, {'n', {}}};
    std::vector<Sample> out = {
        {"Begin", pg::Begin{0x16B3748, 742'000'000'000, 731}, kV1},
        {"Commit", pg::Commit{0, 0x16B3748, 0x16B3778, 742'000'000'001}, kV1},
        {"Origin", pg::Origin{0x16B3748, "node_a"}, kV1},
        {"Relation",
         pg::Relation{std::nullopt,
                      16384,
                      "public",
                      "orders",
                      'd',
                      {{true, "id", 23, -1}, {false, "note", 1043, 104}, {false, "", 25, -1}}},
         kV1},
        {"Relation in pg_catalog, no columns", pg::Relation{std::nullopt, 1, "", "t", 'n', {}},
         kV1},
        {"Type", pg::Type{std::nullopt, 16400, "public", "mood"}, kV1},
        {"Insert", pg::Insert{std::nullopt, 16384, row}, kV1},
        {"Insert with no columns", pg::Insert{std::nullopt, 16384, {}}, kV1},
        {"Update without old tuple", pg::Update{std::nullopt, 16384, 0, {}, row}, kV1},
        {"Update with old key (K)", pg::Update{std::nullopt, 16384, 'K', key, row}, kV1},
        {"Update with old row (O)", pg::Update{std::nullopt, 16384, 'O', row, row}, kV1},
        {"Delete with old key (K)", pg::Delete{std::nullopt, 16384, 'K', key}, kV1},
        {"Delete with old row (O)", pg::Delete{std::nullopt, 16384, 'O', row}, kV1},
        {"Truncate",
         pg::Truncate{std::nullopt,
                      pg::Truncate::kCascade | pg::Truncate::kRestartIdentity,
                      {16384, 16390, 0xFFFFFFFF}},
         kV1},
        {"Truncate of nothing", pg::Truncate{std::nullopt, 0, {}}, kV1},
        {"Message, transactional", pg::LogicalMessage{std::nullopt, true, 0x20, "app", "hi"}, kV1},
        {"Message, non-transactional, empty", pg::LogicalMessage{std::nullopt, false, 0x20, "", ""},
         kV1},
        {"Stream Start", pg::StreamStart{900, true}, kV2},
        {"Stream Start, later segment", pg::StreamStart{900, false}, kV2},
        {"Stream Stop", pg::StreamStop{}, kV2},
        {"Stream Commit", pg::StreamCommit{900, 0, 0x3000, 0x3030, -5}, kV2},
        {"Stream Abort v2", pg::StreamAbort{900, 901, std::nullopt, std::nullopt}, kV2},
        {"Stream Abort v4", pg::StreamAbort{900, 901, std::nullopt, std::nullopt}, kV4},
        {"Stream Abort parallel", pg::StreamAbort{900, 900, 0x4000, 742'000'000'002}, kV4Parallel},
        // Streamed data messages: the xid prefix.
        {"streamed Relation",
         pg::Relation{900, 16384, "public", "orders", 'f', {{true, "id", 23, -1}}}, kV2Stream},
        {"streamed Type", pg::Type{900, 16400, "public", "mood"}, kV2Stream},
        {"streamed Insert", pg::Insert{900, 16384, row}, kV2Stream},
        {"streamed Update (K)", pg::Update{900, 16384, 'K', key, row}, kV2Stream},
        {"streamed Update (O)", pg::Update{901, 16384, 'O', row, row}, kV4Stream},
        {"streamed Update without old", pg::Update{900, 16384, 0, {}, row}, kV2Stream},
        {"streamed Delete", pg::Delete{900, 16384, 'K', key}, kV2Stream},
        {"streamed Truncate", pg::Truncate{900, 0, {16384}}, kV2Stream},
        {"streamed Message", pg::LogicalMessage{900, true, 0x20, "app", "payload"}, kV2Stream},
        // Extremes: all bits set, negative timestamps and typmods.
        {"Begin, extremes", pg::Begin{~0ULL, INT64_MIN, 0xFFFFFFFF}, kV1},
        {"Commit, extremes", pg::Commit{0xFF, ~0ULL, ~0ULL, INT64_MAX}, kV1},
    };
    return out;
}

}  // namespace

// ---- round trips ---------------------------------------------------------------------------

TEST_CASE("every message type round-trips through writer and decoder") {
    for (const Sample& sample : samples()) {
        DYNAMIC_SECTION(sample.name) {
            const Bytes bytes = write(sample.message, sample.options);
            const pg::Message got = decode(bytes, sample.options);
            check_same(got, sample.message);
            for (std::string_view view : views_of(got)) {
                CHECK(points_into(view, bytes));
            }
        }
    }
}

TEST_CASE("decoder reads the documented big-endian layout, not just the writer's") {
    // Insert into relation 0x4000 of ('abc', NULL, unchanged), built byte by byte.
    const unsigned char raw[] = {'I',  0x00, 0x00, 0x40, 0x00, 'N', 0x00, 0x03, 't',
                                 0x00, 0x00, 0x00, 0x03, 'a',  'b', 'c',  'n',  'u'};
    Bytes bytes;
    for (unsigned char c : raw) {
        bytes.push_back(static_cast<std::byte>(c));
    }
    const auto insert = std::get<pg::Insert>(decode(bytes, kV1));
    CHECK(insert.relation_oid == 0x4000);
    CHECK_FALSE(insert.xid.has_value());
    REQUIRE(insert.new_tuple.size() == 3);
    CHECK(insert.new_tuple[0].kind == 't');
    CHECK(insert.new_tuple[0].data == "abc");
    CHECK(insert.new_tuple[0].data.data() == reinterpret_cast<const char*>(&bytes[13]));
    CHECK(insert.new_tuple[1].kind == 'n');
    CHECK(insert.new_tuple[2].kind == 'u');

    const Bytes begin = ByteWriter()
                            .byte1('B')
                            .int64(0x0102030405060708)
                            .int64(0xFFFFFFFFFFFFFFFF)
                            .int32(0x0A0B0C0D)
                            .take();
    const auto b = std::get<pg::Begin>(decode(begin, kV1));
    CHECK(b.final_lsn == 0x0102030405060708);
    CHECK(b.commit_time == -1);
    CHECK(b.xid == 0x0A0B0C0D);
}

TEST_CASE("tuple kinds: null and unchanged TOAST carry no data, text and binary do") {
    const Bytes bytes = write(pg::Insert{std::nullopt, 1, all_kinds_tuple()}, kV1);
    const auto insert = std::get<pg::Insert>(decode(bytes, kV1));
    REQUIRE(insert.new_tuple.size() == 5);
    CHECK(insert.new_tuple[0].kind == 't');
    CHECK(insert.new_tuple[1].kind == 'n');
    CHECK(insert.new_tuple[1].data.empty());
    CHECK(insert.new_tuple[2].kind == 'u');
    CHECK(insert.new_tuple[2].data.empty());
    CHECK(insert.new_tuple[3].kind == 'b');
    CHECK(insert.new_tuple[3].data.size() == 4);
    CHECK(insert.new_tuple[3].data[3] == '\0');
    CHECK(insert.new_tuple[4].kind == 't');
    CHECK(insert.new_tuple[4].data.empty());
}

TEST_CASE("Stream Abort carries abort LSN and time only with streaming 'parallel' (v4)") {
    // PostgreSQL 16-18 write them when streaming = parallel, not for every v4 stream: v4 with
    // streaming 'on' sends the v2 bytes (checked with pg_recvlogical on 16, see the README).
    const pg::StreamAbort plain{7, 8, std::nullopt, std::nullopt};
    const pg::StreamAbort parallel{7, 8, 0x99, 1234};
    const Bytes plain_bytes = write(plain, kV2);
    const Bytes parallel_bytes = write(parallel, kV4Parallel);
    CHECK(plain_bytes.size() == 9);
    CHECK(parallel_bytes.size() == 25);
    check_same(decode(plain_bytes, {3, false}), plain);
    check_same(decode(plain_bytes, kV4), plain);
    check_same(decode(parallel_bytes, kV4Parallel), parallel);
    // The options decide the layout: the wrong one is an error, never a misread.
    CHECK_THROWS_AS(decode(plain_bytes, kV4Parallel), pg::DecodeError);
    CHECK_THROWS_AS(decode(parallel_bytes, kV4), pg::DecodeError);
    CHECK_THROWS_AS(decode(parallel_bytes, kV2), pg::DecodeError);
}

TEST_CASE("the xid prefix is read exactly when in_stream") {
    const pg::Insert streamed{900, 16384, {{'t', "1"}}};
    const Bytes bytes = write(streamed, kV2Stream);
    check_same(decode(bytes, kV2Stream), streamed);
    // Read outside a stream, the xid would be taken as the oid and the message misparsed.
    CHECK_THROWS_AS(decode(bytes, kV2), pg::DecodeError);
    // Control messages never carry the prefix, even inside a stream.
    const pg::StreamStop stop;
    check_same(decode(write(stop, kV2Stream), kV2Stream), stop);
    const pg::Origin origin{5, "x"};
    check_same(decode(write(origin, kV2Stream), kV2Stream), origin);
}

// ---- corrupt input -------------------------------------------------------------------------

TEST_CASE("every truncation of every message type is a DecodeError naming type and offset") {
    for (const Sample& sample : samples()) {
        DYNAMIC_SECTION(sample.name) {
            const Bytes bytes = write(sample.message, sample.options);
            for (std::size_t length = 0; length < bytes.size(); ++length) {
                INFO("prefix of " << length << " of " << bytes.size() << " bytes");
                const auto e = decode_error(prefix(bytes, length), sample.options);
                const std::string what = e.what();
                CHECK(e.offset() <= length);
                CHECK_THAT(what, Catch::Contains("at byte " + std::to_string(e.offset())));
                if (length == 0) {
                    CHECK_THAT(what, Catch::Contains("empty message"));
                } else {
                    CHECK(e.message_type() == static_cast<char>(bytes[0]));
                    CHECK_THAT(what, Catch::Contains(std::string("('") +
                                                     static_cast<char>(bytes[0]) + "')"));
                }
            }
        }
    }
}

TEST_CASE("trailing bytes after any complete message are a DecodeError") {
    for (const Sample& sample : samples()) {
        DYNAMIC_SECTION(sample.name) {
            Bytes bytes = write(sample.message, sample.options);
            const std::size_t end = bytes.size();
            bytes.push_back(std::byte{0});
            const auto e = decode_error(bytes, sample.options);
            CHECK(e.offset() == end);
            CHECK_THAT(e.what(), Catch::Contains("1 trailing bytes"));
        }
    }
}

TEST_CASE("error text names the message type, offset and problem") {
    // Insert of one text column whose length says 100 but 2 bytes follow.
    const Bytes bytes =
        ByteWriter().byte1('I').int32(1).byte1('N').int16(1).byte1('t').int32(100).raw("ab").take();
    const auto e = decode_error(bytes, kV1);
    CHECK(e.message_type() == 'I');
    CHECK(e.offset() == 9);
    CHECK(std::string(e.what()) ==
          "pgoutput Insert ('I') at byte 9: length 100 of tuple column value exceeds the 2 "
          "bytes left");
}

TEST_CASE("a huge count fails before anything is allocated") {
    SECTION("tuple column count") {
        const Bytes bytes =
            ByteWriter().byte1('I').int32(1).byte1('N').int16(0xFFFF).raw("nnn").take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 6);
        CHECK_THAT(e.what(), Catch::Contains("tuple column count 65535"));
    }
    SECTION("relation column count") {
        const Bytes bytes = ByteWriter()
                                .byte1('R')
                                .int32(1)
                                .string("public")
                                .string("t")
                                .int8('d')
                                .int16(0xFFFF)
                                .int8(1)
                                .string("id")
                                .int32(23)
                                .int32(0xFFFFFFFF)
                                .take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.message_type() == 'R');
        CHECK_THAT(e.what(), Catch::Contains("column count 65535"));
    }
    SECTION("truncate relation count") {
        const Bytes bytes = ByteWriter().byte1('T').int32(0x7FFFFFFF).int8(0).int32(1).take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 1);
        CHECK_THAT(e.what(), Catch::Contains("relation count 2147483647"));
    }
}

TEST_CASE("negative lengths and counts are DecodeErrors") {
    SECTION("tuple value length") {
        const Bytes bytes =
            ByteWriter().byte1('I').int32(1).byte1('N').int16(1).byte1('b').int32(-1).take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 9);
        CHECK_THAT(e.what(), Catch::Contains("negative length -1"));
    }
    SECTION("logical message content length") {
        const Bytes bytes = ByteWriter()
                                .byte1('M')
                                .int8(1)
                                .int64(0)
                                .string("p")
                                .int32(0x80000000)
                                .raw("xxxx")
                                .take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.message_type() == 'M');
        CHECK(e.offset() == 12);
        CHECK_THAT(e.what(), Catch::Contains("negative length -2147483648"));
    }
    SECTION("truncate relation count") {
        const Bytes bytes = ByteWriter().byte1('T').int32(-3).int8(0).take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 1);
        CHECK_THAT(e.what(), Catch::Contains("negative relation count -3"));
    }
}

TEST_CASE("an unknown tuple column kind is a DecodeError") {
    const Bytes bytes = write(pg::Insert{std::nullopt, 1, {{'t', "a"}, {'x', "zz"}}}, kV1);
    const auto e = decode_error(bytes, kV1);
    CHECK(e.offset() == 14);
    CHECK_THAT(e.what(), Catch::Contains("unknown tuple column kind 'x' in column 1"));
    const Bytes control = write(pg::Delete{std::nullopt, 1, 'K', {{'\x01', ""}}}, kV1);
    CHECK_THAT(decode_error(control, kV1).what(), Catch::Contains("kind 0x01"));
}

TEST_CASE("wrong tuple tags are DecodeErrors") {
    SECTION("Insert without 'N'") {
        const Bytes bytes = ByteWriter().byte1('I').int32(1).byte1('K').int16(0).take();
        CHECK_THAT(decode_error(bytes, kV1).what(), Catch::Contains("expected new tuple tag"));
    }
    SECTION("Update with an unknown old tag") {
        const Bytes bytes = ByteWriter().byte1('U').int32(1).byte1('X').int16(0).take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 5);
        CHECK_THAT(e.what(), Catch::Contains("'K', 'O' or 'N', got 'X'"));
    }
    SECTION("Update with old tuple but no 'N' after it") {
        const Bytes bytes =
            ByteWriter().byte1('U').int32(1).byte1('K').int16(0).byte1('O').int16(0).take();
        const auto e = decode_error(bytes, kV1);
        CHECK(e.offset() == 8);
        CHECK_THAT(e.what(), Catch::Contains("expected new tuple tag 'N', got 'O'"));
    }
    SECTION("Delete with 'N'") {
        const Bytes bytes = ByteWriter().byte1('D').int32(1).byte1('N').int16(0).take();
        CHECK_THAT(decode_error(bytes, kV1).what(), Catch::Contains("'K' or 'O', got 'N'"));
    }
}

TEST_CASE("unknown message types are errors, never skipped") {
    for (char type : {'Z', 'P', 'b', 'K', '\x01', '\xff'}) {
        INFO("type " << static_cast<int>(static_cast<unsigned char>(type)));
        const Bytes bytes = ByteWriter().byte1(type).int32(0).take();
        const auto e = decode_error(bytes, kV4);
        CHECK(e.message_type() == type);
        CHECK(e.offset() == 0);
        CHECK_THAT(e.what(), Catch::Contains("unknown message type"));
    }
    CHECK_THAT(decode_error(ByteWriter().byte1('Z').take(), kV1).what(),
               Catch::Equals("pgoutput message at byte 0: unknown message type 'Z'"));
    CHECK_THAT(decode_error(ByteWriter().byte1('\x01').take(), kV1).what(),
               Catch::Equals("pgoutput message at byte 0: unknown message type 0x01"));
}

TEST_CASE("an empty buffer is a DecodeError") {
    const auto e = decode_error(Bytes{}, kV1);
    CHECK(e.offset() == 0);
    CHECK(e.message_type() == '\0');
    CHECK_THAT(e.what(), Catch::Contains("empty message"));
}

TEST_CASE("Stream messages need proto_version 2") {
    const std::vector<pg::Message> streams = {pg::StreamStart{1, true}, pg::StreamStop{},
                                              pg::StreamCommit{1, 0, 2, 3, 4},
                                              pg::StreamAbort{1, 1, std::nullopt, std::nullopt}};
    for (const pg::Message& m : streams) {
        const Bytes bytes = write(m, kV2);
        const auto e = decode_error(bytes, kV1);
        CHECK(e.message_type() == static_cast<char>(bytes[0]));
        CHECK(e.offset() == 0);
        CHECK_THAT(e.what(), Catch::Contains("needs proto_version >= 2"));
    }
}

TEST_CASE("an unterminated string is a DecodeError") {
    const Bytes bytes = ByteWriter().byte1('O').int64(1).raw("no-terminator").take();
    const auto e = decode_error(bytes, kV1);
    CHECK(e.message_type() == 'O');
    CHECK(e.offset() == 9);
    CHECK_THAT(e.what(), Catch::Contains("unterminated origin name"));
}

TEST_CASE("inconsistent options are the caller's error, not the input's") {
    const Bytes bytes = write(pg::StreamStop{}, kV2);
    CHECK_THROWS_AS(pg::decode(bytes, {0, false}), std::invalid_argument);
    CHECK_THROWS_AS(pg::decode(bytes, {5, false}), std::invalid_argument);
    CHECK_THROWS_AS(pg::decode(bytes, {1, true}), std::invalid_argument);
    CHECK_THROWS_AS(pg::decode(bytes, {2, false, true}), std::invalid_argument);
}

TEST_CASE("the writer refuses a message that disagrees with its options") {
    CHECK_THROWS_AS(write(pg::Insert{std::nullopt, 1, {}}, kV2Stream), std::invalid_argument);
    CHECK_THROWS_AS(write(pg::Insert{7, 1, {}}, kV2), std::invalid_argument);
    CHECK_THROWS_AS(write(pg::StreamAbort{1, 1, 5, 6}, kV2), std::invalid_argument);
    CHECK_THROWS_AS(write(pg::StreamAbort{1, 1, 5, 6}, kV4), std::invalid_argument);
    CHECK_THROWS_AS(write(pg::StreamAbort{1, 1, std::nullopt, std::nullopt}, kV4Parallel),
                    std::invalid_argument);
}
