// civetweb request handlers for the three endpoints.
// https://github.com/civetweb/civetweb/blob/master/docs/api/mg_set_request_handler.md
#include "daemon/metrics_server.hpp"

#include <civetweb.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace pgcs::daemon {

namespace {

bool is_head(mg_connection* conn) {
    return std::strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
}

// HEAD gets the headers GET would get, Content-Length included, and no body (RFC 9110 9.3.2).
int reply(mg_connection* conn, int status, const char* reason, const char* type,
          const std::string& body) {
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              status, reason, type, body.size());
    if (!is_head(conn)) {
        mg_write(conn, body.data(), body.size());
    }
    return status;
}

bool is_get(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    return std::strcmp(info->request_method, "GET") == 0 ||
           std::strcmp(info->request_method, "HEAD") == 0;
}

int handle(mg_connection* conn, void* cbdata, const char* which) {
    const auto* server = static_cast<const MetricsServer*>(cbdata);
    if (const char* auth = mg_get_header(conn, "Authorization");
        server->web().basic_auth() &&
        !config::basic_auth_accepts(server->web(), auth ? auth : "")) {
        mg_printf(conn,
                  "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"pgchangeset\"\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n");
        return 401;
    }
    if (!is_get(conn)) {
        return reply(conn, 405, "Method Not Allowed", "text/plain", "only GET\n");
    }
    if (std::strcmp(which, "metrics") == 0) {
        return reply(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                     server->metrics().render());
    }
    if (std::strcmp(which, "healthz") == 0) {
        return reply(conn, 200, "OK", "text/plain", "ok\n");
    }
    const Metrics& m = server->metrics();
    if (const std::string halted = m.halted_line(); !halted.empty()) {
        return reply(conn, 503, "Service Unavailable", "text/plain", halted);
    }
    if (!m.streaming()) {
        return reply(conn, 503, "Service Unavailable", "text/plain", "not streaming\n");
    }
    if (m.lag_seconds() > server->ready_max_lag_seconds()) {
        char line[128];
        std::snprintf(line, sizeof line, "lag %.1f s over the bound %.1f s\n", m.lag_seconds(),
                      server->ready_max_lag_seconds());
        return reply(conn, 503, "Service Unavailable", "text/plain", line);
    }
    return reply(conn, 200, "OK", "text/plain", "ready\n");
}

int metrics_handler(mg_connection* c, void* d) {
    return handle(c, d, "metrics");
}
int healthz_handler(mg_connection* c, void* d) {
    return handle(c, d, "healthz");
}
int readyz_handler(mg_connection* c, void* d) {
    return handle(c, d, "readyz");
}

// civetweb logs to stderr by default; our own log says what matters.
int quiet_log(const mg_connection* /*conn*/, const char* /*message*/) {
    return 1;
}

// civetweb's OpenSSL context gets the certificate and key of tls_server_config (two files).
int load_certificate(void* ssl_ctx, void* user_data) {
    const auto& web = static_cast<const MetricsServer*>(user_data)->web();
    auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
    return SSL_CTX_use_certificate_chain_file(ctx, web.cert_file.c_str()) == 1 &&
                   SSL_CTX_use_PrivateKey_file(ctx, web.key_file.c_str(), SSL_FILETYPE_PEM) == 1
               ? 1
               : -1;
}

}  // namespace

MetricsServer::MetricsServer(const std::string& listen, const Metrics& metrics,
                             double ready_max_lag_seconds, config::WebConfig web)
    : metrics_(metrics), ready_max_lag_seconds_(ready_max_lag_seconds), web_(std::move(web)) {
    const std::string ports = web_.tls() ? listen + "s" : listen;  // "s": civetweb's TLS port
    if (!listen.empty() && listen.front() == '[' && mg_check_feature(MG_FEATURES_IPV6) == 0) {
        throw std::runtime_error("cannot serve metrics on " + listen +
                                 " (metrics.listen): this build of civetweb has no IPv6; listen "
                                 "on an IPv4 address or a host name, e.g. 127.0.0.1:9187");
    }
    // Each connection holds one of civetweb's worker threads until its request has arrived
    // and been answered. Enough threads that 50 idle or slow clients leave some free, and a
    // request timeout that frees a thread held by a client who does not send its request
    // within 2 s in all (slowloris included); no keep-alive, so an idle client holds nothing
    // once answered. Limits in README.md, "Metrics and health".
    const char* options[] = {"listening_ports",
                             ports.c_str(),
                             "num_threads",
                             "64",
                             "request_timeout_ms",
                             "2000",
                             "enable_keep_alive",
                             "no",
                             "keep_alive_timeout_ms",
                             "500",
                             nullptr};
    mg_init_library(web_.tls() ? MG_FEATURES_TLS : 0);
    mg_callbacks callbacks{};
    callbacks.log_message = quiet_log;
    callbacks.init_ssl = load_certificate;
    ctx_ = mg_start(&callbacks, this, options);
    if (ctx_ == nullptr) {
        mg_exit_library();
        throw std::runtime_error(
            "cannot serve metrics on " + listen +
            (web_.tls() ? " with TLS (metrics.web_config_file): check cert_file and key_file, "
                          "and that libssl.so is installed (Debian's civetweb loads it by that "
                          "name: package libssl-dev); or "
                        : " (metrics.listen): ") +
            "the port is in use or the address is not this host's; choose another or remove "
            "metrics.listen");
    }
    mg_set_request_handler(ctx_, "/metrics$", metrics_handler, this);
    mg_set_request_handler(ctx_, "/healthz$", healthz_handler, this);
    mg_set_request_handler(ctx_, "/readyz$", readyz_handler, this);
}

MetricsServer::~MetricsServer() {
    if (ctx_ != nullptr) {
        mg_stop(ctx_);
        mg_exit_library();
    }
}

}  // namespace pgcs::daemon
