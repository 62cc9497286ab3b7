// `pgchangeset history`; see history_query.hpp.
#include "core/apply/history_query.hpp"

#include <rapidjson/document.h>

#include <vector>

#include "core/apply/history_version.hpp"
#include "core/apply/mirror_sql.hpp"
#include "core/source/pg_connection.hpp"

namespace pgcs::apply {
namespace {

constexpr int kExitNoHistory = 1;
constexpr int kExitUsage = 2;

EventOp op_of(const std::string& name) {
    for (EventOp o :
         {EventOp::Added, EventOp::Modified, EventOp::Deleted, EventOp::Truncated, EventOp::Read}) {
        if (changeset::op_name(o) == name) {
            return o;
        }
    }
    return EventOp::Added;
}

}  // namespace

int run_history_query(const HistoryRequest& request, std::ostream& out, std::ostream& err) {
    rapidjson::Document key;
    key.Parse(request.key_json.data(), request.key_json.size());  // not SSE2's 16-byte scan
    if (key.HasParseError() || !key.IsObject() || key.ObjectEmpty()) {
        err << "pgchangeset: --key '" << request.key_json
            << "' is not a JSON object of the row's key columns; give it as the events' key, "
               "e.g. --key '{\"id\":42}'\n";
        return kExitUsage;
    }
    const std::size_t dot = request.table.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == request.table.size()) {
        err << "pgchangeset: --table '" << request.table << "' is not SCHEMA.TABLE\n";
        return kExitUsage;
    }
    const std::string schema = request.table.substr(0, dot);
    const std::string table = request.table.substr(dot + 1);
    source::PgConnPtr conn;
    try {
        conn = source::connect({request.conninfo, "", "pgchangeset-history"}, false);
    } catch (const std::exception& e) {
        err << "pgchangeset: cannot connect to the history database (sink.conninfo '"
            << source::mask_conninfo(request.conninfo) << "'): " << e.what() << "\n";
        return kExitNoHistory;
    }
    try {
        source::exec(conn.get(), "SET TimeZone = 'UTC'");  // --as-of without a zone is UTC
        if (!request.as_of.empty()) {
            try {
                source::exec(conn.get(), "SELECT $1::timestamptz", {request.as_of});
            } catch (const std::exception&) {
                err << "pgchangeset: --as-of '" << request.as_of
                    << "' is not a timestamp; give one as PostgreSQL reads timestamptz, e.g. "
                       "'2026-11-23 10:00:00Z' (without a zone: UTC)\n";
                return kExitUsage;
            }
        }
        const source::PgResultPtr found = source::exec(
            conn.get(),
            "SELECT history_table, array_to_json(columns)::text FROM pgchangeset_history.tables "
            "WHERE to_regclass('pgchangeset_history.tables') IS NOT NULL AND source_schema = $1 "
            "AND source_table = $2",
            {schema, table});
        if (PQntuples(found.get()) != 1) {
            err << "pgchangeset: the history database keeps no table " << request.table
                << " (pgchangeset_history.tables has no such row); check --table, and that "
                   "`pgchangeset sink` in mode: history has applied an event of it\n";
            return kExitUsage;
        }
        const std::vector<std::string> columns = parse_name_list(PQgetvalue(found.get(), 0, 1));
        std::string sql =
            "SELECT op, row::text, array_to_json(json_null)::text, changed::text, "
            "to_char(commit_ts, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), commit_lsn::text, seq, xid "
            "FROM pgchangeset_history." +
            quote_ident(PQgetvalue(found.get(), 0, 0)) + " WHERE key = $1::jsonb";
        std::vector<std::string> params{request.key_json};
        if (!request.as_of.empty()) {
            sql +=
                " AND valid_from <= $2::timestamptz AND (valid_to IS NULL OR valid_to > "
                "$2::timestamptz)";
            params.push_back(request.as_of);
        }
        const source::PgResultPtr r =
            source::exec(conn.get(), sql + " ORDER BY commit_lsn, seq", params);
        std::vector<HistoryVersion> versions;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            HistoryVersion v;
            v.op = op_of(PQgetvalue(r.get(), i, 0));
            v.has_row = PQgetisnull(r.get(), i, 1) == 0;
            if (v.has_row) {
                v.row = parse_json_row(PQgetvalue(r.get(), i, 1),
                                       parse_name_list(PQgetvalue(r.get(), i, 2)), columns);
            }
            if (PQgetisnull(r.get(), i, 3) == 0) {
                v.changed_json = format_changed(PQgetvalue(r.get(), i, 3), columns);
            }
            v.commit_ts = PQgetvalue(r.get(), i, 4);
            v.position = {parse_lsn(PQgetvalue(r.get(), i, 5)).value_or(0),
                          std::stoull(PQgetvalue(r.get(), i, 6))};
            v.xid = std::stoull(PQgetvalue(r.get(), i, 7));
            versions.push_back(std::move(v));
        }
        if (!request.as_of.empty()) {
            // The version valid at that time; the last one of its transaction if it has several.
            if (!versions.empty()) {
                versions.erase(versions.begin(), versions.end() - 1);
            }
            if (!versions.empty() &&
                (versions[0].op == EventOp::Deleted || versions[0].op == EventOp::Truncated)) {
                versions.clear();
            }
        }
        if (versions.empty()) {
            err << "pgchangeset: " << request.table << " has no history for the key "
                << request.key_json << (request.as_of.empty() ? "" : " as of " + request.as_of)
                << "\n";
            return kExitNoHistory;
        }
        if (request.terminal) {
            out << history_table(versions);
        } else {
            for (const HistoryVersion& v : versions) {
                out << history_line(v) << "\n";
            }
        }
    } catch (const std::exception& e) {
        err << "pgchangeset: reading the history failed: " << e.what() << "\n";
        return kExitNoHistory;
    }
    return 0;
}

}  // namespace pgcs::apply
