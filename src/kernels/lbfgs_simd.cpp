// LBFGS's vector operations, one build per instruction set (see kernels/simd.hpp).
#include "kernels/lbfgs_kernel.hpp"
#include "kernels/reduce_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

constexpr std::size_t kBatches = kReduceLanes / kWidth;
static_assert(kBatches * kWidth == kReduceLanes, "16 lanes must fill whole batches");

}  // namespace

void dot(const DotArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    Batch acc[kBatches];
    for (auto& b : acc) b = Batch(0.0f);
    for (std::size_t i = block; i + kReduceLanes <= block_end; i += kReduceLanes)
      for (std::size_t k = 0; k < kBatches; ++k) {
        const std::size_t j = i + k * kWidth;
        acc[k] = acc[k] + load(a.x + j) * load(a.y + j);
      }
    alignas(64) float lanes[kReduceLanes];
    for (std::size_t k = 0; k < kBatches; ++k) acc[k].store_aligned(lanes + k * kWidth);
    double s = 0.0;
    for (float lane : lanes) s += static_cast<double>(lane);
    total += s;
  }
  *a.out = total;
}

void scale(const ScaleArgs& args, std::size_t begin, std::size_t end) noexcept {
  const Batch a(args.a);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    (a * load(args.x + i)).store_aligned(args.y + i);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
