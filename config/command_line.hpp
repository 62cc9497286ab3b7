// pgchangeset's command line: the argument vector -> the command and its options, checked
// (which options each command takes, --log-level's levels). No file is read here.
#pragma once

#include <string>
#include <vector>

namespace pgcs::config {

// The usage text, printed by --help and after a bad command line.
extern const char* const kUsage;

struct CommandLine {
    std::string command;  // run, check-config, sink, history, status, snapshot
    std::string config;
    std::string log_level;  // "" when not given
    std::string table;
    std::string where;
    std::string key;
    std::string as_of;
};

struct CommandLineResult {
    enum class Kind { Command, Version, Help, Error };
    Kind kind = Kind::Error;
    CommandLine line;   // when Command
    std::string error;  // when Error: the whole text for stderr (exit status 2)
};

// The arguments after the program's name.
CommandLineResult parse_command_line(const std::vector<std::string>& args);

}  // namespace pgcs::config
