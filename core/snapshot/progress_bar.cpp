// The snapshot's progress bar; see progress_bar.hpp.
#include "core/snapshot/progress_bar.hpp"

#include <algorithm>
#include <cstdio>

namespace pgcs::snapshot {

std::string progress_bar(std::int64_t done, std::int64_t total, std::size_t left) {
    const int percent = total > 0
                            ? static_cast<int>(std::min<std::int64_t>(100, done * 100 / total))
                            : (left == 0 ? 100 : 0);
    std::string bar(static_cast<std::size_t>(percent / 4), '#');
    bar.resize(25, '.');
    char line[128];
    std::snprintf(line, sizeof line, "snapshot [%s] %3d%%  %lld rows, %zu tables left", bar.c_str(),
                  percent, static_cast<long long>(done), left);
    return line;
}

}  // namespace pgcs::snapshot
