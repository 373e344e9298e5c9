// Reductions, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel, with reduce_kernel.hpp's lanes, blocks and order.
#include <cmath>

#include "kernels/blocked_sum.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V>
void sum_squares_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  *a.out = blocked_sum<V>(begin, end, [&](std::size_t j) {
    const V x = load_until<V>(a.x, j, a.count);
    return x * x;
  });
}

template <class V>
void abs_max_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  V acc(0.0f);
  for (std::size_t i = begin; i + w <= end; i += w)
    acc = ops::nan_max(ops::abs(load_until<V>(a.x, i, a.count)), acc);
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
