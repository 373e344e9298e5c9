// Reductions, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel, with reduce_kernel.hpp's lanes, blocks and order.
#include <cmath>

#include "kernels/kernel_source.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V>
void sum_squares_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
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
      for (std::size_t k = 0; k < kValues; ++k) {
        const V x = vload<V>(a.x + i + k * w);
        acc[k] = acc[k] + x * x;
      }
    alignas(64) float lane_sums[kReduceLanes];
    for (std::size_t k = 0; k < kValues; ++k) vstore(lane_sums + k * w, acc[k]);
    double s = 0.0;
    for (float lane : lane_sums) s += static_cast<double>(lane);
    total += s;
  }
  *a.out = total;
}

template <class V>
void abs_max_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  V acc(0.0f);
  for (std::size_t i = begin; i + w <= end; i += w)
    acc = ops::nan_max(ops::abs(vload<V>(a.x + i)), acc);
  alignas(64) float lane_max[w];
  vstore(lane_max, acc);
  float m = 0.0f;
  for (float lane : lane_max) m = (std::isnan(lane) || lane > m) ? lane : m;
  *a.out = static_cast<double>(m);
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(sum_squares, ReduceArgs, sum_squares_loop)
SIMDOPTIM_DEFINE_KERNEL(abs_max, ReduceArgs, abs_max_loop)
