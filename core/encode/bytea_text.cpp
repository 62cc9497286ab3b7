// bytea values: PostgreSQL's hex text (bytea_output=hex) -> a base64 JSON string, encoded with
// OpenSSL straight into the output text; only large values need a heap buffer.
#include "core/encode/bytea_text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "core/encode/text_scan.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode::detail {

// "\x0102ff" (bytea_output=hex) -> "AQL/" as a JSON string, base64-encoded chunk by chunk with
// OpenSSL straight into the output text.
void write_bytea(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text) {
    if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
        fail(type, text, "expected \\x and pairs of hex digits (bytea_output=hex)");
    }
    const std::string_view hex = text.substr(2);
    const std::size_t bytes = hex.size() / 2;
    const std::size_t encoded = (bytes + 2) / 3 * 4;
    std::array<char, 512> small;
    std::string large;
    char* json = small.data();
    if (encoded + 2 > small.size()) {
        large.resize(encoded + 2);
        json = large.data();
    }
    json[0] = '"';
    std::size_t written = 1;
    std::array<unsigned char, 3 * 256> chunk;  // a multiple of 3: no padding between chunks
    for (std::size_t done = 0; done < bytes;) {
        const std::size_t n = std::min(chunk.size(), bytes - done);
        for (std::size_t i = 0; i < n; ++i) {
            const int high = kHexValue[static_cast<unsigned char>(hex[2 * (done + i)])];
            const int low = kHexValue[static_cast<unsigned char>(hex[2 * (done + i) + 1])];
            if (high < 0 || low < 0) {
                fail(type, text, "not a hex digit");
            }
            chunk[i] = static_cast<unsigned char>(high << 4 | low);
        }
        // EVP_EncodeBlock writes a trailing NUL too: it lands where the next chunk or the
        // closing quote goes.
        written += static_cast<std::size_t>(EVP_EncodeBlock(
            reinterpret_cast<unsigned char*>(json + written), chunk.data(), static_cast<int>(n)));
        done += n;
    }
    json[written++] = '"';
    out.RawValue(json, written, rapidjson::kStringType);
}

}  // namespace pgcs::encode::detail
