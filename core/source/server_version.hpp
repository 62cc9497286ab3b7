// Which PostgreSQL servers pgchangeset runs against, decided from the server's version number
// alone (PQserverVersion: 170010 for 17.10, 90624 for 9.6.24).
#pragma once

#include <string>

namespace pgcs::source {

// The majors the suite tests: the oldest is the oldest PostgreSQL still supported upstream.
inline constexpr int kOldestSupportedMajor = 14;
inline constexpr int kNewestTestedMajor = 18;

struct ServerVersionVerdict {
    enum class Kind { Supported, Untested, TooOld };
    Kind kind = Kind::Supported;
    std::string message;  // empty when Supported: what to log (Untested) or stop with (TooOld)
};

// "17.10", "13.0", "9.6.24".
std::string server_version_name(int server_version);

// TooOld for 13 and older (end of life upstream; snapshots and streaming need 14), Untested
// for majors newer than the suite covers, Supported for 14..18.
ServerVersionVerdict judge_server_version(int server_version);

}  // namespace pgcs::source
