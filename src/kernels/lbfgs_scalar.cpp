// LBFGS's vector operations, scalar reference: the same lanes, blocks and order as
// lbfgs_simd.cpp.
#include "kernels/lbfgs_kernel.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail::scalar {

void dot(const DotArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    float lanes[kReduceLanes] = {};
    for (std::size_t i = block; i < block_end; ++i)
      lanes[(i - block) % kReduceLanes] += a.x[i] * a.y[i];
    double s = 0.0;
    for (float lane : lanes) s += static_cast<double>(lane);
    total += s;
  }
  *a.out = total;
}

void scale(const ScaleArgs& args, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) args.y[i] = args.a * args.x[i];
}

}  // namespace simdoptim::detail::scalar
