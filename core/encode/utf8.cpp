// UTF-8 validation for every string the writer emits: rapidjson's Writer copies bytes as they
// are, so this check is what keeps the output JSON.
#include "core/encode/utf8.hpp"

#include <cstdint>
#include <cstring>

#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {

// With ASCII fast paths: 32 bytes at a time (the compiler vectorises the four words), then 8.
bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    while (p < end) {
        if (end - p >= 32) {
            std::uint64_t w[4];
            std::memcpy(w, p, sizeof w);
            if (((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) == 0) {
                p += 32;
                continue;
            }
        }
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, sizeof word);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int more = 0;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (end - p <= more || p[1] < lo || p[1] > hi) {
            return false;
        }
        for (int i = 2; i <= more; ++i) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
        }
        p += more + 1;
    }
    return true;
}

void write_string(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    if (!is_valid_utf8(text)) {
        fail(type, text, "not valid UTF-8 (the connection's client_encoding must be UTF8)");
    }
    out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace pgcs::encode::detail
