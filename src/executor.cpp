#include "executor.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <stdexcept>
#include <string>

#include "environment.hpp"

#ifdef SIMDOPTIM_TSAN_ANNOTATIONS
#include <sanitizer/tsan_interface.h>
#endif

namespace simdoptim::detail {

struct Executor::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
  char dispatched = 0, joined = 0;  // ThreadSanitizer's tokens, see happens_before()
};

namespace {

// Under ThreadSanitizer this file is built without instrumentation (src/CMakeLists.txt), like
// Debian's libtbb: TSan cannot see oneTBB's synchronisation and would report its task
// bookkeeping as races. These tell TSan the ordering oneTBB guarantees: what the caller did
// before run() happens before every job, and every job before run() returns. Jobs stay
// unordered with each other, so races between them are still found.
#ifdef SIMDOPTIM_TSAN_ANNOTATIONS
void happens_before(char& token) noexcept {
  __tsan_release(&token);
}
void happens_after(char& token) noexcept {
  __tsan_acquire(&token);
}
#else
void happens_before(char&) noexcept {}
void happens_after(char&) noexcept {}
#endif

int resolve_threads(int requested) {
  if (requested < 0)
    throw std::invalid_argument("num_threads must be >= 0, got " + std::to_string(requested));
  if (requested > 0) return requested;
  if (const auto n = positive_from_env("SIMDOPTIM_NUM_THREADS", 4096)) return static_cast<int>(*n);
  return tbb::this_task_arena::max_concurrency();
}

}  // namespace

// With one thread there is no arena: every job runs inline on the caller and oneTBB never
// starts a worker (the emulated aarch64 tests rely on it: under qemu-user oneTBB hangs once an
// arena's workers start). A task_arena starts its workers lazily, at its first execute().
Executor::Executor(int num_threads) : threads_(resolve_threads(num_threads)) {
  if (threads_ > 1) arena_ = std::make_unique<Arena>(threads_);
}

Executor::~Executor() = default;

void Executor::run(std::size_t jobs, void (*fn)(void*, std::size_t), void* ctx) noexcept {
  if (jobs == 0) return;
  if (jobs == 1 || !arena_) {
    for (std::size_t j = 0; j < jobs; ++j) fn(ctx, j);
    return;
  }
  happens_before(arena_->dispatched);
  arena_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, jobs, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          happens_after(arena_->dispatched);
          for (std::size_t j = r.begin(); j != r.end(); ++j) fn(ctx, j);
          happens_before(arena_->joined);
        },
        tbb::static_partitioner());
  });
  happens_after(arena_->joined);
}

}  // namespace simdoptim::detail
