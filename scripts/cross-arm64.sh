#!/usr/bin/env bash
# Cross-builds the C core and its native unit tests for aarch64 and runs them
# under qemu user-mode emulation (`npm run test:arm64`). Not part of `npm test`
# or CI: it needs the cross toolchain and qemu, and emulation is slow.
#
#   scripts/cross-arm64.sh                 the whole native suite (several minutes)
#   scripts/cross-arm64.sh kernels dot_    only tests whose names contain a substring
#
# Two CPUs are emulated: qemu's `max` (Advanced SIMD + the dot-product
# extension, so dispatch picks the SDOT tables; the tests also hold the plain
# NEON tables to the scalar reference) for the selected tests, then a
# Cortex-A57 (Armv8.0: NEON without dotprod) for the kernel tests, so the
# dispatch path without the extension runs too.
#
# Environment: BUILD_DIR (default build-arm64), JOBS (default 2),
# HYPERION_SHARED_DIR (test models; default ../shared next to the repository).
# Needs: apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-arm64}"
jobs="${JOBS:-2}"
sysroot=/usr/aarch64-linux-gnu
export HYPERION_SHARED_DIR="${HYPERION_SHARED_DIR:-$root/../shared}"

for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" > /dev/null; then
    echo "cross-arm64: $tool not found (apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)" >&2
    exit 1
  fi
done

cd "$root"
cmake -S . -B "$build" --log-level=WARNING \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
  -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

run() { # run <qemu cpu> [test-name substrings...]
  local cpu="$1"
  shift
  echo "== qemu-aarch64 -cpu $cpu: hyperion_native_tests $*"
  # the tests that count the process's threads skip that check: qemu's own threads are in the count
  HYPERION_TEST_EMULATED=1 qemu-aarch64 -cpu "$cpu" -L "$sysroot" "./$build/hyperion_native_tests" "$@"
}

run max "$@"
run cortex-a57 vec_ quant dot_ matvec matmul_ ops_ rope attention kv_store cpu_
