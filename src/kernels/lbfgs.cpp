// LBFGS's vector operations, written once over V (kernels/kernel_source.hpp): the scalar
// reference and every instruction set's kernel, the dot product with reduce_kernel.hpp's lanes,
// blocks and order.
#include "kernels/kernel_source.hpp"
#include "kernels/lbfgs_kernel.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V>
void dot_loop(const DotArgs& a, std::size_t begin, std::size_t end) noexcept {
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
        const std::size_t j = i + k * w;
        acc[k] = acc[k] + vload<V>(a.x + j) * vload<V>(a.y + j);
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
void scale_loop(const ScaleArgs& args, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V a(args.a);
  for (std::size_t i = begin; i + w <= end; i += w) vstore(args.y + i, a * vload<V>(args.x + i));
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(dot, DotArgs, dot_loop)
SIMDOPTIM_DEFINE_KERNEL(scale, ScaleArgs, scale_loop)
