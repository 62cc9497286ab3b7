#!/usr/bin/env bash
# Checks the dependency arrows between the project's folders (docs/ARCHITECTURE.md): every
# `#include "..."` of every file under core/, config/ and daemon/ is checked against the rules
# below; each forbidden one is printed as FILE:LINE and the exit status is 1.
# Usage: tests/layout/include_arrows.sh [ROOT]   (ROOT: the source tree, default this repository)
set -euo pipefail
root=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd -P)
cd "$root"

# rule FROM TO [EXCEPT...]: a file under FROM must not include anything under TO ("*": any
# file of the project), except what is under one of EXCEPT (a folder ending in /, or a file).
rules=()
rule() { rules+=("$*"); }

rule core/ daemon/
rule core/ config/
rule core/pgoutput/ '*' core/pgoutput/ core/base/
rule core/encode/ core/source/
rule core/encode/ core/sink/
rule core/encode/ core/snapshot/
rule core/sink/ core/encode/
rule core/sink/ core/changeset/
rule core/ack/ '*' core/ack/ core/base/ core/pgoutput/lsn.hpp
rule core/snapshot/ core/sink/
rule core/snapshot/ core/ack/
rule config/ daemon/
# core/publish/ joins the stages: none of them includes it.
for stage in changeset encode source sink snapshot apply; do
    rule core/$stage/ core/publish/
done

# Folders whose files a quoted include names from the root (the targets' include directory).
project_dirs='^(core|config|daemon|tests|deploy)/'

under() {  # under PATH PREFIX: PATH is PREFIX (a file) or lies below it (a folder)
    [[ $2 == */ ]] && [[ $1 == "$2"* ]] || [[ $1 == "$2" ]]
}

# The project file an include names, or nothing for a header from outside the project. As the
# compiler does, a quoted include is looked up beside the including file first.
resolve() {  # resolve FILE INCLUDED
    local dir
    dir=$(dirname "$1")
    if [[ -e $dir/$2 ]]; then
        realpath -m --relative-to="$root" "$root/$dir/$2"
    elif [[ $2 =~ $project_dirs ]] || [[ -e $2 ]]; then
        realpath -m --relative-to="$root" "$root/$2"
    fi
}

forbidden=0
checked=0
include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)"'
while IFS= read -r -d '' file; do
    file=${file#./}
    line_no=0
    while IFS= read -r line || [[ -n $line ]]; do
        line_no=$((line_no + 1))
        [[ $line =~ $include_re ]] || continue
        included=${BASH_REMATCH[1]}
        target=$(resolve "$file" "$included")
        [[ -n $target && $target != ../* ]] || continue
        checked=$((checked + 1))
        for r in "${rules[@]}"; do
            read -r -a words <<<"$r"
            from=${words[0]}
            to=${words[1]}
            under "$file" "$from" || continue
            [[ $to == '*' ]] || under "$target" "$to" || continue
            allowed=false
            for except in "${words[@]:2}"; do
                if under "$target" "$except"; then
                    allowed=true
                fi
            done
            $allowed && continue
            if [[ $to == '*' ]]; then
                what="project files other than ${words[*]:2}"
            else
                what=$to
            fi
            echo "$file:$line_no: #include \"$included\": $from must not include $what" >&2
            forbidden=$((forbidden + 1))
        done
    done <"$file"
done < <(find core config daemon -type f -print0 | sort -z)

if ((forbidden > 0)); then
    echo "include arrows: $forbidden forbidden includes (rules in $0)" >&2
    exit 1
fi
echo "include arrows: $checked project includes checked, none forbidden"
