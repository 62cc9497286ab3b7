// The second half of a key change (core/changeset/key_change.hpp) lacks the columns PostgreSQL
// did not send (unchanged TOAST) under REPLICA IDENTITY DEFAULT/INDEX. They are read from the
// table, by the new key, on the catalog connection (README, "Key changes").
#pragma once

#include <libpq-fe.h>

#include "core/changeset/changeset.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::source {

// Reads the columns `added` lists in unchanged_toast from its table, WHERE the key columns equal
// `added`'s new key, and fills them in (changeset::fill_column): the values the row with that
// key holds at the time of the read. When no row has that key any more, or the table or a
// column no longer exists under its name, nothing is filled and the columns stay listed.
// Returns the result the filled values point into: keep it until the event is encoded. Throws
// PgError for any other failure (a lost connection, a timeout, a missing privilege).
PgResultPtr read_missing_columns(PGconn* conn, changeset::Changeset& added);

}  // namespace pgcs::source
