// The command line's parse and its checks; main() prints the errors and exits 2.
#include "config/command_line.hpp"

#include <algorithm>

namespace pgcs::config {

const char* const kUsage =
    "usage:\n"
    "  pgchangeset run --config FILE [--log-level LEVEL]   stream until SIGTERM/SIGINT\n"
    "  pgchangeset check-config --config FILE              validate a config; exit 0 or 2\n"
    "  pgchangeset sink --config FILE                      apply the topics to sink.conninfo\n"
    "  pgchangeset history --config FILE --table SCHEMA.TABLE --key JSON [--as-of TIME]\n"
    "                                                      a row's versions kept by a history "
    "sink\n"
    "  pgchangeset status --config FILE                    slot, lag, publication; exit 0 or 1\n"
    "  pgchangeset snapshot --config FILE --table SCHEMA.TABLE [--where 'SQL condition']\n"
    "                                                      ask the running daemon to snapshot a\n"
    "                                                      table (again) while it streams\n"
    "  pgchangeset --version\n"
    "\n"
    "LEVEL: trace, debug, info, warn, error, critical, off (overrides log.level).\n"
    "Exit codes: 0 stopped on request or config valid, 1 runtime failure, 2 bad usage or "
    "config.\n";

namespace {

bool parse_args(const std::vector<std::string>& a, CommandLine& args, std::string& error) {
    if (a.empty()) {
        error = "no command given";
        return false;
    }
    args.command = a[0];
    for (std::size_t i = 1; i < a.size(); ++i) {
        auto value = [&](const char* name) -> bool {
            if (i + 1 >= a.size()) {
                error = std::string(name) + " needs a value";
                return false;
            }
            return true;
        };
        if (a[i] == "--config" || a[i] == "-c") {
            if (!value("--config")) {
                return false;
            }
            args.config = a[++i];
        } else if (a[i].rfind("--config=", 0) == 0) {
            args.config = a[i].substr(9);
        } else if (a[i] == "--table") {
            if (!value("--table")) {
                return false;
            }
            args.table = a[++i];
        } else if (a[i] == "--where") {
            if (!value("--where")) {
                return false;
            }
            args.where = a[++i];
        } else if (a[i] == "--key" || a[i] == "--as-of") {
            if (!value(a[i].c_str())) {
                return false;
            }
            (a[i] == "--key" ? args.key : args.as_of) = a[i + 1];
            ++i;
        } else if (a[i] == "--log-level") {
            if (!value("--log-level")) {
                return false;
            }
            args.log_level = a[++i];
        } else if (a[i].rfind("--log-level=", 0) == 0) {
            args.log_level = a[i].substr(12);
        } else {
            error = "unknown argument '" + a[i] + "'";
            return false;
        }
    }
    return true;
}

// Which options the command takes: "" when the line is consistent, else the message.
std::string check(const CommandLine& args) {
    if (args.command != "run" && args.command != "check-config" && args.command != "status" &&
        args.command != "snapshot" && args.command != "sink" && args.command != "history") {
        return "pgchangeset: unknown command '" + args.command + "'\n" + kUsage;
    }
    if (args.config.empty()) {
        return "pgchangeset: " + args.command + " needs --config FILE\n";
    }
    const bool history = args.command == "history";
    if (history != (!args.key.empty()) || (!history && !args.as_of.empty()) ||
        (history && args.table.empty())) {
        return "pgchangeset: --key and --as-of belong to the history command, which needs "
               "--table SCHEMA.TABLE and --key JSON\n";
    }
    if ((args.command == "snapshot") != (!args.table.empty() && !history) ||
        (!args.where.empty() && args.command != "snapshot")) {
        return "pgchangeset: --table and --where belong to the snapshot command, which "
               "needs --table SCHEMA.TABLE\n";
    }
    static const std::vector<std::string> kLevels{"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    if (!args.log_level.empty() &&
        std::find(kLevels.begin(), kLevels.end(), args.log_level) == kLevels.end()) {
        return "pgchangeset: --log-level must be one of trace, debug, info, warn, error, "
               "critical, off\n";
    }
    return "";
}

}  // namespace

CommandLineResult parse_command_line(const std::vector<std::string>& args) {
    CommandLineResult result;
    if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
        result.kind = CommandLineResult::Kind::Version;
        return result;
    }
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
        result.kind = CommandLineResult::Kind::Help;
        return result;
    }
    std::string error;
    if (!parse_args(args, result.line, error)) {
        result.error = "pgchangeset: " + error + "\n" + kUsage;
        return result;
    }
    result.error = check(result.line);
    if (result.error.empty()) {
        result.kind = CommandLineResult::Kind::Command;
    }
    return result;
}

}  // namespace pgcs::config
