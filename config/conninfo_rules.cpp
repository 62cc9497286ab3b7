// postgres.conninfo checks; see conninfo_rules.hpp.
#include "config/conninfo_rules.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>
#include <vector>

namespace pgcs::config::detail {
namespace {

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool is_uri(std::string_view s) {
    return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

const std::string kQuoteAdvice =
    "; write keyword=value settings separated by spaces, and put a value with spaces in single "
    "quotes, e.g. password='two words'";

// Where libpq's parser (conninfo_parse in fe-connect.c) stops in a keyword=value string,
// described without quoting anything: libpq's own message would repeat a piece of the string,
// which may be part of a password.
std::string locate_problem(const std::string& s) {
    std::size_t pos = 0;
    std::string previous;  // the keyword before this one
    int setting = 0;
    while (true) {
        while (pos < s.size() && is_space(s[pos])) {
            ++pos;
        }
        if (pos >= s.size()) {
            break;
        }
        ++setting;
        const std::size_t start = pos;
        while (pos < s.size() && !is_space(s[pos]) && s[pos] != '=') {
            ++pos;
        }
        std::string keyword = s.substr(start, pos - start);
        while (pos < s.size() && is_space(s[pos])) {
            ++pos;
        }
        const std::string where = "setting " + std::to_string(setting) + " (at character " +
                                  std::to_string(start + 1) + ")";
        const std::string after_password =
            previous == "password" ? ", right after the password's value," : "";
        if (pos >= s.size() || s[pos] != '=') {
            std::string message = where;
            message += after_password;
            message += " has no '=' after its keyword";
            return message + kQuoteAdvice;
        }
        ++pos;
        while (pos < s.size() && is_space(s[pos])) {
            ++pos;
        }
        if (pos < s.size() && s[pos] == '\'') {
            ++pos;
            while (pos < s.size() && s[pos] != '\'') {
                pos += (s[pos] == '\\' && pos + 1 < s.size()) ? 2 : 1;
            }
            if (pos >= s.size()) {
                return "the value of " + where +
                       " opens a single quote that is never closed; "
                       "close it with '";
            }
            ++pos;
        } else {
            while (pos < s.size() && !is_space(s[pos])) {
                pos += (s[pos] == '\\' && pos + 1 < s.size()) ? 2 : 1;
            }
        }
        // An unknown keyword: name it, unless it may be a piece of an unquoted password.
        std::string probe = keyword + "=x";
        char* err = nullptr;
        PQconninfoOption* opts = PQconninfoParse(probe.c_str(), &err);
        PQfreemem(err);
        if (opts == nullptr) {
            if (!after_password.empty()) {
                return where + after_password +
                       " is not a libpq keyword; if the password contains spaces, put it in "
                       "single quotes";
            }
            return "'" + keyword +
                   "' is not a libpq connection keyword (e.g. host, port, dbname, user, "
                   "password, sslmode); see PostgreSQL's \"Parameter Key Words\"";
        }
        PQconninfoFree(opts);
        previous = std::move(keyword);
    }
    return "libpq cannot parse it" + kQuoteAdvice;
}

// The keywords whose values libpq checks only when it connects, and their accepted values.
struct Choice {
    std::string_view keyword;
    std::vector<std::string_view> values;
};

const std::vector<Choice>& choices() {
    static const std::vector<Choice> kChoices = {
        {"sslmode", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
        {"gssencmode", {"disable", "prefer", "require"}},
        {"channel_binding", {"disable", "prefer", "require"}},
        {"target_session_attrs",
         {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}},
    };
    return kChoices;
}

using OptionsPtr = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

}  // namespace

std::optional<std::string> check_conninfo(const std::string& conninfo) {
    char* err = nullptr;
    OptionsPtr opts(PQconninfoParse(conninfo.c_str(), &err), &PQconninfoFree);
    PQfreemem(err);  // never shown: it may quote a piece of the password
    if (!opts) {
        if (is_uri(conninfo)) {
            return std::string(
                "is not a connection URI libpq can parse; write "
                "postgresql://user@host:port/dbname?param=value, percent-encode special "
                "characters (a password's too), or use keyword=value settings");
        }
        return "is not a connection string libpq can parse: " + locate_problem(conninfo);
    }
    for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr) {
            continue;
        }
        const std::string_view keyword(o->keyword);
        const std::string_view value(o->val);
        if (keyword == "replication") {
            return std::string(
                "sets replication: the daemon opens its replication connection itself "
                "(replication=database) and needs normal connections too; remove it");
        }
        for (const Choice& choice : choices()) {
            if (keyword == choice.keyword && std::find(choice.values.begin(), choice.values.end(),
                                                       value) == choice.values.end()) {
                std::string list;
                for (std::string_view v : choice.values) {
                    list += (list.empty() ? "" : ", ") + std::string(v);
                }
                return std::string(keyword) + "='" + std::string(value) +
                       "' is not one of libpq's values: " + list;
            }
        }
    }
    return std::nullopt;
}

}  // namespace pgcs::config::detail
