// The rules of pg_error.hpp; SQLSTATEs: https://www.postgresql.org/docs/15/errcodes-appendix.html
// Only the code decides: the message may be in any language (the server's lc_messages), and
// an error without a code is libpq's own (the network, a closed connection): transient.
#include "core/source/pg_error.hpp"

#include <array>
#include <regex>
#include <string_view>

namespace pgcs::source {

namespace {

bool in_class(std::string_view sqlstate, std::string_view cls) {
    return sqlstate.substr(0, 2) == cls;
}

struct Rule {
    std::string_view sqlstate;  // exact, or a two-character class
    PgErrorOrigin origin;       // Statement: any origin
    std::string_view advice;
};

constexpr std::string_view kReplicationAdvice =
    "the server refused replication to this user: grant the REPLICATION attribute (ALTER ROLE "
    "<user> REPLICATION); on Amazon RDS and Aurora, GRANT rds_replication TO <user>; on Cloud "
    "SQL, ALTER USER <user> WITH REPLICATION; on Azure, ALTER ROLE <user> REPLICATION (README, "
    "\"Managed PostgreSQL and least privilege\"). In plain PostgreSQL membership in a role that "
    "has REPLICATION does not pass it on";

// The first rule that matches gives the advice; exact codes come before their class.
constexpr std::array kPermanent{
    Rule{"28P01", PgErrorOrigin::Statement,
         "check the user and password (postgres.conninfo, postgres.password_file)"},
    Rule{"28000", PgErrorOrigin::Statement,
         "the server refused this user: check that the role exists and may log in (LOGIN), and "
         "that pg_hba.conf allows it from this host to this database (logical replication "
         "connections use the database's lines, not the `replication` ones)"},
    Rule{"28", PgErrorOrigin::Statement,
         "check the user and its authentication method in pg_hba.conf"},
    Rule{"3D000", PgErrorOrigin::Statement,
         "check the database named in postgres.conninfo; create it or fix the name"},
    Rule{"42501", PgErrorOrigin::ReplicationConnect, kReplicationAdvice},
    Rule{"42501", PgErrorOrigin::Statement,
         "grant the missing privilege the message names (README, \"Managed PostgreSQL and "
         "least privilege\", lists each one: REPLICATION, SELECT on the tables, the publication, "
         "the snapshot progress table)"},
    Rule{"55000", PgErrorOrigin::Statement,
         "PostgreSQL refused because an object is not in the state needed, as the message "
         "says: a replication slot invalidated (max_slot_wal_keep_size; its changes are lost: "
         "drop it and snapshot again), wal_level not logical (set it in postgresql.conf and "
         "restart PostgreSQL), or a slot of another database"},
    Rule{"42704", PgErrorOrigin::Statement,
         "an object the message names does not exist: a publication (create it, or let "
         "pgchangeset create it: postgres.create_publication), or the replication slot (gone: "
         "changes after its last position are lost; snapshot again after creating a new slot; "
         "pgchangeset never creates one silently)"},
};

bool matches(const Rule& r, std::string_view sqlstate, PgErrorOrigin origin) {
    const bool code =
        sqlstate == r.sqlstate || (r.sqlstate.size() == 2 && in_class(sqlstate, r.sqlstate));
    return code && (r.origin == PgErrorOrigin::Statement || r.origin == origin);
}

}  // namespace

PgErrorClass classify_pg_error(std::string_view sqlstate, PgErrorOrigin origin) {
    PgErrorClass c;
    c.transient = true;
    if (!sqlstate.empty()) {
        for (const Rule& r : kPermanent) {
            if (matches(r, sqlstate, origin)) {
                c.transient = false;
                c.advice = r.advice;
                break;
            }
        }
    }
    c.connection_lost = sqlstate.empty() || in_class(sqlstate, "08") ||  // connection_exception
                        origin != PgErrorOrigin::Statement;
    c.retry_statement = c.connection_lost || in_class(sqlstate, "57") ||  // operator_intervention
                        sqlstate == "40001" ||                            // serialization_failure
                        sqlstate == "40P01";                              // deadlock_detected
    return c;
}

std::string tls_refusal_advice(std::string_view libpq_message) {
    struct TlsRule {
        std::string_view text;  // a part of libpq's or OpenSSL's message
        std::string_view advice;
    };
    static constexpr std::array kRules{
        TlsRule{"but SSL was required",
                "the server does not offer TLS and sslmode in postgres.conninfo requires it "
                "(pgchangeset never falls back to plaintext then): enable ssl on the server, or "
                "check host and port"},
        TlsRule{"does not match host name",
                "the server's certificate does not name the host in postgres.conninfo: connect "
                "with a name the certificate lists (host=), or give the server a certificate "
                "for this name"},
        TlsRule{"certificate verify failed",
                "the server's certificate does not verify against sslrootcert: point sslrootcert "
                "at the CA that signed it (or check that the certificate is still valid)"},
        TlsRule{"alert certificate expired",
                "the server refused the client certificate as expired: renew sslcert"},
        TlsRule{"alert",
                "the server refused the TLS handshake, most often the client certificate "
                "(sslcert, sslkey): use one signed by a CA the server trusts (ssl_ca_file), valid "
                "today"},
        TlsRule{"certificate",
                "a certificate or key named in postgres.conninfo (sslcert, sslkey, "
                "sslrootcert) cannot be used, as the message says: fix the file or "
                "the setting"},
        TlsRule{"private key",
                "the private key named in postgres.conninfo (sslkey) cannot be "
                "used, as the message says: fix the file, its mode (0600) or the "
                "setting"},
    };
    for (const TlsRule& r : kRules) {
        if (libpq_message.find(r.text) != std::string_view::npos) {
            return std::string(r.advice);
        }
    }
    return "";
}

std::string sqlstate_of_connection_error(std::string_view verbose_message) {
    // libpq's pqBuildErrorMessage3: "%s:  " (severity), then in verbose mode "%s: " (SQLSTATE).
    static const std::regex kCode(":  ([0-9A-Z]{5}): ");
    std::string found;
    const std::string text(verbose_message);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kCode);
         it != std::sregex_iterator(); ++it) {
        found = (*it)[1].str();
    }
    return found;
}

std::string without_location_lines(std::string_view verbose_message) {
    // "LOCATION:  auth_failed, auth.c:334" (or without the function: "auth.c:334").
    static const std::regex kLocation(
        R"(^[^\n:]+:  ([A-Za-z_][A-Za-z0-9_]*, )?[A-Za-z0-9_.-]+\.c:[0-9]+$)");
    std::string out;
    std::size_t start = 0;
    while (start < verbose_message.size()) {
        std::size_t end = verbose_message.find('\n', start);
        if (end == std::string_view::npos) {
            end = verbose_message.size();
        }
        const std::string line(verbose_message.substr(start, end - start));
        if (!std::regex_match(line, kLocation)) {
            out += line;
            if (end < verbose_message.size()) {
                out += '\n';
            }
        }
        start = end + 1;
    }
    return out;
}

}  // namespace pgcs::source
