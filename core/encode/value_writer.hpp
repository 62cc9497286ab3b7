// One column value -> its JSON form, per the type table of the changeset contract.
// Text values are PostgreSQL's output functions' text under the session settings the source
// sets (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601, extra_float_digits=3,
// bytea_output=hex).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/changeset/type_registry.hpp"

namespace pgcs::encode {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A value whose text does not have the form its type promises. what() names the type and
// quotes (a prefix of) the value.
class ValueFormatError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Writes the JSON form of `text`, a value of `type` in PostgreSQL's text format.
// `registry` resolves array element types. Throws ValueFormatError.
void write_text_value(JsonWriter& out, const changeset::TypeRegistry& registry,
                      const changeset::TypeInfo& type, std::string_view text);

}  // namespace pgcs::encode
