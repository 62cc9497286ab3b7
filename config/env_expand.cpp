// `${VAR}` substitution for configuration values; see env_expand.hpp.
// libpq's connection string syntax: https://www.postgresql.org/docs/15/libpq-connect.html
// (34.1.1.1 keyword/value, 34.1.1.2 URIs; conninfo_parse() in fe-connect.c is the reference).
#include "config/env_expand.hpp"

#include <cstdio>

namespace pgcs::config::detail {
namespace {

bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_valid_name(std::string_view name) {
    if (name.empty() || !is_name_start(name.front())) {
        return false;
    }
    for (char c : name) {
        if (!is_name_start(c) && !(c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

// A run of the text as written, or one variable's value.
struct Piece {
    std::string text;
    bool from_env = false;
};

std::vector<Piece> split(std::string_view text, const EnvLookup& env,
                         std::vector<std::string>& errors) {
    std::vector<Piece> pieces;
    auto literal = [&](std::string_view s) {
        if (pieces.empty() || pieces.back().from_env) {
            pieces.push_back(Piece{});
        }
        pieces.back().text += s;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        std::string_view rest = text.substr(i);
        if (rest.starts_with("$${")) {
            literal("${");
            i += 3;
            continue;
        }
        if (!rest.starts_with("${")) {
            literal(text.substr(i, 1));
            ++i;
            continue;
        }
        std::size_t close = rest.find('}', 2);
        if (close == std::string_view::npos) {
            errors.emplace_back(
                "'${' is not closed; write '${NAME}' for an environment variable, or '$${' for a "
                "literal '${'");
            literal(rest);
            break;
        }
        std::string name(rest.substr(2, close - 2));
        if (!is_valid_name(name)) {
            errors.push_back("'${" + name +
                             "}' is not a valid environment variable reference: a name has "
                             "letters, digits and underscores and does not start with a "
                             "digit; write '$${' for a literal '${'");
        } else if (std::optional<std::string> value = env(name)) {
            pieces.push_back(Piece{std::move(*value), true});
        } else {
            errors.push_back("environment variable " + name +
                             " is not set; set it, or write '$${' for a literal '${'");
        }
        i += close + 1;
    }
    return pieces;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Writes a keyword=value connection string, following libpq's parser through the text as
// written so that each variable is escaped for the place it stands in.
class KeywordValueWriter {
  public:
    void literal(std::string_view text) {
        for (char c : text) {
            put(c);
        }
    }

    void variable(std::string_view value) {
        if (value.empty()) {
            pending_empty_ = pending_empty_ || state_ == State::ValueStart;
            return;
        }
        if (state_ == State::Keyword) {
            literal(value);  // connection-string text by intent
            return;
        }
        pending_empty_ = false;
        std::size_t i = 0;
        if (escape_) {  // a `\` written just before the reference escapes its first character
            out_ += value[i++];
            escape_ = false;
        }
        const bool quoted = state_ == State::Quoted;
        for (; i < value.size(); ++i) {
            const char c = value[i];
            if (c == '\\' || c == '\'' || (!quoted && is_space(c))) {
                out_ += '\\';
            }
            out_ += c;
        }
        if (state_ == State::ValueStart) {
            state_ = State::Unquoted;
        }
    }

    std::string finish() {
        if (pending_empty_) {
            out_ += "''";
        }
        return std::move(out_);
    }

  private:
    enum class State { Keyword, ValueStart, Unquoted, Quoted };

    void put(char c) {
        if (pending_empty_) {
            pending_empty_ = false;
            if (is_space(c)) {
                out_ += "''";
                state_ = State::Keyword;
            }
        }
        out_ += c;
        if (escape_) {
            escape_ = false;
            return;
        }
        switch (state_) {
            case State::Keyword:
                if (c == '=') {
                    state_ = State::ValueStart;
                }
                break;
            case State::ValueStart:
                if (c == '\'') {
                    state_ = State::Quoted;
                } else if (!is_space(c)) {
                    state_ = State::Unquoted;
                    escape_ = c == '\\';
                }
                break;
            case State::Unquoted:
                if (is_space(c)) {
                    state_ = State::Keyword;
                }
                escape_ = c == '\\';
                break;
            case State::Quoted:
                if (c == '\'') {
                    state_ = State::Keyword;
                }
                escape_ = c == '\\';
                break;
        }
    }

    State state_ = State::Keyword;
    bool escape_ = false;         // the previous character was a `\` inside a value
    bool pending_empty_ = false;  // an empty variable where the value starts
    std::string out_;
};

// Percent-encodes every byte but RFC 3986's unreserved characters.
std::string percent_encode(std::string_view value) {
    std::string out;
    for (char c : value) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            out += hex;
        }
    }
    return out;
}

}  // namespace

EnvExpansion expand_env(std::string_view text, const EnvLookup& env) {
    EnvExpansion out;
    for (const Piece& piece : split(text, env, out.errors)) {
        out.value += piece.text;
    }
    return out;
}

EnvExpansion expand_conninfo(std::string_view text, const EnvLookup& env) {
    EnvExpansion out;
    std::vector<Piece> pieces = split(text, env, out.errors);
    if (text.starts_with("postgresql://") || text.starts_with("postgres://")) {
        for (const Piece& piece : pieces) {
            out.value += piece.from_env ? percent_encode(piece.text) : piece.text;
        }
        return out;
    }
    KeywordValueWriter writer;
    for (const Piece& piece : pieces) {
        if (piece.from_env) {
            writer.variable(piece.text);
        } else {
            writer.literal(piece.text);
        }
    }
    out.value = writer.finish();
    return out;
}

}  // namespace pgcs::config::detail
