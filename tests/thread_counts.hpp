#pragma once
// Thread counts for the tests that step on several threads. SIMDOPTIM_TEST_MAX_THREADS, when
// set, caps them: under qemu-user oneTBB hangs as soon as an arena of two or more threads
// starts its workers, so the emulated aarch64 run (tools/run_aarch64_tests.sh) sets it to 1
// and thread-count invariance is proven by the native runs only. A capped count is reported,
// never silently dropped.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace thread_counts {

// SIMDOPTIM_TEST_MAX_THREADS, or no cap. A malformed value fails the test.
inline int max_threads() {
  const char* env = std::getenv("SIMDOPTIM_TEST_MAX_THREADS");
  if (env == nullptr || *env == '\0') return 1 << 20;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*end != '\0' || n < 1 || n > (1 << 20))
    FAIL("SIMDOPTIM_TEST_MAX_THREADS must be a positive integer, got '" << env << "'");
  return static_cast<int>(n);
}

// `wanted` without the counts above the cap (1 always stays).
inline std::vector<int> up_to_cap(std::initializer_list<int> wanted) {
  const int cap = max_threads();
  std::vector<int> out;
  for (int n : wanted)
    if (n <= cap || n == 1) out.push_back(n);
  if (out.size() < wanted.size())
    WARN("SIMDOPTIM_TEST_MAX_THREADS=" << cap << ": " << wanted.size() - out.size()
                                       << " thread count(s) above it skipped");
  return out;
}

// `n` threads, or the cap when lower.
inline int capped(int n) {
  return std::min(n, max_threads());
}

}  // namespace thread_counts
