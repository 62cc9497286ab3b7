// libFuzzer target for the pgoutput decoder: any input either decodes or throws DecodeError;
// anything else (another exception, a sanitizer report, a failed invariant) is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "core/pgoutput/decoder.hpp"
#include "fuzz/pgoutput_fuzz_input.hpp"
#include "support/pgoutput_writer.hpp"

namespace {

namespace pg = pgcs::pgoutput;

// Zero copy: every view of the decoded message lies inside the input.
struct ViewsInside {
    std::span<const std::byte> input;

    void check(std::string_view view) const {
        const auto* begin = reinterpret_cast<const char*>(input.data());
        if (view.empty()) {
            return;
        }
        if (view.data() < begin || view.data() + view.size() > begin + input.size()) {
            std::abort();
        }
    }
    void check(const pg::Tuple& tuple) const {
        for (const pg::TupleValue& value : tuple) {
            check(value.data);
        }
    }

    void operator()(const pg::Origin& m) const { check(m.name); }
    void operator()(const pg::Relation& m) const {
        check(m.schema);
        check(m.name);
        for (const pg::Column& column : m.columns) {
            check(column.name);
        }
    }
    void operator()(const pg::Type& m) const {
        check(m.schema);
        check(m.name);
    }
    void operator()(const pg::Insert& m) const { check(m.new_tuple); }
    void operator()(const pg::Update& m) const {
        check(m.old_tuple);
        check(m.new_tuple);
    }
    void operator()(const pg::Delete& m) const { check(m.old_tuple); }
    void operator()(const pg::LogicalMessage& m) const {
        check(m.prefix);
        check(m.content);
    }
    void operator()(const auto&) const {}  // no views
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const pg::DecodeOptions options = pgcs::fuzz::options_from_selector(data[0]);
    const auto input = std::as_bytes(std::span(data + 1, size - 1));
    pg::Message message;
    try {
        message = pg::decode(input, options);
    } catch (const pg::DecodeError&) {
        return 0;  // expected for malformed input
    }
    std::visit(ViewsInside{input}, message);

    // Every field has a fixed or explicit size, so a decoded message re-encodes to exactly as
    // many bytes (only undefined flag bits may differ), and that canonical form is stable.
    const std::vector<std::byte> canonical = pgcs::testing::write(message, options);
    if (canonical.size() != input.size()) {
        std::abort();
    }
    if (pgcs::testing::write(pg::decode(canonical, options), options) != canonical) {
        std::abort();
    }
    return 0;
}
