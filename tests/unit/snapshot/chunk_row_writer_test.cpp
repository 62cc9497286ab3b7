// ChunkRowWriter: an encoded chunk's rows completed at the watermark, dropped rows left out,
// patched rows with the stream's values, each with the watermark transaction's fields and seq.
#include "core/snapshot/chunk_row_writer.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using pgcs::snapshot::ChunkRowWriter;
using PendingChunk = pgcs::snapshot::SnapshotCoordinator::PendingChunk;

namespace {

// Writes only the snapshot pieces, as "<" + row + "|xid=N" + "|seq=N>".
class FakeEncoder : public pgcs::encode::EventEncoder {
  public:
    void set_binary_fallback(pgcs::encode::BinaryFallback) override {}
    bool publishes(pgcs::changeset::Op) const override { return true; }
    void encode(const pgcs::changeset::Changeset&, const pgcs::changeset::EventMeta&) override {}
    std::string_view encode_key(const pgcs::changeset::Changeset&, bool) override { return {}; }
    void encode_message(const pgcs::encode::MessageEvent&) override {}
    bool has_key() const override { return false; }
    std::string_view key() const override { return {}; }
    std::string_view value() const override { return {}; }
    std::string_view row_patch() const override { return {}; }
    void encode_without_meta(const pgcs::changeset::Changeset&) override {}
    void snapshot_open(std::string& out, const pgcs::changeset::RelationInfo&) override {
        out += "<";
    }
    void snapshot_meta_head(std::string& out, const pgcs::changeset::RelationInfo&,
                            const pgcs::changeset::EventMeta& meta) override {
        out += "|xid=" + std::to_string(meta.xid);
    }
    void snapshot_seq(std::string& out, std::uint64_t seq) override {
        out += "|seq=" + std::to_string(seq) + ">";
    }
};

void add_row(PendingChunk& c, const std::string& value) {
    auto& rows = c.chunk.encoded;
    rows.values.insert(rows.values.end(), value.begin(), value.end());
    rows.value_ends.push_back(rows.values.size());
    rows.key_ends.push_back(0);
    c.dropped.push_back(false);
}

}  // namespace

TEST_CASE(
    "chunk row writer: each row gets the transaction's fields and its seq, dropped ones skipped") {
    pgcs::changeset::RelationInfo relation;
    PendingChunk chunk;
    chunk.relation = &relation;
    add_row(chunk, "a");
    add_row(chunk, "b");
    add_row(chunk, "c");
    chunk.dropped[1] = true;
    FakeEncoder encoder;
    ChunkRowWriter writer;
    writer.start(encoder, chunk, {0, 0, 42, 0, 0, 0});
    CHECK(writer.value(0, 7) == std::string_view("<a|xid=42|seq=7>"));
    CHECK_FALSE(writer.value(1, 8));
    CHECK(writer.value(2, 8) == std::string_view("<c|xid=42|seq=8>"));
}

TEST_CASE("chunk row writer: a patched row carries the stream's values") {
    pgcs::changeset::RelationInfo relation;
    PendingChunk chunk;
    chunk.relation = &relation;
    add_row(chunk, R"({"op":"read","after":{"id":7,"counter":1},"changed":null)");
    chunk.patched[0].overlay(R"({"counter":3})");
    FakeEncoder encoder;
    ChunkRowWriter writer;
    writer.start(encoder, chunk, {0, 0, 1, 0, 0, 0});
    CHECK(writer.value(0, 0) ==
          std::string_view(
              R"(<{"op":"read","after":{"id":7,"counter":3},"changed":null|xid=1|seq=0>)"));
}
