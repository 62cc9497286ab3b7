// Column type -> Debezium's mapping, after PostgresValueConverter.schemaBuilder() (3.6).
#include "core/encode/debezium_types.hpp"

namespace pgcs::encode::debezium {
namespace {

using changeset::Oid;
using changeset::TypeInfo;

// Precision of time/timestamp(tz) from its typmod; 6 when not given.
int time_precision(std::int32_t typmod) {
    return typmod < 0 ? 6 : typmod;
}

ColumnType make(Kind kind, std::string_view semantic = {}) {
    ColumnType t;
    t.kind = kind;
    t.semantic = semantic;
    return t;
}

ColumnType numeric(std::int32_t typmod, const TypeOptions& options) {
    switch (options.decimal) {
        case DecimalMode::String:
            return make(Kind::DecimalString);
        case DecimalMode::Double:
            return make(Kind::DecimalDouble);
        case DecimalMode::Precise:
            break;
    }
    if (typmod < 4) {
        return make(Kind::VariableDecimal);  // numeric without precision: any scale
    }
    ColumnType t = make(Kind::Decimal);
    const std::int32_t m = typmod - 4;
    t.precision = (m >> 16) & 0xffff;
    t.scale = static_cast<std::int16_t>(m & 0xffff);
    return t;
}

ColumnType temporal(Oid oid, std::int32_t typmod, const TypeOptions& options) {
    const bool connect = options.time == TimeMode::Connect;
    const bool millis = connect || time_precision(typmod) <= 3;
    ColumnType t;
    switch (oid) {
        case 1082:
            t = make(Kind::Date);
            break;
        case 1083:
            t = make(millis ? Kind::TimeMillis : Kind::TimeMicros);
            break;
        case 1114:
            t = make(millis ? Kind::TimestampMillis : Kind::TimestampMicros);
            break;
        default:
            return t;
    }
    t.connect_names = connect;
    return t;
}

// A built-in scalar type, by OID; Dropped when Debezium has no mapping for it.
ColumnType scalar(Oid oid, std::int32_t typmod, const TypeOptions& options) {
    switch (oid) {
        case 16:
            return make(Kind::Bool);
        case 21:
            return make(Kind::Int16);
        case 23:
            return make(Kind::Int32);
        case 20:
        case 26:  // oid
            return make(Kind::Int64);
        case 700:
            return make(Kind::Float32);
        case 701:
            return make(Kind::Float64);
        case 1700:
            return numeric(typmod, options);
        case 790: {  // money: Decimal of the money fraction digits
            if (options.decimal == DecimalMode::String) {
                return make(Kind::DecimalString);
            }
            if (options.decimal == DecimalMode::Double) {
                return make(Kind::DecimalDouble);
            }
            ColumnType t = make(Kind::Money);
            t.scale = 2;
            return t;
        }
        case 18:    // "char"
        case 19:    // name
        case 25:    // text
        case 1042:  // bpchar
        case 1043:  // varchar
        case 650:   // cidr
        case 869:   // inet
        case 829:   // macaddr
        case 774:   // macaddr8
        case 3904:  // int4range
        case 3906:  // numrange
        case 3908:  // tsrange
        case 3910:  // tstzrange
        case 3912:  // daterange
        case 3926:  // int8range
            return make(Kind::String);
        case 114:
        case 3802:
            return make(Kind::String, "io.debezium.data.Json");
        case 2950:
            return make(Kind::String, "io.debezium.data.Uuid");
        case 142:
            return make(Kind::String, "io.debezium.data.Xml");
        case 3614:
            return make(Kind::String, "io.debezium.data.Tsvector");
        case 17:
            return make(Kind::Bytes);
        case 1082:
        case 1083:
        case 1114:
            return temporal(oid, typmod, options);
        case 1184: {
            ColumnType t = make(Kind::ZonedTimestamp);
            t.width = time_precision(typmod);
            return t;
        }
        case 1266:
            return make(Kind::ZonedTime);
        case 1186:
            return make(Kind::MicroDuration);
        case 1560:
        case 1562: {
            // bit(1) is a boolean; bit(n) and varbit Bits of their length (varbit without one: 1)
            const int length = typmod < 0 ? 1 : typmod;
            if (length <= 1) {
                return make(Kind::Bit);
            }
            ColumnType t = make(Kind::Bits);
            t.width = length;
            return t;
        }
        case 600:
            return make(Kind::Point);
        default:
            return {};
    }
}

// The element types PostgresValueConverter maps arrays of.
bool array_element_supported(Oid element) {
    switch (element) {
        case 21:
        case 23:
        case 20:
        case 26:
        case 18:
        case 1043:
        case 25:
        case 1042:
        case 869:
        case 650:
        case 829:
        case 774:
        case 3908:
        case 3910:
        case 3912:
        case 3904:
        case 3906:
        case 3926:
        case 1700:
        case 700:
        case 701:
        case 16:
        case 1082:
        case 2950:
        case 3802:
        case 114:
        case 1083:
        case 1266:
        case 1114:
        case 1184:
        case 17:
            return true;
        default:
            return false;
    }
}

ColumnType extension(const TypeInfo& type) {
    if (type.name == "citext" || type.name == "isbn") {
        return make(Kind::String);
    }
    if (type.name == "ltree") {
        return make(Kind::String, "io.debezium.data.Ltree");
    }
    if (type.kind == changeset::ValueKind::Hstore) {
        return make(Kind::Hstore, "io.debezium.data.Json");
    }
    return {};
}

}  // namespace

ColumnType map_column(const changeset::TypeRegistry& registry, const TypeInfo& type,
                      std::int32_t typmod, const TypeOptions& options) {
    if (type.kind == changeset::ValueKind::Array) {
        const TypeInfo* element = registry.find(type.element_oid);
        if (element == nullptr) {
            return {};
        }
        ColumnType t;
        if (element->typtype == 'e') {
            t = make(Kind::String, "io.debezium.data.Enum");
            t.enum_labels = element->enum_labels;
        } else if (changeset::TypeRegistry::builtin(element->oid) != nullptr) {
            if (!array_element_supported(element->oid)) {
                return {};
            }
            t = scalar(element->oid, typmod, options);
            if (t.kind == Kind::Bit || t.kind == Kind::Bits || t.kind == Kind::Point) {
                return {};
            }
        } else {
            t = extension(*element);  // citext[], hstore[], ltree[]; domain arrays are dropped
        }
        t.array = t.kind != Kind::Dropped;
        return t;
    }
    if (changeset::TypeRegistry::builtin(type.oid) != nullptr) {
        return scalar(type.oid, typmod, options);
    }
    switch (type.typtype) {
        case 'e': {
            ColumnType t = make(Kind::String, "io.debezium.data.Enum");
            t.enum_labels = type.enum_labels;
            return t;
        }
        case 'd':
            // A domain maps as its base type through the JDBC type of that base: the types JDBC
            // knows; the PostgreSQL-specific ones (json, uuid, inet, ...) have none and drop.
            switch (type.base_oid) {
                case 16:
                case 21:
                case 23:
                case 20:
                case 700:
                case 701:
                case 1700:
                case 25:
                case 1043:
                case 1042:
                case 17:
                case 1082:
                case 1083:
                case 1114:
                case 1184:
                    return scalar(type.base_oid, typmod, options);
                default:
                    return {};
            }
        default:
            return extension(type);
    }
}

}  // namespace pgcs::encode::debezium
