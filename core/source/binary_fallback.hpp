// postgres.binary: a value of a type the encoders do not decode from its binary send form is
// converted by the server (its receive, then its output function) on the catalog connection.
#pragma once

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace pgcs::source {

// The text form of `bytes`, the binary send form of a value of type `type_oid`. Throws PgError,
// or std::runtime_error when the server returns no row.
std::string server_text_of_binary(PGconn* conn, std::uint32_t type_oid,
                                  std::span<const std::byte> bytes);

}  // namespace pgcs::source
