#pragma once
// The averaging updates of one position, written once over V (kernels/kernel_source.hpp): the
// step kernels apply them to the parameter they have just stored (optim/rule_kernel.hpp) and the
// averaging pass applies them on its own (kernels/average.cpp), so both give the same bits.
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_source.hpp"
#include "kernels/ops.hpp"

namespace simdoptim::detail {

// What an averaging update does; w0 and w1 are its per-step weights (floats, from doubles).
enum class AverageKind : std::uint32_t {
  none = 0,
  copy = 1,       // avg = p (the running mean's first update)
  ema = 2,        // avg = avg * w0 + w1 * p, w0 = decay, w1 = 1 - decay (timm's ModelEmaV2)
  swa = 3,        // avg = avg + (p - avg) / w0, w0 = n_averaged + 1 (torch's AveragedModel)
  lookahead = 4,  // avg = avg + w0 * (p - avg), then p = avg, w0 = alpha (timm's Lookahead)
};

namespace {

// The new average of one position from the old one, a, and the parameter, p. The operation
// order is torch's, one rounding per tensor op.
template <AverageKind A, class V>
V average_of(V a, V p, V w0, V w1) noexcept {
  if constexpr (A == AverageKind::copy) {
    return p;
  } else if constexpr (A == AverageKind::ema) {
    return a * w0 + w1 * p;
  } else if constexpr (A == AverageKind::swa) {
    return a + ops::div(p - a, w0);
  } else {
    static_assert(A == AverageKind::lookahead);
    return a + w0 * (p - a);
  }
}

// Averages an fp32 parameter into an fp32 average; Lookahead also sets the parameter.
template <AverageKind A, class V>
void average_element(float* param, float* avg, V w0, V w1) noexcept {
  const V p = vload<V>(param);
  const V next = average_of<A>(A == AverageKind::copy ? p : vload<V>(avg), p, w0, w1);
  vstore(avg, next);
  if constexpr (A == AverageKind::lookahead) vstore(param, next);
}

}  // namespace
}  // namespace simdoptim::detail
