// Reductions, one build per instruction set (see kernels/simd.hpp and reduce_kernel.hpp).
#include <cmath>

#include "kernels/reduce_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

// kReduceLanes floats held in as many batches as the width needs.
constexpr std::size_t kBatches = kReduceLanes / kWidth;
static_assert(kBatches * kWidth == kReduceLanes, "16 lanes must fill whole batches");

double sum_lanes(const Batch (&acc)[kBatches]) {
  alignas(64) float lanes[kReduceLanes];
  for (std::size_t k = 0; k < kBatches; ++k) acc[k].store_aligned(lanes + k * kWidth);
  double s = 0.0;
  for (float lane : lanes) s += static_cast<double>(lane);
  return s;
}

}  // namespace

void sum_squares(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    Batch acc[kBatches];
    for (auto& b : acc) b = Batch(0.0f);
    for (std::size_t i = block; i + kReduceLanes <= block_end; i += kReduceLanes)
      for (std::size_t k = 0; k < kBatches; ++k) {
        const Batch x = load(a.x + i + k * kWidth);
        acc[k] = acc[k] + x * x;
      }
    total += sum_lanes(acc);
  }
  *a.out = total;
}

void abs_max(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  Batch acc(0.0f);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    acc = nan_max(xsimd::abs(load(a.x + i)), acc);
  alignas(64) float lanes[kWidth];
  acc.store_aligned(lanes);
  float m = 0.0f;
  for (float lane : lanes) m = (std::isnan(lane) || lane > m) ? lane : m;
  *a.out = static_cast<double>(m);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
