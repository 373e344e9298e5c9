// Reductions, scalar reference: the same lanes, blocks and order as reduce_simd.cpp.
#include <cmath>

#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail::scalar {

void sum_squares(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    float lanes[kReduceLanes] = {};
    for (std::size_t i = block; i < block_end; ++i) {
      const float x = a.x[i];
      lanes[(i - block) % kReduceLanes] += x * x;
    }
    double s = 0.0;
    for (float lane : lanes) s += static_cast<double>(lane);
    total += s;
  }
  *a.out = total;
}

void abs_max(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  float m = 0.0f;
  for (std::size_t i = begin; i < end; ++i) {
    const float x = std::fabs(a.x[i]);
    m = (std::isnan(x) || x > m) ? x : m;
  }
  *a.out = static_cast<double>(m);
}

}  // namespace simdoptim::detail::scalar
