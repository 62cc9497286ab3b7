#!/usr/bin/env bash
# The README's command 2: install what is missing, build (Release, then ASan+UBSan), start
# PostgreSQL, the dev broker and a real Apache Kafka broker, and run the whole test suite.
# Services started here are stopped on exit. Options:
#   --quick        skip the fault scenarios, the benchmark smoke run, the sanitizer build and
#                  the fuzz run
#   --no-kafka     skip the real Kafka broker (its tests are not run)
#   --soak MINUTES instead of the suite: the fault scenarios, then MINUTES of random faults, and
#                  a summary table (tests/fault/soak.sh, on a cluster of its own)
# Environment:
#   PGCS_PG_VERSION  the PostgreSQL major the whole suite runs on (default 15; 14..18, see
#                  deploy/pg-start.sh), e.g. PGCS_PG_VERSION=17 bash deploy/test.sh --quick
#   PGCS_PG_MATRIX   the majors of the version matrix step (full runs on 15 only; default
#                  "13 14 16 17 18"): each gets its own cluster in $PGCS_RUNTIME_DIR/pgV and runs
#                  the CTest label pgV (the [pgmatrix] cases, dev broker; 13: it is refused)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
quick=0
kafka=1
soak=
usage() { echo "usage: deploy/test.sh [--quick] [--no-kafka] | --soak MINUTES" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-kafka) kafka=0 ;;
    --soak)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "deploy/test.sh: --soak needs a number of minutes" >&2; usage; }
      soak=$2
      shift ;;
    *) usage ;;
  esac
  shift
done
if [ -n "$soak" ]; then
  bash deploy/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2
  exec bash tests/fault/soak.sh "$soak"
fi
export PGCS_RUNTIME_DIR=${PGCS_RUNTIME_DIR:-$repo/.run}
mkdir -p "$PGCS_RUNTIME_DIR"
# Each step with the time since the start (m:ss), to see where a run's minutes go.
step() { printf '\n==> [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "dependencies"
bash deploy/install-deps.sh

step "Release build (-Wall -Wextra -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2

matrix=
if [ "$quick" = 0 ] && [ "${PGCS_PG_VERSION:-15}" = 15 ]; then
  matrix=${PGCS_PG_MATRIX-13 14 16 17 18}
fi
asan_pid=
cleanup() {
  set +e
  [ -n "$asan_pid" ] && pkill -P "$asan_pid" >/dev/null 2>&1
  bash deploy/devbroker-stop.sh >/dev/null 2>&1
  [ "$kafka" = 1 ] && bash deploy/kafka/kafka-stop.sh >/dev/null 2>&1
  bash deploy/pg-stop.sh >/dev/null 2>&1
}
trap cleanup EXIT

if [ "$quick" = 0 ]; then
  # The ASan + UBSan build runs at the lowest CPU priority beside the Release tests, which mostly
  # wait on PostgreSQL, Kafka and restarts: it takes only the CPU they leave idle. Only what its
  # labels run is built (not the fault scenarios, benchmark tools or the regression counter).
  (
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPGCS_SANITIZE=ON >/dev/null
    targets=$(cmake --build build-asan --target help | awk '$2 ~ /^unit_/ {print $2}')
    # shellcheck disable=SC2086
    nice -n 19 cmake --build build-asan -j2 --target pgchangeset pgchangeset-devbroker \
      integration_tests $targets
  ) > "$PGCS_RUNTIME_DIR/build-asan.log" 2>&1 &
  asan_pid=$!
fi

step "services"
bash deploy/pg-start.sh
PGCS_BIN_DIR="$repo/build/bin" bash deploy/devbroker-start.sh
labels="unit|devbroker|deploy"
if [ "$kafka" = 1 ]; then
  bash deploy/kafka/fetch.sh
  bash deploy/kafka/kafka-start.sh
  labels="unit|devbroker|deploy|kafka"
fi

step "tests (Release)"
ctest --test-dir build --output-on-failure -j2 -L "$labels"

if [ "$kafka" = 1 ]; then
  step "peers as oracles: Debezium, Kafka Connect's JDBC sink, Flink (tests/peers; Maven on first use)"
  ctest --test-dir build --output-on-failure -L peers
fi

if [ -n "$matrix" ]; then
  step "PostgreSQL version matrix: $matrix (label pgV each, dev broker; deploy/test-pg-matrix.sh)"
  # shellcheck disable=SC2086
  bash deploy/test-pg-matrix.sh $matrix
fi

if [ "$quick" = 0 ]; then
  step "fault scenarios (Release, dev broker; one at a time: they restart PostgreSQL)"
  fault_skip=()
  [ "$kafka" = 1 ] || fault_skip=(-E "Apache Kafka")   # those need real brokers
  ctest --test-dir build --output-on-failure -L fault "${fault_skip[@]}"

  step "PostgreSQL's regression suite under capture, CI subset (tests/pgregress/run.sh --subset)"
  bash tests/pgregress/run.sh --subset

  step "benchmark harness, smoke sizes (tests/bench/bench.sh --smoke)"
  bash tests/bench/bench.sh --smoke

  # The replica checks (about 300,000 records applied row by row) run past their 300 s limit
  # under the sanitizers; they run in the Release step on both brokers.
  step "ASan + UBSan build (started after the Release build) and tests (unit, dev broker)"
  if ! wait "$asan_pid"; then
    tail -n 40 "$PGCS_RUNTIME_DIR/build-asan.log"
    echo "test.sh: the ASan + UBSan build failed (whole log: $PGCS_RUNTIME_DIR/build-asan.log)" >&2
    exit 1
  fi
  asan_pid=
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2 -L "unit|devbroker" -E "replica check"

  step "fuzz the pgoutput decoder (${PGCS_FUZZ_SECONDS:-30} s)"
  bash tests/fuzz/run_fuzz.sh "${PGCS_FUZZ_SECONDS:-30}"
fi
step "done: every step passed"
