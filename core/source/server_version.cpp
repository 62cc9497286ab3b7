// Which PostgreSQL servers pgchangeset runs against.
#include "core/source/server_version.hpp"

namespace pgcs::source {

namespace {

int major_of(int server_version) {
    // From 10 on the major is the first part alone; before it, the first two (9.6).
    return server_version >= 100000 ? server_version / 10000 : server_version / 100;
}

std::string supported_list() {
    return "PostgreSQL " + std::to_string(kOldestSupportedMajor) + " to " +
           std::to_string(kNewestTestedMajor);
}

}  // namespace

std::string server_version_name(int server_version) {
    if (server_version >= 100000) {
        return std::to_string(server_version / 10000) + "." +
               std::to_string(server_version % 10000);
    }
    return std::to_string(server_version / 10000) + "." +
           std::to_string(server_version / 100 % 100) + "." + std::to_string(server_version % 100);
}

ServerVersionVerdict judge_server_version(int server_version) {
    const std::string name = server_version_name(server_version);
    if (server_version < kOldestSupportedMajor * 10000) {
        return {ServerVersionVerdict::Kind::TooOld,
                "PostgreSQL " + name + " is not supported: pgchangeset supports " +
                    supported_list() + " (" + std::to_string(kOldestSupportedMajor - 1) +
                    " and older are past their end of life and lack what pgchangeset needs: "
                    "streaming of large transactions, logical decoding messages for snapshots, "
                    "binary mode). Upgrade the server, or point postgres.conninfo at one of "
                    "those versions"};
    }
    if (major_of(server_version) > kNewestTestedMajor) {
        return {ServerVersionVerdict::Kind::Untested,
                "PostgreSQL " + name + " is newer than the versions pgchangeset is tested with (" +
                    supported_list() + "): it should work, but has not been tested"};
    }
    return {};
}

}  // namespace pgcs::source
