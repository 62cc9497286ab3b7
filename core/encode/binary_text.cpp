// Binary send formats -> PostgreSQL's text output. Formats: the types' *send functions in
// PostgreSQL's src/backend/utils/adt; text layouts: their *out functions under the session
// settings in the header. Checked against the server by the binary-mode integration test,
// which compares every value with text mode.
#include "core/encode/binary_text.hpp"

#include <cstring>
#include <limits>

#include "core/encode/binary_reader.hpp"
#include "core/encode/value_error.hpp"

namespace pgcs::encode {
namespace {

using binary::append_date;
using binary::append_float;
using binary::append_int;
using binary::append_interval;
using binary::append_numeric;
using binary::append_time_of_day;
using binary::append_timestamp;
using binary::append_zone;
using binary::Reader;

using changeset::Oid;
using changeset::TypeInfo;
using changeset::ValueKind;

constexpr Oid kBool = 16, kBytea = 17, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
              kOid = 26, kJson = 114, kXml = 142, kFloat4 = 700, kFloat8 = 701, kUnknown = 705,
              kBpchar = 1042, kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114,
              kTimestampTz = 1184, kInterval = 1186, kTimeTz = 1266, kNumeric = 1700, kUuid = 2950,
              kJsonb = 3802;

void append_hex(std::string& out, std::span<const std::byte> b) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::byte x : b) {
        const auto v = std::to_integer<unsigned>(x);
        out += kHex[v >> 4];
        out += kHex[v & 15];
    }
}

void append_uuid(Reader& r, std::string& out) {
    const auto b = r.take(16);
    r.expect_end();
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        append_hex(out, b.subspan(i, 1));
    }
}

void append_text(Reader& r, std::string& out) {
    const auto b = r.take(r.left());
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
}

// array_out's quoting: an element is quoted when empty, "NULL" in any case, or holding a
// quote, backslash, brace, the delimiter or white space.
void append_array_element(std::string& out, std::string_view e, char delimiter) {
    bool quote = e.empty() ||
                 (e.size() == 4 && (e[0] == 'N' || e[0] == 'n') && (e[1] == 'U' || e[1] == 'u') &&
                  (e[2] == 'L' || e[2] == 'l') && (e[3] == 'L' || e[3] == 'l'));
    for (char c : e) {
        if (c == '"' || c == '\\' || c == '{' || c == '}' || c == delimiter || c == ' ' ||
            c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        out += e;
        return;
    }
    out += '"';
    for (char c : e) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

bool convert(const changeset::TypeRegistry& registry, const TypeInfo& type,
             std::span<const std::byte> bytes, std::string& out);

bool append_array(const changeset::TypeRegistry& registry, const TypeInfo& type, Reader& r,
                  std::string& out) {
    const std::int32_t ndim = r.i32();
    r.i32();  // has-null flag
    const auto element_oid = static_cast<Oid>(r.u(4));
    if (ndim < 0 || ndim > 6) {
        r.bad("bad array dimension count");
    }
    if (ndim == 0) {
        out += "{}";
        return true;
    }
    const TypeInfo* element = registry.find(type.element_oid != 0 ? type.element_oid : element_oid);
    if (element == nullptr) {
        return false;
    }
    std::vector<std::int64_t> dims(static_cast<std::size_t>(ndim));
    std::vector<std::int32_t> lbounds(static_cast<std::size_t>(ndim));
    bool decorate = false;
    std::int64_t total = 1;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        dims[i] = r.i32();
        lbounds[i] = r.i32();
        if (dims[i] < 0) {
            r.bad("negative array dimension");
        }
        total *= dims[i];
        decorate = decorate || lbounds[i] != 1;
        if (total > static_cast<std::int64_t>(r.left())) {
            r.bad("array larger than its bytes");
        }
    }
    if (total == 0) {
        out += "{}";
        r.expect_end();
        return true;
    }
    if (decorate) {
        for (std::size_t i = 0; i < dims.size(); ++i) {
            out += '[';
            append_int(out, lbounds[i]);
            out += ':';
            append_int(out, lbounds[i] + dims[i] - 1);
            out += ']';
        }
        out += '=';
    }
    const char delimiter = type.delimiter;
    std::vector<std::int64_t> index(dims.size(), 0);
    std::string scratch;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        out += '{';
    }
    for (std::int64_t n = 0; n < total; ++n) {
        const std::int32_t len = r.i32();
        if (len == -1) {
            out += "NULL";
        } else {
            if (len < 0) {
                r.bad("bad array element length");
            }
            scratch.clear();
            if (!convert(registry, *element, r.take(static_cast<std::size_t>(len)), scratch)) {
                return false;
            }
            append_array_element(out, scratch, delimiter);
        }
        // Close and reopen braces as the index rolls over, like array_out.
        std::size_t d = dims.size();
        while (d > 0) {
            --d;
            if (++index[d] < dims[d]) {
                out += delimiter;
                for (std::size_t k = d + 1; k < dims.size(); ++k) {
                    out += '{';
                }
                break;
            }
            index[d] = 0;
            out += '}';
        }
    }
    r.expect_end();
    return true;
}

