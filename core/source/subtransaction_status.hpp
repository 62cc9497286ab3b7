// Which subtransactions of a committed streamed transaction rolled back, in the server's own
// words. PostgreSQL can stream the changes of a subtransaction that later rolls back without
// ever sending its Stream Abort (seen on 14.23 and 15.18, not on 18.4: a subtransaction whose
// changes were all spilled to disk before the slot's confirmed position is not marked as streamed,
// so its abort is not sent). The assembler asks at each Stream Commit instead of trusting the
// stream alone (docs/CORRECTNESS.md, "Subtransactions of streamed transactions").
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <vector>

#include "core/pgoutput/messages.hpp"

namespace pgcs::source {

struct SubtransactionVerdict {
    std::vector<pgoutput::Xid> aborted;  // rolled back: their changes must not be published
    std::vector<pgoutput::Xid> unknown;  // the server no longer keeps their status
};

class SubtransactionStatus {
  public:
    virtual ~SubtransactionStatus() = default;
    // Of `subxids` (subtransactions of one committed transaction), the ones that did not commit.
    // Throws when it cannot ask (the transaction is then not handed out).
    virtual SubtransactionVerdict check(const std::vector<pgoutput::Xid>& subxids) = 0;
};

// Asks the server with pg_xact_status() on a regular (not replication) connection, which works
// on a primary and on a hot standby. Throws PgError when the query fails.
class ServerSubtransactionStatus : public SubtransactionStatus {
  public:
    explicit ServerSubtransactionStatus(std::function<PGconn*()> connection)
        : connection_(std::move(connection)) {}
    SubtransactionVerdict check(const std::vector<pgoutput::Xid>& subxids) override;

  private:
    std::function<PGconn*()> connection_;
};

}  // namespace pgcs::source
