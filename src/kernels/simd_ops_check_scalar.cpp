// The scalar reference's version of each element operation of kernels/simd.hpp, as the scalar
// kernels write them.
#include <cmath>
#include <limits>

#include "kernels/simd_ops_check_kernel.hpp"

namespace simdoptim::detail::scalar {
namespace {

template <class F>
void apply(const SimdOpArgs& a, std::size_t begin, std::size_t end, F f) noexcept {
  for (std::size_t i = begin; i < end; ++i) a.out[i] = f(a.a[i], a.b[i]);
}

}  // namespace

void simd_op(const SimdOpArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (a.op) {
    case SimdOp::add:
      return apply(a, begin, end, [](float x, float y) { return x + y; });
    case SimdOp::sub:
      return apply(a, begin, end, [](float x, float y) { return x - y; });
    case SimdOp::mul:
      return apply(a, begin, end, [](float x, float y) { return x * y; });
    case SimdOp::div:
      return apply(a, begin, end, [](float x, float y) { return x / y; });
    case SimdOp::sqrt:
      return apply(a, begin, end, [](float x, float) { return std::sqrt(x); });
    case SimdOp::abs:
      return apply(a, begin, end, [](float x, float) { return std::fabs(x); });
    case SimdOp::negate:
      return apply(a, begin, end, [](float x, float) { return -x; });
    case SimdOp::nan_max:
      return apply(a, begin, end, [](float x, float y) {
        const float larger = x > y ? x : y;
        return std::isnan(x) ? x : larger;
      });
    case SimdOp::select_less:
      return apply(a, begin, end, [](float x, float y) { return x < y ? x : y; });
    case SimdOp::select_greater:
      return apply(a, begin, end, [](float x, float y) { return x > y ? x : y; });
    case SimdOp::select_nan:
      return apply(a, begin, end, [](float x, float y) { return std::isnan(x) ? x : y; });
    case SimdOp::flush_min:
      return apply(a, begin, end, [](float x, float) {
        return std::fabs(x) < std::numeric_limits<float>::min() ? std::copysign(0.0f, x) : x;
      });
    case SimdOp::flush_off:
      return apply(a, begin, end, [](float x, float) { return x; });
  }
}

}  // namespace simdoptim::detail::scalar
