// The web config file's rules (web_config.hpp); bcrypt verification by libcrypt's crypt_r.
#include "config/web_config.hpp"

#include <crypt.h>
#include <dlfcn.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>

namespace pgcs::config {

namespace {

std::string resolve(const std::string& path, const std::string& dir) {
    const std::filesystem::path p(path);
    return p.is_relative() ? (std::filesystem::path(dir) / p).string() : path;
}

bool is_bcrypt(std::string_view hash) {
    return hash.size() == 60 && (hash.substr(0, 4) == "$2y$" || hash.substr(0, 4) == "$2b$" ||
                                 hash.substr(0, 4) == "$2a$");
}

// crypt_r of `password` with `hash` as its setting equals `hash` (compared in constant time).
bool bcrypt_matches(const std::string& password, const std::string& hash) {
    auto data = std::make_unique<crypt_data>();  // 32 KiB: not on a civetweb thread's stack
    const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
    if (out == nullptr || std::string_view(out).size() != hash.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < hash.size(); ++i) {
        diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
    }
    return diff == 0;
}

// libcrypt understands the hash: crypt_r gives a hash of the same form, not its "*0" failure.
bool libcrypt_reads(const std::string& hash) {
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_r("", hash.c_str(), data.get());
    return out != nullptr && std::string_view(out).size() == hash.size() &&
           std::string_view(out).substr(0, 7) == std::string_view(hash).substr(0, 7);
}

std::optional<std::string> base64_decode(std::string_view in) {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned int bits = 0;
    int count = 0;
    for (char c : in) {
        if (c == '=') {
            break;
        }
        const auto pos = kAlphabet.find(c);
        if (pos == std::string_view::npos) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<unsigned int>(pos);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

}  // namespace

std::optional<std::string> parse_web_config(std::string_view yaml, const std::string& dir,
                                            WebConfig& out) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        return "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
    }
    if (root.IsNull()) {
        return std::nullopt;  // an empty file: plain HTTP, no authentication
    }
    if (!root.IsMap()) {
        return std::string("the top level must be a map (tls_server_config, basic_auth_users)");
    }
    for (const auto& entry : root) {
        const std::string key = entry.first.as<std::string>();
        const YAML::Node& value = entry.second;
        if (key == "tls_server_config") {
            if (!value.IsMap()) {
                return std::string("tls_server_config must be a map with cert_file and key_file");
            }
            for (const auto& tls : value) {
                const std::string name = tls.first.as<std::string>();
                if ((name != "cert_file" && name != "key_file") || !tls.second.IsScalar()) {
                    return "tls_server_config." + name +
                           " is not supported here: give cert_file and key_file only (PEM "
                           "files; client certificates are not asked for)";
                }
                (name == "cert_file" ? out.cert_file : out.key_file) =
                    resolve(tls.second.as<std::string>(), dir);
            }
            if (out.cert_file.empty() || out.key_file.empty()) {
                return std::string("tls_server_config needs both cert_file and key_file");
            }
        } else if (key == "basic_auth_users") {
            if (!value.IsMap()) {
                return std::string("basic_auth_users must be a map of user: bcrypt hash");
            }
            for (const auto& user : value) {
                const std::string name = user.first.as<std::string>();
                const std::string hash =
                    user.second.IsScalar() ? user.second.as<std::string>() : "";
                if (name.empty() || name.find(':') != std::string::npos) {
                    return "basic_auth_users: '" + name + "' is no user name (empty or with ':')";
                }
                if (!is_bcrypt(hash) || !libcrypt_reads(hash)) {
                    return "basic_auth_users." + name +
                           ": the value is not a bcrypt hash ($2y$, $2b$ or $2a$, 60 "
                           "characters); make one with htpasswd -nBC 10 " +
                           name;
                }
                out.basic_auth_users.emplace_back(name, hash);
            }
        } else {
            return "'" + key +
                   "' is not supported: a web config here has tls_server_config and "
                   "basic_auth_users only";
        }
    }
    return std::nullopt;
}

bool basic_auth_accepts(const WebConfig& web, std::string_view authorization) {
    constexpr std::string_view kScheme = "Basic ";
    if (authorization.substr(0, kScheme.size()) != kScheme) {
        return false;
    }
    const std::optional<std::string> decoded = base64_decode(authorization.substr(kScheme.size()));
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return false;
    }
    const std::string user = decoded->substr(0, colon);
    for (const auto& [name, hash] : web.basic_auth_users) {
        if (name == user) {
            return bcrypt_matches(decoded->substr(colon + 1), hash);
        }
    }
    return false;
}

std::optional<std::string> civetweb_tls_problem() {
    void* ssl = dlopen("libssl.so", RTLD_NOW | RTLD_LOCAL);
    if (ssl == nullptr) {
        return std::string(
            "tls_server_config needs OpenSSL under the name libssl.so, which civetweb loads at "
            "run time and which only the package libssl-dev installs: install it, or leave "
            "tls_server_config out (TLS in front, e.g. a reverse proxy)");
    }
    const bool api_1_1 = dlsym(ssl, "SSL_get_peer_certificate") != nullptr;
    dlclose(ssl);
    if (!api_1_1) {
        return std::string(
            "tls_server_config cannot be served here: this host's civetweb (Debian 12's 1.15) "
            "was built for the OpenSSL 1.1 API and its libssl.so is OpenSSL 3, which lacks "
            "SSL_get_peer_certificate, so civetweb would crash on the first HTTPS request; leave "
            "tls_server_config out and put TLS in front (a reverse proxy), or listen on "
            "127.0.0.1 (basic_auth_users still works)");
    }
    return std::nullopt;
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host.substr(0, 4) == "127.";
}

}  // namespace pgcs::config
