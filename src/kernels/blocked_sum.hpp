#pragma once
// The deterministic sum of the reductions (sum of squares, LBFGS's dot product), written once over
// V: reduce_kernel.hpp's kReduceLanes float partial sums per kReduceBlock block, combined in
// double in lane then block order, so every build and thread count gives the same bits.
#include <cstddef>

#include "kernels/kernel_source.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

// Sum over [begin, end) of term(j), a V of the lanes' values at element j.
template <class V, class Term>
double blocked_sum(std::size_t begin, std::size_t end, Term term) noexcept {
  // kReduceLanes floats held in as many V as the width needs.
  constexpr std::size_t w = lanes<V>();
  constexpr std::size_t kValues = kReduceLanes / w;
  static_assert(kValues * w == kReduceLanes, "16 lanes must fill whole batches");
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    V acc[kValues];
    for (auto& b : acc) b = V(0.0f);
    for (std::size_t i = block; i + kReduceLanes <= block_end; i += kReduceLanes)
      for (std::size_t k = 0; k < kValues; ++k) acc[k] = acc[k] + term(i + k * w);
    alignas(64) float lane_sums[kReduceLanes];
    for (std::size_t k = 0; k < kValues; ++k) vstore(lane_sums + k * w, acc[k]);
    double s = 0.0;
    for (float lane : lane_sums) s += static_cast<double>(lane);
    total += s;
  }
  return total;
}

}  // namespace
}  // namespace simdoptim::detail
