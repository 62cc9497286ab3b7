// bytea values: PostgreSQL's hex text (bytea_output=hex) -> a base64 JSON string.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// "\x0102ff" -> "AQL/". Throws ValueFormatError.
void write_bytea(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
