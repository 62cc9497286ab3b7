// The rules of pg_error.hpp; SQLSTATEs: https://www.postgresql.org/docs/15/errcodes-appendix.html
// Connection failures carry no SQLSTATE in libpq, so their message text is matched (libpq and
// server messages are English unless lc_messages says otherwise; unknown text counts as
// transient).
#include "core/source/pg_error.hpp"

#include <array>
#include <string_view>

namespace pgcs::source {

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

bool in_class(std::string_view sqlstate, std::string_view cls) {
    return sqlstate.substr(0, 2) == cls;
}

struct Rule {
    std::string_view sqlstate;  // exact, or a two-character class
    std::string_view text;      // matched when the SQLSTATE is unknown
    std::string_view advice;
};

constexpr std::array kPermanent{
    Rule{"28", "password authentication failed",
         "check the user and password (postgres.conninfo, postgres.password_file)"},
    Rule{"28", "no pg_hba.conf entry",
         "allow this host/user in pg_hba.conf (for both the database and replication)"},
    Rule{"28", "authentication failed",
         "check the user and its authentication method in pg_hba.conf"},
    Rule{"3D000", "does not exist",
         "check the database (and user) named in postgres.conninfo; create it or fix the name"},
    Rule{sqlstate::kInsufficientPrivilege, "must be superuser or replication role",
         "grant the REPLICATION attribute: ALTER ROLE <user> REPLICATION"},
    Rule{sqlstate::kInsufficientPrivilege, "permission denied",
         "grant the missing privilege (SELECT on the tables, CREATE on the database for the "
         "publication, or REPLICATION)"},
    Rule{"55000", "wal_level", "set wal_level = logical in postgresql.conf and restart PostgreSQL"},
    Rule{"42704", "publication",
         "create the publication, or let pgchangeset create it (postgres.create_publication)"},
    Rule{"42704", "replication slot",
         "the replication slot is gone: changes after its last position are lost. Snapshot "
         "again after creating a new slot; pgchangeset never creates one silently"},
    Rule{"", "can no longer get changes",
         "the replication slot was invalidated (max_slot_wal_keep_size): its changes are lost. "
         "Drop it and snapshot again"},
};

// Whether the daemon must stop, and what the operator should do then.
PgErrorClass permanent_or_transient(std::string_view sqlstate, std::string_view message) {
    if (!sqlstate.empty()) {
        // A known SQLSTATE is permanent; the rule whose text also matches gives the advice.
        const Rule* first = nullptr;
        for (const Rule& r : kPermanent) {
            const bool match =
                !r.sqlstate.empty() && (sqlstate == r.sqlstate ||
                                        (r.sqlstate.size() == 2 && in_class(sqlstate, r.sqlstate)));
            if (match && contains(message, r.text)) {
                return {false, std::string(r.advice)};
            }
            if (match && first == nullptr) {
                first = &r;
            }
        }
        if (first != nullptr) {
            return {false, std::string(first->advice)};
        }
    }
    for (const Rule& r : kPermanent) {
        if ((sqlstate.empty() || r.sqlstate.empty()) && contains(message, r.text)) {
            return {false, std::string(r.advice)};
        }
    }
    return {true, ""};
}

}  // namespace

PgErrorClass classify_pg_error(std::string_view sqlstate, std::string_view message) {
    PgErrorClass c = permanent_or_transient(sqlstate, message);
    c.connection_lost = sqlstate.empty() || in_class(sqlstate, "08");     // connection_exception
    c.retry_statement = c.connection_lost || in_class(sqlstate, "57") ||  // operator_intervention
                        sqlstate == "40001" ||                            // serialization_failure
                        sqlstate == "40P01";                              // deadlock_detected
    return c;
}

}  // namespace pgcs::source
