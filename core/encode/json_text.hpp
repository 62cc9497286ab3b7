// JSON checks: RFC 8259's number grammar (float8's text), a validator for json/jsonb text, and
// the writer that embeds a json/jsonb value verbatim.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// The JSON number grammar (RFC 8259 section 6), any magnitude, as the whole of `s`.
bool is_json_number(std::string_view s);

// A json or jsonb value as itself (surrounding whitespace dropped). Throws ValueFormatError.
void write_json(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
