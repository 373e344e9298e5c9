// LBFGS's vector operations, written once over V (kernels/kernel_source.hpp): the scalar
// reference and every instruction set's kernel, the dot product with reduce_kernel.hpp's lanes,
// blocks and order.
#include "kernels/blocked_sum.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/lbfgs_kernel.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V>
void dot_loop(const DotArgs& a, std::size_t begin, std::size_t end) noexcept {
  *a.out = blocked_sum<V>(begin, end,
                          [&](std::size_t j) { return vload<V>(a.x + j) * vload<V>(a.y + j); });
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
