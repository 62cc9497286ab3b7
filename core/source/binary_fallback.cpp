// A binary value converted to text by the server; see binary_fallback.hpp.
#include "core/source/binary_fallback.hpp"

#include <stdexcept>

#include "core/source/pg_connection.hpp"

namespace pgcs::source {

std::string server_text_of_binary(PGconn* conn, std::uint32_t type_oid,
                                  std::span<const std::byte> bytes) {
    const char* values[] = {reinterpret_cast<const char*>(bytes.data())};
    const int lengths[] = {static_cast<int>(bytes.size())};
    const int formats[] = {1};
    const Oid types[] = {type_oid};
    PgResultPtr r = exec_params(conn, "SELECT $1", 1, types, values, lengths, formats);
    if (PQntuples(r.get()) != 1) {
        throw std::runtime_error("the server could not convert a binary value of type OID " +
                                 std::to_string(type_oid) + " to text");
    }
    return std::string(PQgetvalue(r.get(), 0, 0),
                       static_cast<std::size_t>(PQgetlength(r.get(), 0, 0)));
}

}  // namespace pgcs::source
