// pgchangeset-devbroker: a local Kafka-protocol broker for development and tests.
//
// It wraps librdkafka's mock cluster (rdkafka_mock.h): every record lives in this process's
// memory and is gone when it exits. It is NOT a Kafka broker for production.
//
// Signals are handled synchronously: they are blocked in every thread (the mask is set before
// librdkafka starts its threads, which inherit it) and the main thread takes them with
// sigwait(), so no work ever runs inside a signal handler.

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kProg = "pgchangeset-devbroker";

// librdkafka's mock cluster gives every auto-created topic this many partitions; librdkafka
// 2.0.2 has no public call to change it.
constexpr int kMockDefaultPartitions = 4;

constexpr const char* kUsage =
    "Usage: pgchangeset-devbroker --bootstrap-file FILE [--brokers N] [--control-file FILE]\n"
    "\n"
    "Runs a local Kafka-protocol broker (librdkafka's mock cluster) on 127.0.0.1 for\n"
    "development and tests.\n"
    "\n"
    "  IT KEEPS ALL DATA IN MEMORY ONLY: every topic and record is lost when it exits.\n"
    "  It is for development and tests only. Do NOT use it in production.\n"
    "\n"
    "Options:\n"
    "  --bootstrap-file FILE  required; once the brokers listen, write their addresses\n"
    "                         (host:port[,host:port...], no trailing newline) to FILE,\n"
    "                         atomically (temporary file + rename). Removed on exit.\n"
    "  --brokers N            number of brokers, ids 1..N (default 1, at most 32)\n"
    "  --control-file FILE    fault commands, read and applied on SIGHUP (see below)\n"
    "  -h, --help             print this help and exit\n"
    "\n"
    "Topics are created automatically the first time a client asks for them, with 4\n"
    "partitions (librdkafka's mock cluster has no way to change that) and replication\n"
    "factor min(3, brokers).\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT  stop and exit 0\n"
    "  SIGUSR1          take every broker down (connections closed and refused)\n"
    "  SIGUSR2          bring every broker back up\n"
    "  SIGHUP           apply the commands in --control-file, one a line:\n"
    "                     produce-errors N ERROR [ERROR...]  the next N Produce requests\n"
    "                                    fail with these errors in turn (librdkafka names,\n"
    "                                    e.g. NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT)\n"
    "                     leader TOPIC PARTITION BROKER      move a partition's leader\n"
    "                     rtt BROKER MS                      add MS of latency to a broker\n"
    "                     topic NAME PARTITIONS              create a topic with more partitions\n"
    "                                    than the automatic 4 (each keeps at most 5 MB of\n"
    "                                    record batches, librdkafka's fixed limit)\n"
    "                     down | up                          every broker down or up\n"
    "                   Each command is logged; a bad line is logged and skipped.\n";

// One line on stderr, prefixed with a UTC timestamp and the program name.
__attribute__((format(printf, 1, 2))) void log_line(const char* fmt, ...) {
    char ts[32] = "";
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    if (gmtime_r(&now, &tm) != nullptr) {
        std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "%s %s: %s\n", ts, kProg, msg);
    std::fflush(stderr);
}

bool parse_int(std::string_view text, int min, int max, int& out) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return false;
    }
    out = value;
    return true;
}

struct Options {
    std::string bootstrap_file;
    std::string control_file;
    int brokers = 1;
};

// Returns -1 to go on, otherwise the exit code.
int parse_args(int argc, char** argv, Options& opt) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        std::string_view name = arg;
        std::string_view value;
        bool has_value = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            has_value = true;
        }
        if (name != "--bootstrap-file" && name != "--brokers" && name != "--control-file") {
            std::fprintf(stderr, "%s: unknown argument '%s'\n\n%s", kProg, argv[i], kUsage);
            return 2;
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s: %s needs a value\n", kProg, argv[i]);
                return 2;
            }
            value = argv[++i];
        }
        if (name == "--bootstrap-file") {
            if (value.empty()) {
                std::fprintf(stderr, "%s: --bootstrap-file needs a file name\n", kProg);
                return 2;
            }
            opt.bootstrap_file = std::string(value);
        } else if (name == "--control-file") {
            opt.control_file = std::string(value);
        } else if (!parse_int(value, 1, 32, opt.brokers)) {
            std::fprintf(stderr, "%s: --brokers must be an integer 1..32, not '%.*s'\n", kProg,
                         static_cast<int>(value.size()), value.data());
            return 2;
        }
    }
    if (opt.bootstrap_file.empty()) {
        std::fprintf(stderr, "%s: --bootstrap-file FILE is required\n\n%s", kProg, kUsage);
        return 2;
    }
    return -1;
}

