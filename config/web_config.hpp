// metrics.web_config_file: TLS and basic authentication for the metrics endpoint, in the format
// of the Prometheus exporters' web configuration
// (https://prometheus.io/docs/prometheus/latest/configuration/https/), the part pgchangeset
// supports:
//   tls_server_config:
//     cert_file: server.crt      # PEM certificate (chain); relative to the web config's folder
//     key_file: server.key       # PEM private key
//   basic_auth_users:
//     prometheus: $2y$10$...     # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
// Either section may be left out. Any other key is refused by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgcs::config {

struct WebConfig {
    std::string cert_file;  // empty: plain HTTP
    std::string key_file;
    std::vector<std::pair<std::string, std::string>> basic_auth_users;  // user, bcrypt hash

    bool tls() const { return !cert_file.empty(); }
    bool basic_auth() const { return !basic_auth_users.empty(); }
};

// Parses the text of a web config file; relative paths start from `dir`. On a mistake returns
// what is wrong and what to do (and leaves `out` unspecified).
std::optional<std::string> parse_web_config(std::string_view yaml, const std::string& dir,
                                            WebConfig& out);

// True when `authorization` (an HTTP Authorization header, "Basic base64(user:password)") names
// a user of `web` whose bcrypt hash the password matches (crypt_r, libcrypt).
bool basic_auth_accepts(const WebConfig& web, std::string_view authorization);

// Why civetweb cannot serve TLS on this host, or std::nullopt when it can. Debian 12's civetweb
// (1.15) loads OpenSSL at run time by the name libssl.so (package libssl-dev) and was built for
// the OpenSSL 1.1 API: with OpenSSL 3 its SSL_get_peer_certificate is missing and civetweb calls
// a null pointer on the first HTTPS request. Checked once the web config asks for TLS, so that
// check-config and run refuse it (exit 2) instead of a crash.
std::optional<std::string> civetweb_tls_problem();

// True when `host` (of metrics.listen) is a loopback address or localhost.
bool is_loopback_host(std::string_view host);

}  // namespace pgcs::config
