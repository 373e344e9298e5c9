#pragma once
// How one step of one group is laid out: the runs of neighbouring tensors that share a kernel
// call (same per-step scalars), cut into 64-byte-aligned chunks and run on the executor.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "executor.hpp"
#include "kernels/kernel.hpp"
#include "simdoptim/param_group.hpp"

namespace simdoptim::detail {

// A maximal run of neighbouring tensors [first, last) that all have a gradient and the same
// key; [begin, end) is its element range in the arenas, padding included.
struct Segment {
  std::size_t first = 0;
  std::size_t last = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Calls visit(segment) for every maximal run of neighbouring tensors with a gradient in which
// same(first, j) holds for every tensor j of the run.
template <class Same, class Visit>
void for_each_run(ParamGroup& group, Same same, Visit visit) {
  const auto states = group.tensor_states();
  const std::size_t n = group.size();
  auto start_of = [&](std::size_t i) {
    return i < n ? group.info(i).offset : group.padded_numel();
  };
  std::size_t i = 0;
  while (i < n) {
    if (!states[i].has_grad) {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < n && states[j].has_grad && same(i, j)) ++j;
    visit(Segment{i, j, start_of(i), start_of(j)});
    i = j;
  }
}

// Calls visit(segment) for every run of tensors with a gradient and equal key(tensor index).
template <class Key, class Visit>
void for_each_segment(ParamGroup& group, Key key, Visit visit) {
  for_each_run(
      group, [&](std::size_t a, std::size_t b) { return key(a) == key(b); }, visit);
}

// The kernel calls of one step, reused across steps so the hot path does not allocate once
// its capacity has grown.
template <class Args>
class StepPlan {
 public:
  void clear() noexcept {
    calls_.clear();
    pieces_.clear();
    jobs_.clear();
  }

  void add(const Args& args, std::size_t begin, std::size_t end) {
    if (begin < end) calls_.push_back({args, begin, end});
  }

  // Splits the calls into pieces of at most one chunk (at least kMinChunk elements, about eight
  // per thread) and runs them, neighbouring pieces bundled into jobs of at most a chunk: calls cut
  // at tensor boundaries (an engine's gradient buffers) can be many and small, and the static
  // partition deals out jobs, not elements. Each element is computed by exactly one kernel call,
  // so results do not depend on threads.
  void run(Executor& executor, KernelFn<Args> kernel) {
    std::size_t total = 0;
    for (const Call& c : calls_) total += c.end - c.begin;
    const std::size_t target = static_cast<std::size_t>(executor.num_threads()) * 8;
    std::size_t chunk = std::max(kMinChunk, (total / target + kAlign - 1) / kAlign * kAlign);
    std::size_t filled = 0;
    for (std::size_t c = 0; c < calls_.size(); ++c)
      for (std::size_t b = calls_[c].begin; b < calls_[c].end; b += chunk) {
        const std::size_t e = std::min(b + chunk, calls_[c].end);
        // A job holds at most a chunk, so that the static partition stays balanced.
        if (jobs_.empty() || filled + (e - b) > chunk) {
          jobs_.push_back(pieces_.size());
          filled = 0;
        }
        pieces_.push_back({c, b, e});
        filled += e - b;
      }
    jobs_.push_back(pieces_.size());
    auto body = [&](std::size_t j) {
      for (std::size_t k = jobs_[j]; k < jobs_[j + 1]; ++k)
        kernel(calls_[pieces_[k].call].args, pieces_[k].begin, pieces_[k].end);
    };
    executor.run(jobs_.size() - 1, body);
  }

  // Chunks are cut at multiples of kAlign from a call's start (a tensor start): a multiple of
  // 64 bytes that keeps every block of q8 state in one chunk.
  static constexpr std::size_t kAlign = ParamGroup::kQ8Align;
  static constexpr std::size_t kMinChunk = std::size_t{1} << 14;

 private:
  struct Call {
    Args args;
    std::size_t begin, end;
  };
  struct Piece {
    std::size_t call, begin, end;
  };
  std::vector<Call> calls_;
  std::vector<Piece> pieces_;
  std::vector<std::size_t> jobs_;  // job j runs pieces [jobs_[j], jobs_[j + 1])
};

}  // namespace simdoptim::detail