// Writes `content` to `path` through a temporary file in the same directory and rename(), so a
// reader never sees a partial address.
bool write_atomically(const std::string& path, const std::string& content, std::string& why) {
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        why = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            why = "cannot write " + tmp + ": " + std::strerror(errno);
            close(fd);
            unlink(tmp.c_str());
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        why = "cannot flush " + tmp + ": " + std::strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    if (rename(tmp.c_str(), path.c_str()) != 0) {
        why = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
        unlink(tmp.c_str());
        return false;
    }
    return true;
}

// Removes the bootstrap file on exit, but only if it still holds our addresses (another
// instance may have taken the same path since).
void remove_bootstrap_file(const std::string& path, const std::string& content) {
    std::FILE* f = std::fopen(path.c_str(), "re");
    if (f == nullptr) {
        return;
    }
    std::string seen;
    char buf[512];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        seen.append(buf, n);
    }
    std::fclose(f);
    if (seen == content) {
        unlink(path.c_str());
    }
}

void set_brokers(rd_kafka_mock_cluster_t* mcluster, int brokers, bool up);

// A librdkafka error name ("NOT_LEADER_FOR_PARTITION") -> its code.
bool error_by_name(const std::string& name, rd_kafka_resp_err_t& out) {
    for (int code = -200; code < 200; ++code) {
        const auto err = static_cast<rd_kafka_resp_err_t>(code);
        if (name == rd_kafka_err2name(err)) {
            out = err;
            return true;
        }
    }
    return false;
}

// Applies one --control-file line; returns "" or what is wrong with it.
std::string apply_command(rd_kafka_mock_cluster_t* mcluster, int brokers, const std::string& line) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "produce-errors") {
        int count = 0;
        std::vector<rd_kafka_resp_err_t> errors;
        in >> count;
        for (std::string name; in >> name;) {
            rd_kafka_resp_err_t err{};
            if (!error_by_name(name, err)) {
                return "unknown error name '" + name + "'";
            }
            errors.push_back(err);
        }
        if (count <= 0 || errors.empty()) {
            return "usage: produce-errors N ERROR [ERROR...]";
        }
        std::vector<rd_kafka_resp_err_t> all;
        for (int i = 0; i < count; ++i) {
            all.push_back(errors[static_cast<std::size_t>(i) % errors.size()]);
        }
        rd_kafka_mock_push_request_errors_array(mcluster, 0 /* Produce */, all.size(), all.data());
        return "";
    }
    if (command == "leader") {
        std::string topic;
        int partition = -1;
        int broker = -1;
        if (!(in >> topic >> partition >> broker)) {
            return "usage: leader TOPIC PARTITION BROKER";
        }
        const auto err =
            rd_kafka_mock_partition_set_leader(mcluster, topic.c_str(), partition, broker);
        return err ? std::string(rd_kafka_err2str(err)) : "";
    }
    if (command == "topic") {
        std::string topic;
        int partitions = 0;
        if (!(in >> topic >> partitions) || partitions < 1) {
            return "usage: topic NAME PARTITIONS";
        }
        const auto err =
            rd_kafka_mock_topic_create(mcluster, topic.c_str(), partitions, std::min(3, brokers));
        return err ? std::string(rd_kafka_err2str(err)) : "";
    }
    if (command == "rtt") {
        int broker = -1;
        int ms = -1;
        if (!(in >> broker >> ms)) {
            return "usage: rtt BROKER MS";
        }
        const auto err = rd_kafka_mock_broker_set_rtt(mcluster, broker, ms);
        return err ? std::string(rd_kafka_err2str(err)) : "";
    }
    if (command == "down" || command == "up") {
        set_brokers(mcluster, brokers, command == "up");
        return "";
    }
    return "unknown command '" + command + "'";
}

