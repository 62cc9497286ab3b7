// JsonConverter.asJsonSchema() of Debezium's schemas: type, fields or items, optional, name,
// version, doc, parameters, default, then "field" for a struct's field.
#include "core/encode/debezium_schema.hpp"

#include <rapidjson/stringbuffer.h>

namespace pgcs::encode::debezium {
namespace {

struct Semantic {
    std::string_view type;
    std::string_view name;  // empty: none
    std::string_view doc;
};

Semantic semantic_of(const ColumnType& t) {
    switch (t.kind) {
        case Kind::Dropped:
            break;
        case Kind::Bool:
        case Kind::Bit:
            return {"boolean", {}, {}};
        case Kind::Int16:
            return {"int16", {}, {}};
        case Kind::Int32:
            return {"int32", {}, {}};
        case Kind::Int64:
            return {"int64", {}, {}};
        case Kind::Float32:
            return {"float", {}, {}};
        case Kind::Float64:
        case Kind::DecimalDouble:
            return {"double", {}, {}};
        case Kind::Decimal:
        case Kind::Money:
            return {"bytes", "org.apache.kafka.connect.data.Decimal", {}};
        case Kind::VariableDecimal:
            return {"struct", "io.debezium.data.VariableScaleDecimal", "Variable scaled decimal"};
        case Kind::DecimalString:
            return {"string", {}, {}};
        case Kind::String:
        case Kind::Hstore:
            return {"string", t.semantic, {}};
        case Kind::Bytes:
            return {"bytes", {}, {}};
        case Kind::Date:
            return {
                "int32",
                t.connect_names ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date",
                {}};
        case Kind::TimeMillis:
            return {
                "int32",
                t.connect_names ? "org.apache.kafka.connect.data.Time" : "io.debezium.time.Time",
                {}};
        case Kind::TimeMicros:
            return {"int64", "io.debezium.time.MicroTime", {}};
        case Kind::TimestampMillis:
            return {"int64",
                    t.connect_names ? "org.apache.kafka.connect.data.Timestamp"
                                    : "io.debezium.time.Timestamp",
                    {}};
        case Kind::TimestampMicros:
            return {"int64", "io.debezium.time.MicroTimestamp", {}};
        case Kind::ZonedTimestamp:
            return {"string", "io.debezium.time.ZonedTimestamp", {}};
        case Kind::ZonedTime:
            return {"string", "io.debezium.time.ZonedTime", {}};
        case Kind::MicroDuration:
            return {"int64", "io.debezium.time.MicroDuration", {}};
        case Kind::Bits:
            return {"bytes", "io.debezium.data.Bits", {}};
        case Kind::Point:
            return {"struct", "io.debezium.data.geometry.Point", "Geometry (POINT)"};
    }
    return {"string", {}, {}};
}

void str(JsonWriter& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void simple_field(JsonWriter& w, std::string_view type, bool optional, std::string_view name) {
    w.StartObject();
    w.Key("type");
    str(w, type);
    w.Key("optional");
    w.Bool(optional);
    w.Key("field");
    str(w, name);
    w.EndObject();
}

// The body of a schema object after "type" (and "fields"/"items"): optional ... parameters.
void write_tail(JsonWriter& w, const ColumnType& t, const Semantic& s, bool optional) {
    w.Key("optional");
    w.Bool(optional);
    if (!s.name.empty()) {
        w.Key("name");
        str(w, s.name);
        w.Key("version");
        w.Int(1);
    }
    if (!s.doc.empty()) {
        w.Key("doc");
        str(w, s.doc);
    }
    if (t.kind == Kind::Decimal || t.kind == Kind::Money) {
        w.Key("parameters");
        w.StartObject();
        w.Key("scale");
        str(w, std::to_string(t.scale));
        if (t.kind == Kind::Decimal && t.precision > 0) {
            w.Key("connect.decimal.precision");
            str(w, std::to_string(t.precision));
        }
        w.EndObject();
    } else if (t.kind == Kind::Bits) {
        w.Key("parameters");
        w.StartObject();
        w.Key("length");
        str(w, std::to_string(t.width));
        w.EndObject();
    } else if (t.semantic == "io.debezium.data.Enum") {
        w.Key("parameters");
        w.StartObject();
        w.Key("allowed");
        str(w, t.enum_labels);
        w.EndObject();
    }
}

// A scalar schema (no "field"), for an array's items or inside write_field().
void write_scalar_body(JsonWriter& w, const ColumnType& t, bool optional) {
    const Semantic s = semantic_of(t);
    w.Key("type");
    str(w, s.type);
    if (t.kind == Kind::VariableDecimal) {
        w.Key("fields");
        w.StartArray();
        simple_field(w, "int32", false, "scale");
        simple_field(w, "bytes", false, "value");
        w.EndArray();
    } else if (t.kind == Kind::Point) {
        w.Key("fields");
        w.StartArray();
        simple_field(w, "double", false, "x");
        simple_field(w, "double", false, "y");
        simple_field(w, "bytes", true, "wkb");
        simple_field(w, "int32", true, "srid");
        w.EndArray();
    }
    write_tail(w, t, s, optional);
}

// A struct schema in JsonConverter's key order: type, fields (written by `fields`), optional,
// name, version (when above 0), field (when named).
struct StructInfo {
    bool optional = false;
    std::string_view name;
    int version = 0;
    std::string_view field;
};

template <typename Fields>
void write_struct_schema(JsonWriter& w, const StructInfo& info, Fields&& fields) {
    w.StartObject();
    w.Key("type");
    str(w, "struct");
    w.Key("fields");
    w.StartArray();
    fields();
    w.EndArray();
    w.Key("optional");
    w.Bool(info.optional);
    w.Key("name");
    str(w, info.name);
    if (info.version > 0) {
        w.Key("version");
        w.Int(info.version);
    }
    if (!info.field.empty()) {
        w.Key("field");
        str(w, info.field);
    }
    w.EndObject();
}

void write_struct(JsonWriter& w, const std::vector<SchemaField>& fields, bool optional,
                  std::string_view name, int version, std::string_view field) {
    write_struct_schema(w, {optional, name, version, field}, [&] {
        for (const SchemaField& f : fields) {
            write_field(w, *f.type, f.optional, f.name);
        }
    });
}

void optional_string(JsonWriter& w, std::string_view name, bool optional = true) {
    simple_field(w, "string", optional, name);
}

void write_source(JsonWriter& w) {
    write_struct_schema(w, {false, "io.debezium.connector.postgresql.Source", 1, "source"}, [&] {
        optional_string(w, "version", false);
        optional_string(w, "connector", false);
        optional_string(w, "name", false);
        simple_field(w, "int64", false, "ts_ms");
        w.StartObject();
        w.Key("type");
        str(w, "string");
        w.Key("optional");
        w.Bool(true);
        w.Key("name");
        str(w, "io.debezium.data.Enum");
        w.Key("version");
        w.Int(1);
        w.Key("parameters");
        w.StartObject();
        w.Key("allowed");
        str(w,
            "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental");
        w.EndObject();
        w.Key("default");
        str(w, "false");
        w.Key("field");
        str(w, "snapshot");
        w.EndObject();
        optional_string(w, "db", false);
        optional_string(w, "sequence");
        simple_field(w, "int64", true, "ts_us");
        simple_field(w, "int64", true, "ts_ns");
        optional_string(w, "schema", false);
        optional_string(w, "table", false);
        simple_field(w, "int64", true, "txId");
        simple_field(w, "int64", true, "lsn");
        simple_field(w, "int64", true, "xmin");
        optional_string(w, "origin");
        simple_field(w, "int64", true, "origin_lsn");
    });
}

void write_transaction(JsonWriter& w) {
    write_struct_schema(w, {true, "event.block", 1, "transaction"}, [&] {
        simple_field(w, "string", false, "id");
        simple_field(w, "int64", false, "total_order");
        simple_field(w, "int64", false, "data_collection_order");
    });
}

std::string text_of(const rapidjson::StringBuffer& buf) {
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace

void write_field(JsonWriter& w, const ColumnType& type, bool optional, std::string_view name) {
    w.StartObject();
    if (type.array) {
        w.Key("type");
        str(w, "array");
        w.Key("items");
        w.StartObject();
        ColumnType element = type;
        element.array = false;
        write_scalar_body(w, element, true);
        w.EndObject();
        w.Key("optional");
        w.Bool(optional);
    } else {
        write_scalar_body(w, type, optional);
    }
    if (!name.empty()) {
        w.Key("field");
        str(w, name);
    }
    w.EndObject();
}

std::string key_schema(std::string_view topic, const std::vector<SchemaField>& fields) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_struct(w, fields, false, std::string(topic) + ".Key", 0, {});
    return text_of(buf);
}

std::string envelope_schema(std::string_view topic, const std::vector<SchemaField>& fields) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    const std::string value = std::string(topic) + ".Value";
    const std::string envelope = std::string(topic) + ".Envelope";
    write_struct_schema(w, {false, envelope, 2, {}}, [&] {
        write_struct(w, fields, true, value, 0, "before");
        write_struct(w, fields, true, value, 0, "after");
        write_source(w);
        write_transaction(w);
        simple_field(w, "string", false, "op");
        simple_field(w, "int64", true, "ts_ms");
        simple_field(w, "int64", true, "ts_us");
        simple_field(w, "int64", true, "ts_ns");
    });
    return text_of(buf);
}

std::string message_key_schema() {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_struct_schema(w, {false, "io.debezium.connector.postgresql.MessageKey", 1, {}},
                        [&] { optional_string(w, "prefix"); });
    return text_of(buf);
}

std::string message_value_schema() {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_struct_schema(w, {false, "io.debezium.connector.postgresql.MessageValue", 1, {}}, [&] {
        simple_field(w, "string", false, "op");
        simple_field(w, "int64", true, "ts_ms");
        write_source(w);
        write_transaction(w);
        write_struct_schema(w, {true, "io.debezium.connector.postgresql.Message", 1, "message"},
                            [&] {
                                optional_string(w, "prefix");
                                simple_field(w, "bytes", true, "content");
                            });
    });
    return text_of(buf);
}

}  // namespace pgcs::encode::debezium
