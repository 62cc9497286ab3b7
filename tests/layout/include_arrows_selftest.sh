#!/usr/bin/env bash
# Proves that include_arrows.sh can fail: on a made-up tree with one forbidden include per rule
# and some allowed ones, it must exit 1 naming exactly the forbidden FILE:LINEs.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

add() {  # add FILE INCLUDED...: FILE includes each of INCLUDED, one a line from line 2
    mkdir -p "$tree/$(dirname "$1")"
    local file=$1
    shift
    echo "// $file" >"$tree/$file"
    for inc in "$@"; do
        echo "#include \"$inc\"" >>"$tree/$file"
    done
}

add core/base/unique_fd.hpp
add core/pgoutput/decoder.hpp core/pgoutput/byte_reader.hpp core/base/unique_fd.hpp
add core/pgoutput/byte_reader.hpp core/changeset/changeset.hpp      # forbidden
add core/pgoutput/decoder.cpp ../changeset/changeset.hpp            # forbidden (relative)
add core/changeset/changeset.hpp core/pgoutput/decoder.hpp
add core/encode/a.cpp core/changeset/changeset.hpp rapidjson/writer.h \
    core/source/x.hpp core/sink/y.hpp core/snapshot/z.hpp            # lines 4-6 forbidden
add core/sink/a.cpp core/base/unique_fd.hpp core/encode/a.hpp core/changeset/changeset.hpp
add core/ack/a.hpp core/pgoutput/lsn.hpp core/base/unique_fd.hpp core/ack/b.hpp \
    core/pgoutput/decoder.hpp                                        # line 5 forbidden
add core/snapshot/a.cpp core/source/x.hpp core/sink/y.hpp core/ack/a.hpp
add core/source/x.hpp config/config.hpp daemon/main.hpp            # both forbidden
add config/config.hpp daemon/main.hpp                               # forbidden
add daemon/main.cpp core/sink/y.hpp config/config.hpp core/ack/a.hpp

expected=$(
    cat <<'EOF'
config/config.hpp:2:
core/ack/a.hpp:5:
core/encode/a.cpp:4:
core/encode/a.cpp:5:
core/encode/a.cpp:6:
core/pgoutput/byte_reader.hpp:2:
core/pgoutput/decoder.cpp:2:
core/sink/a.cpp:3:
core/sink/a.cpp:4:
core/snapshot/a.cpp:3:
core/snapshot/a.cpp:4:
core/source/x.hpp:2:
core/source/x.hpp:3:
EOF
)

status=0
out=$(bash "$here/include_arrows.sh" "$tree" 2>&1) || status=$?
found=$(grep -o '^[^ ]*:[0-9]*:' <<<"$out" | sort -u || true)
if [[ $status -ne 1 || $found != "$expected" ]]; then
    echo "include_arrows.sh exited $status on the made-up tree; it printed:" >&2
    echo "$out" >&2
    echo "expected exit 1 and exactly these places:" >&2
    echo "$expected" >&2
    exit 1
fi
echo "include_arrows.sh found all $(wc -l <<<"$expected") forbidden includes and no others"