void append_hstore_string(std::string& out, std::span<const std::byte> b) {
    out += '"';
    for (std::byte x : b) {
        const char c = static_cast<char>(x);
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

void append_hstore(Reader& r, std::string& out) {
    const std::int32_t count = r.i32();
    if (count < 0) {
        r.bad("bad hstore pair count");
    }
    for (std::int32_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += ", ";
        }
        const std::int32_t klen = r.i32();
        if (klen < 0) {
            r.bad("hstore key is null");
        }
        append_hstore_string(out, r.take(static_cast<std::size_t>(klen)));
        out += "=>";
        const std::int32_t vlen = r.i32();
        if (vlen == -1) {
            out += "NULL";
        } else if (vlen < 0) {
            r.bad("bad hstore value length");
        } else {
            append_hstore_string(out, r.take(static_cast<std::size_t>(vlen)));
        }
    }
    r.expect_end();
}

bool convert(const changeset::TypeRegistry& registry, const TypeInfo& type,
             std::span<const std::byte> bytes, std::string& out) {
    Reader r(type, bytes);
    if (type.kind == ValueKind::Array) {
        return append_array(registry, type, r, out);
    }
    if (type.kind == ValueKind::Hstore) {
        append_hstore(r, out);
        return true;
    }
    const Oid send = type.send_oid != 0
                         ? type.send_oid
                         : (changeset::TypeRegistry::builtin(type.oid) != nullptr ? type.oid : 0);
    switch (send) {
        case kBool: {
            const auto v = r.u(1);
            r.expect_end();
            out += v != 0 ? 't' : 'f';
            return true;
        }
        case kInt2:
            append_int(out, r.i16());
            r.expect_end();
            return true;
        case kInt4:
            append_int(out, r.i32());
            r.expect_end();
            return true;
        case kInt8:
            append_int(out, r.i64());
            r.expect_end();
            return true;
        case kOid:
            append_int(out, static_cast<std::int64_t>(r.u(4)));
            r.expect_end();
            return true;
        case kFloat4: {
            const auto bits = static_cast<std::uint32_t>(r.u(4));
            r.expect_end();
            float f = 0;
            std::memcpy(&f, &bits, 4);
            append_float(out, f, 6);
            return true;
        }
        case kFloat8: {
            const std::uint64_t bits = r.u(8);
            r.expect_end();
            double f = 0;
            std::memcpy(&f, &bits, 8);
            append_float(out, f, 15);
            return true;
        }
        case kNumeric:
            append_numeric(r, out);
            return true;
        case kText:
        case kVarchar:
        case kBpchar:
        case kName:
        case kUnknown:
        case kXml:
        case kJson:
            append_text(r, out);
            return true;
        case kJsonb: {
            if (r.u(1) != 1) {
                r.bad("unsupported jsonb version");
            }
            append_text(r, out);
            return true;
        }
        case kBytea:
            out += "\\x";
            append_hex(out, r.take(r.left()));
            return true;
        case kUuid:
            append_uuid(r, out);
            return true;
        case kDate: {
            const std::int32_t d = r.i32();
            r.expect_end();
            if (d == std::numeric_limits<std::int32_t>::max()) {
                out += "infinity";
            } else if (d == std::numeric_limits<std::int32_t>::min()) {
                out += "-infinity";
            } else if (append_date(out, d)) {
                out += " BC";
            }
            return true;
        }
        case kTime: {
            const std::int64_t t = r.i64();
            r.expect_end();
            append_time_of_day(out, t);
            return true;
        }
        case kTimeTz: {
            const std::int64_t t = r.i64();
            const std::int32_t zone = r.i32();
            r.expect_end();
            append_time_of_day(out, t);
            append_zone(out, zone);
            return true;
        }
        case kTimestamp:
            append_timestamp(r, out, false);
            return true;
        case kTimestampTz:
            append_timestamp(r, out, true);
            return true;
        case kInterval:
            append_interval(r, out);
            return true;
        default:
            return false;
    }
}

}  // namespace

bool binary_to_text(const changeset::TypeRegistry& registry, const TypeInfo& type,
                    std::span<const std::byte> bytes, std::string& out) {
    const std::size_t mark = out.size();
    if (!convert(registry, type, bytes, out)) {
        out.resize(mark);
        return false;
    }
    return true;
}

}  // namespace pgcs::encode
