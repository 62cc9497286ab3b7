// hstore values: hstore_out's text -> a JSON object of string (or null) values.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// "a"=>"1", "b"=>NULL -> {"a":"1","b":null}. Throws ValueFormatError.
void write_hstore(JsonWriter& out, const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
