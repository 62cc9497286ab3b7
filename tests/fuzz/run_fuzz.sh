#!/usr/bin/env bash
# Builds fuzz_pgoutput with clang in build-fuzz, writes the seed corpus and fuzzes for
# SECONDS (default 60). Seeds: messages built by the test writer (fuzz_pgoutput_seeds) and
# real messages captured from PostgreSQL (tests/fuzz/corpus, see capture_seeds.sh). Exits
# non-zero if the fuzzer found a crash (artifacts in build-fuzz/): add the input to
# tests/fuzz/corpus and a unit test in tests/unit/pgoutput, then fix the decoder.
# Usage: tests/fuzz/run_fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${root}/build-fuzz"
jobs="${PGCS_FUZZ_JOBS:-2}"

CC=clang CXX=clang++ cmake -S "${root}" -B "${build}" -DPGCS_FUZZ=ON -DPGCS_TESTS=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "${build}" --target fuzz_pgoutput fuzz_pgoutput_seeds -j"${jobs}"

seeds="${build}/fuzz/pgoutput_seeds"
corpus="${build}/fuzz/pgoutput_corpus"
artifacts="${build}/fuzz/artifacts/"
mkdir -p "${corpus}" "${artifacts}"
"${build}/bin/fuzz_pgoutput_seeds" "${seeds}"

# New inputs go to the corpus (kept between runs); the seeds directory is read only.
status=0
"${build}/bin/fuzz_pgoutput" -max_len=4096 -max_total_time="${seconds}" \
    -artifact_prefix="${artifacts}" -print_final_stats=1 "${corpus}" "${seeds}" \
    "${root}/tests/fuzz/corpus" || status=$?
if [[ ${status} -ne 0 ]]; then
    echo "run_fuzz.sh: fuzz_pgoutput failed (exit ${status}); crash inputs in ${artifacts}" >&2
    exit "${status}"
fi
echo "run_fuzz.sh: no crash in ${seconds} s"
