// Stream values laid over a snapshot row; see row_patch.hpp.
#include "core/snapshot/row_patch.hpp"

#include <stdexcept>

namespace pgcs::snapshot {

namespace {

// A cursor over JSON text that finds where values end, without decoding them (the text is the
// encoder's own: valid JSON; anything else is reported, not guessed at).
class Scanner {
  public:
    explicit Scanner(std::string_view text) : s_(text) {}

    // Calls each(name, value) for the members of the object at the start of the text, name
    // being the member's JSON string as written (quotes included); stops at the object's end
    // or at the end of the text (an object cut short before a member).
    template <typename Each>
    void members(Each&& each) {
        space();
        expect('{');
        space();
        if (peek() == '}') {
            return;
        }
        while (pos_ < s_.size()) {
            const std::size_t name_from = pos_;
            string();
            const std::string_view name = s_.substr(name_from, pos_ - name_from);
            space();
            expect(':');
            space();
            const std::size_t value_from = pos_;
            value();
            each(name, s_.substr(value_from, pos_ - value_from));
            space();
            if (pos_ == s_.size() || peek() == '}') {
                return;
            }
            expect(',');
            space();
        }
    }

  private:
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    [[noreturn]] void fail(const char* what) const {
        throw std::invalid_argument(std::string("not a JSON object: ") + what + " at byte " +
                                    std::to_string(pos_));
    }
    void expect(char c) {
        if (peek() != c) {
            fail((std::string("expected '") + c + "'").c_str());
        }
        ++pos_;
    }
    void space() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }
    void string() {
        expect('"');
        for (; pos_ < s_.size(); ++pos_) {
            if (s_[pos_] == '\\') {
                ++pos_;  // the escaped character, whatever it is
            } else if (s_[pos_] == '"') {
                ++pos_;
                return;
            }
        }
        fail("unterminated string");
    }
    void value() {
        const char c = peek();
        if (c == '"') {
            string();
        } else if (c == '{' || c == '[') {
            nested();
        } else {  // a number, true, false or null
            const std::size_t from = pos_;
            while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' &&
                   s_[pos_] != ' ' && s_[pos_] != '\n' && s_[pos_] != '\r' && s_[pos_] != '\t') {
                ++pos_;
            }
            if (pos_ == from) {
                fail("expected a value");
            }
        }
    }
    // An object or array: to its matching bracket (strings may hold brackets).
    void nested() {
        int depth = 0;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c == '"') {
                string();
                continue;
            }
            ++pos_;
            if (c == '{' || c == '[') {
                ++depth;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return;
            }
        }
        fail("unterminated object or array");
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

bool is_name(std::string_view token, std::string_view name) {
    return token.size() == name.size() + 2 && token.front() == '"' && token.back() == '"' &&
           token.substr(1, name.size()) == name;
}

}  // namespace

std::optional<std::string_view> json_member(std::string_view object, std::string_view name) {
    std::optional<std::string_view> found;
    Scanner(object).members([&](std::string_view member, std::string_view value) {
        if (!found && is_name(member, name)) {
            found = value;
        }
    });
    return found;
}

void RowPatch::overlay(std::string_view after) {
    Scanner(after).members([&](std::string_view name, std::string_view value) {
        for (Column& c : columns_) {
            if (c.name == name) {
                c.value.assign(value);
                return;
            }
        }
        columns_.push_back({std::string(name), std::string(value)});
    });
}

void RowPatch::apply(std::string_view read_value, std::string& out) const {
    const std::optional<std::string_view> after = json_member(read_value, "after");
    if (!after || after->empty() || after->front() != '{') {
        throw std::invalid_argument("a snapshot row's value has no \"after\" object");
    }
    const auto from = static_cast<std::size_t>(after->data() - read_value.data());
    out.append(read_value.substr(0, from));
    out.push_back('{');
    bool first = true;
    Scanner(*after).members([&](std::string_view name, std::string_view value) {
        for (const Column& c : columns_) {
            if (c.name == name) {
                value = c.value;
                break;
            }
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        out.append(name);
        out.push_back(':');
        out.append(value);
    });
    out.push_back('}');
    out.append(read_value.substr(from + after->size()));
}

}  // namespace pgcs::snapshot
