// Arrays: array_out's text -> a JSON array nested per dimension, each element written by
// write_text_value as its element type prescribes.
#pragma once

#include <string_view>

#include "core/changeset/type_registry.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::detail {

// "{1,NULL,3}" -> [1,null,3]; "[0:1]={a,b}" -> ["a","b"]. Throws ValueFormatError.
void write_array(JsonWriter& out, const changeset::TypeRegistry& registry,
                 const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode::detail
