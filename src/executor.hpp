#pragma once
// The optimizer's threads: one oneTBB task_arena, never a global_control, so the host engine's
// own TBB use is left alone. Work is a list of jobs split statically (streaming gains nothing
// from load balancing); a single job runs inline on the calling thread.
#include <cstddef>
#include <memory>

namespace simdoptim::detail {

class Executor {
 public:
  // 0 threads: SIMDOPTIM_NUM_THREADS when set, else all cores. Throws std::invalid_argument on
  // a negative count or a malformed environment variable.
  explicit Executor(int num_threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  int num_threads() const noexcept { return threads_; }

  // Calls fn(ctx, j) for every j in [0, jobs), in parallel when jobs > 1 and threads > 1.
  void run(std::size_t jobs, void (*fn)(void* ctx, std::size_t job), void* ctx) noexcept;

  template <class F>
  void run(std::size_t jobs, F& f) noexcept {
    run(
        jobs, [](void* c, std::size_t j) { (*static_cast<F*>(c))(j); }, &f);
  }

 private:
  struct Arena;
  int threads_;
  std::unique_ptr<Arena> arena_;
};

}  // namespace simdoptim::detail
