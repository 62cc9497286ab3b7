// Writes the seed corpus of fuzz_pgoutput: one file per message type (and per layout variant:
// streamed, Stream Abort of streaming 'parallel'), each a selector byte followed by the writer's
// bytes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/pgoutput_fuzz_input.hpp"
#include "support/pgoutput_writer.hpp"

namespace pg = pgcs::pgoutput;

namespace {

struct Seed {
    const char* name;
    pg::Message message;
    pg::DecodeOptions options;
};

std::vector<Seed> seeds() {
    const pg::Tuple row = {{'t', "42"}, {'n', {}}, {'u', {}}, {'b', std::string_view("\0\1", 2)}};
    const pg::Tuple key = {{'t', "42"}, {'n', {}}, {'n', {}}, {'n', {}}};
    const pg::DecodeOptions v1{1, false};
    const pg::DecodeOptions v2{2, false};
    const pg::DecodeOptions v2_stream{2, true};
    const pg::DecodeOptions v4{4, false, true};  // streaming 'parallel'
    return {
        {"begin", pg::Begin{0x16B3748, 742'000'000'000, 731}, v1},
        {"commit", pg::Commit{0, 0x16B3748, 0x16B3778, 742'000'000'001}, v1},
        {"origin", pg::Origin{0x16B3748, "node_a"}, v1},
        {"relation",
         pg::Relation{std::nullopt,
                      16384,
                      "public",
                      "orders",
                      'd',
                      {{true, "id", 23, -1}, {false, "note", 1043, 104}}},
         v1},
        {"type", pg::Type{std::nullopt, 16400, "public", "mood"}, v1},
        {"insert", pg::Insert{std::nullopt, 16384, row}, v1},
        {"update", pg::Update{std::nullopt, 16384, 0, {}, row}, v1},
        {"update_key", pg::Update{std::nullopt, 16384, 'K', key, row}, v1},
        {"update_old", pg::Update{std::nullopt, 16384, 'O', row, row}, v1},
        {"delete", pg::Delete{std::nullopt, 16384, 'K', key}, v1},
        {"truncate", pg::Truncate{std::nullopt, 3, {16384, 16390}}, v1},
        {"message", pg::LogicalMessage{std::nullopt, true, 0x20, "app", "hello"}, v1},
        {"stream_start", pg::StreamStart{900, true}, v2},
        {"stream_stop", pg::StreamStop{}, v2},
        {"stream_commit", pg::StreamCommit{900, 0, 0x3000, 0x3030, 742'000'000'002}, v2},
        {"stream_abort_v2", pg::StreamAbort{900, 901, std::nullopt, std::nullopt}, v2},
        {"stream_abort_v4", pg::StreamAbort{900, 900, 0x4000, 742'000'000'003}, v4},
        {"streamed_relation", pg::Relation{900, 16384, "public", "t", 'f', {{true, "id", 23, -1}}},
         v2_stream},
        {"streamed_insert", pg::Insert{900, 16384, row}, v2_stream},
        {"streamed_update", pg::Update{900, 16384, 'K', key, row}, v2_stream},
        {"streamed_message", pg::LogicalMessage{900, true, 0x20, "app", "x"}, v2_stream},
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    for (const Seed& seed : seeds()) {
        std::vector<std::byte> bytes = pgcs::testing::write(seed.message, seed.options);
        bytes.insert(bytes.begin(), std::byte{pgcs::fuzz::selector_from_options(seed.options)});
        std::ofstream out(dir / seed.name, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        if (!out) {
            std::fprintf(stderr, "cannot write %s\n", (dir / seed.name).c_str());
            return 1;
        }
    }
    return 0;
}
