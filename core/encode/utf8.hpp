// UTF-8 validation for every string the writer emits: rapidjson's Writer copies bytes as they
// are, so this check is what keeps the output JSON.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// RFC 3629 UTF-8: no overlongs, surrogates or code points past U+10FFFF.
bool is_valid_utf8(std::string_view s);

// `text` as a JSON string; throws ValueFormatError when it is not valid UTF-8.
void write_string(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
