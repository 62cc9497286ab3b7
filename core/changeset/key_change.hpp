// An UPDATE that changes the row's key becomes two events, so that a consumer applying each
// partition on its own converges (README, "Key changes"): `deleted` under the old key, then
// `added` under the new key. Pure: Changeset in, Changesets out.
#pragma once

#include <cstdint>

#include "core/changeset/changeset.hpp"

namespace pgcs::changeset {

// Whether a built UPDATE changes its Kafka key: PostgreSQL sent the old row (a 'K' key tuple
// under REPLICA IDENTITY DEFAULT/INDEX, the whole 'O' row under FULL) and a key column's value
// differs between it and the new row. False for a table without a key.
bool changes_key(const Changeset& update);

// The two halves of a key change (`update` must satisfy changes_key):
// - `deleted`: op Deleted, before = the update's old row (the key columns, or the whole row
//   under FULL), after null, keyed by the old row;
// - `added`: op Added, before = the same old row, after = the whole new row, keyed by the new
//   row, `changed` null. Columns PostgreSQL did not send (unchanged TOAST) come from the old
//   row when it holds them (FULL); `unchanged_toast` lists only the ones still missing, which
//   fill_column() may supply afterwards.
// Values stay views into the update's message.
void split_key_change(const Changeset& update, Changeset& deleted, Changeset& added);

// Supplies a column `added` lacks (listed in its unchanged_toast): sets it in `after` and
// removes it from the list. No effect for a column that is not listed.
void fill_column(Changeset& added, std::uint16_t column, Value value);

}  // namespace pgcs::changeset