void apply_control_file(rd_kafka_mock_cluster_t* mcluster, int brokers, const std::string& path) {
    if (path.empty()) {
        log_line("SIGHUP: no --control-file given; nothing to do");
        return;
    }
    std::ifstream in(path);
    if (!in) {
        log_line("SIGHUP: cannot read %s", path.c_str());
        return;
    }
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const std::string problem = apply_command(mcluster, brokers, line);
        if (problem.empty()) {
            log_line("control: %s", line.c_str());
        } else {
            log_line("control: '%s' skipped: %s", line.c_str(), problem.c_str());
        }
    }
}

void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
    // The hosting handle has no bootstrap.servers on purpose: it never connects anywhere.
    if (std::strcmp(fac, "CONFWARN") == 0 && std::strstr(buf, "bootstrap.servers") != nullptr) {
        return;
    }
    log_line("librdkafka[%d] %s: %s", level, fac, buf);
}

void set_brokers(rd_kafka_mock_cluster_t* mcluster, int brokers, bool up) {
    for (int32_t id = 1; id <= brokers; ++id) {
        rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mcluster, id)
                                     : rd_kafka_mock_broker_set_down(mcluster, id);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_line("broker %d: %s failed: %s", static_cast<int>(id), up ? "set_up" : "set_down",
                     rd_kafka_err2str(err));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (int rc = parse_args(argc, argv, opt); rc >= 0) {
        return rc;
    }

    // Block the signals we serve before any thread exists: librdkafka's threads inherit this
    // mask, so the signals can only be taken by sigwait() below.
    sigset_t served;
    sigemptyset(&served);
    sigaddset(&served, SIGTERM);
    sigaddset(&served, SIGINT);
    sigaddset(&served, SIGUSR1);
    sigaddset(&served, SIGUSR2);
    sigaddset(&served, SIGHUP);
    if (int err = pthread_sigmask(SIG_BLOCK, &served, nullptr); err != 0) {
        log_line("pthread_sigmask failed: %s", std::strerror(err));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (rd_kafka_conf_set(conf, "client.id", kProg, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        log_line("configuration failed: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    // The handle only hosts the mock cluster; it never produces anything itself.
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == nullptr) {
        log_line("cannot create the librdkafka handle: %s", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t* mcluster = rd_kafka_mock_cluster_new(rk, opt.brokers);
    if (mcluster == nullptr) {
        log_line("cannot create the mock cluster (%d brokers)", opt.brokers);
        rd_kafka_destroy(rk);
        return 1;
    }

    std::string why;
    // The mock brokers listen as soon as rd_kafka_mock_cluster_new() returns.
    const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
    if (!write_atomically(opt.bootstrap_file, bootstraps, why)) {
        log_line("%s", why.c_str());
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 1;
    }
    log_line(
        "listening on %s (%d broker(s), %d partition(s) per auto-created topic, librdkafka %s, "
        "pid %d); in memory only, for development and tests, NOT for production",
        bootstraps.c_str(), opt.brokers, kMockDefaultPartitions, rd_kafka_version_str(),
        static_cast<int>(getpid()));

    bool down = false;
    for (;;) {
        int sig = 0;
        if (int err = sigwait(&served, &sig); err != 0) {
            log_line("sigwait failed: %s", std::strerror(err));
            break;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            log_line("%s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (sig == SIGUSR1) {
            set_brokers(mcluster, opt.brokers, false);
            down = true;
            log_line("SIGUSR1: all %d broker(s) DOWN", opt.brokers);
        } else if (sig == SIGUSR2) {
            set_brokers(mcluster, opt.brokers, true);
            down = false;
            log_line("SIGUSR2: all %d broker(s) UP", opt.brokers);
        } else if (sig == SIGHUP) {
            apply_control_file(mcluster, opt.brokers, opt.control_file);
        } else {
            log_line("signal %d ignored (brokers are %s)", sig, down ? "down" : "up");
        }
    }

    remove_bootstrap_file(opt.bootstrap_file, bootstraps);
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    log_line("stopped");
    return 0;
}
