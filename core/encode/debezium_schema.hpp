// Kafka Connect schemas of Debezium's PostgreSQL events as JsonConverter serialises them
// (`"schemas.enable": true`): a column's field, the key struct, the value envelope
// (`<topic>.Envelope`: before, after, source, transaction, op, ts_ms, ts_us, ts_ns).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/encode/debezium_types.hpp"
#include "core/encode/value_writer.hpp"

namespace pgcs::encode::debezium {

struct SchemaField {
    std::string_view name;
    const ColumnType* type = nullptr;
    bool optional = true;
};

// {"type":"struct","fields":[...],"optional":false,"name":"<topic>.Key"}
std::string key_schema(std::string_view topic, const std::vector<SchemaField>& fields);

// The envelope of a table's change events, with `fields` as its Value struct.
std::string envelope_schema(std::string_view topic, const std::vector<SchemaField>& fields);

// The schema of a logical decoding message's key and value (io.debezium.connector.postgresql
// .MessageKey and .MessageValue).
std::string message_key_schema();
std::string message_value_schema();

// One field's schema object, "field" last (JsonConverter's order).
void write_field(JsonWriter& w, const ColumnType& type, bool optional, std::string_view name);

}  // namespace pgcs::encode::debezium
