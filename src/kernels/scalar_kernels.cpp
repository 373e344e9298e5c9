// The scalar reference: plain loops with the same operations in the same order as the SIMD
// builds (src/kernels/isa_kernels.cpp). Kept branchy and obvious on purpose: it is what every
// build is tested against, and what is tested against torch.
#include <cmath>

#include "kernels/kernel_table.hpp"

namespace simdoptim::detail::scalar {
namespace {

// torch.maximum: NaN if either operand is NaN.
float nan_max(float a, float b) {
  const float larger = a > b ? a : b;
  return a != a ? a : larger;
}

void sgd(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i];
    float d = a.grad[i];
    if (a.maximize) d = -d;
    if (a.weight_decay != 0.0f) d = d + a.weight_decay * p;
    if (a.momentum_buffer != nullptr) {
      float buf = d;
      if (!a.first_step) buf = a.momentum_buffer[i] * a.momentum + a.one_minus_dampening * d;
      a.momentum_buffer[i] = buf;
      d = a.nesterov ? d + a.momentum * buf : buf;
    }
    a.param[i] = p + a.neg_lr * d;
  }
}

void adam(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.decay_factor != 1.0f) p = p * a.decay_factor;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float m = a.exp_avg[i] * a.beta1 + a.one_minus_beta1 * g;
    float v = a.exp_avg_sq[i] * a.beta2 + a.one_minus_beta2 * g * g;
    a.exp_avg[i] = m;
    a.exp_avg_sq[i] = v;
    if (a.max_exp_avg_sq != nullptr) {
      v = nan_max(a.max_exp_avg_sq[i], v);
      a.max_exp_avg_sq[i] = v;
    }
    const float denom = std::sqrt(v) * a.inv_bias_correction2_sqrt + a.eps;
    a.param[i] = p + a.neg_step_size * (m / denom);
  }
}

void adam_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float g = s.b[i];
    s.c[i] += g;
    s.d[i] += g;
    s.a[i] += s.c[i];
  }
}

void sgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    s.c[i] += s.b[i];
    s.a[i] += s.c[i];
  }
}

void triad(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) s.a[i] = s.b[i] + s.scalar * s.c[i];
}

}  // namespace

extern const KernelTable table;
const KernelTable table = {Isa::scalar, sgd, adam, adam_pattern, sgd_pattern, triad};

}  // namespace simdoptim::detail::scalar
