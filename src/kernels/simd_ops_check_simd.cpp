// The element operations of kernels/simd.hpp, one per call, one build per instruction set.
#include "kernels/simd.hpp"

#include <limits>

#include "kernels/simd_ops_check_kernel.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <class F>
void apply(const SimdOpArgs& a, std::size_t begin, std::size_t end, F f) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    f(load(a.a + i), load(a.b + i)).store_aligned(a.out + i);
}

}  // namespace

void simd_op(const SimdOpArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (a.op) {
    case SimdOp::add:
      return apply(a, begin, end, [](Batch x, Batch y) { return x + y; });
    case SimdOp::sub:
      return apply(a, begin, end, [](Batch x, Batch y) { return x - y; });
    case SimdOp::mul:
      return apply(a, begin, end, [](Batch x, Batch y) { return x * y; });
    case SimdOp::div:
      return apply(a, begin, end, [](Batch x, Batch y) { return div(x, y); });
    case SimdOp::sqrt:
      return apply(a, begin, end, [](Batch x, Batch) { return sqrt(x); });
    case SimdOp::abs:
      return apply(a, begin, end, [](Batch x, Batch) { return xsimd::abs(x); });
    case SimdOp::negate:
      return apply(a, begin, end, [](Batch x, Batch) { return negate(x); });
    case SimdOp::nan_max:
      return apply(a, begin, end, [](Batch x, Batch y) { return nan_max(x, y); });
    case SimdOp::select_less:
      return apply(a, begin, end, [](Batch x, Batch y) { return xsimd::select(x < y, x, y); });
    case SimdOp::select_greater:
      return apply(a, begin, end, [](Batch x, Batch y) { return xsimd::select(x > y, x, y); });
    case SimdOp::select_nan:
      return apply(a, begin, end,
                   [](Batch x, Batch y) { return xsimd::select(xsimd::isnan(x), x, y); });
    case SimdOp::flush_min:
      return apply(a, begin, end, [](Batch x, Batch) {
        return flush_below(x, Batch(std::numeric_limits<float>::min()));
      });
    case SimdOp::flush_off:
      return apply(a, begin, end, [](Batch x, Batch) { return flush_below(x, Batch(0.0f)); });
  }
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
