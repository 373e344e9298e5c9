// The update kernels, written once over an xsimd architecture. CMake compiles this file once
// per instruction set with that set's flags, SIMDOPTIM_ISA_NS naming the namespace and
// SIMDOPTIM_XSIMD_ARCH the xsimd architecture, and -ffp-contract=off: every operation below is
// the scalar reference's operation in the same order, so each build matches it bit for bit.
#include <xsimd/xsimd.hpp>

#include "kernels/bool_dispatch.hpp"
#include "kernels/kernel_table.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

using Arch = SIMDOPTIM_XSIMD_ARCH;
using Batch = xsimd::batch<float, Arch>;
constexpr std::size_t kWidth = Batch::size;

Batch load(const float* p) { return Batch::load_aligned(p); }

// -x as C++ defines it: flip the sign bit. xsimd 8.1 negates an AVX-512 batch as 0 - x, which
// turns -0 into +0 and so would differ from the scalar reference.
Batch negate(Batch x) { return xsimd::bitwise_xor(x, Batch(-0.0f)); }

// torch.maximum: NaN if either operand is NaN (the hardware max returns its second operand).
// xsimd::isnan, not a != a: xsimd 8.1 compares != as ordered on AVX and AVX-512 (NaN != NaN is
// false there).
Batch nan_max(Batch a, Batch b) {
  const Batch larger = xsimd::select(a > b, a, b);
  return xsimd::select(xsimd::isnan(a), a, larger);
}

template <bool Maximize, bool WeightDecay, bool Momentum, bool FirstStep, bool Nesterov>
void sgd_loop(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), momentum(a.momentum), one_minus_dampening(a.one_minus_dampening),
      weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch d = load(a.grad + i);
    if constexpr (Maximize) d = negate(d);
    if constexpr (WeightDecay) d = d + weight_decay * p;
    if constexpr (Momentum) {
      Batch buf = d;
      if constexpr (!FirstStep) buf = load(a.momentum_buffer + i) * momentum + one_minus_dampening * d;
      buf.store_aligned(a.momentum_buffer + i);
      d = Nesterov ? d + momentum * buf : buf;
    }
    p = p + neg_lr * d;
    p.store_aligned(a.param + i);
  }
}

void sgd(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd, auto mom, auto first, auto nest) {
    sgd_loop<mx, wd, mom, first, nest>(a, begin, end);
  }, a.maximize, a.weight_decay != 0.0f, a.momentum_buffer != nullptr, a.first_step, a.nesterov);
}

template <bool Maximize, bool L2, bool Decoupled, bool Amsgrad>
void adam_loop(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch beta1(a.beta1), one_minus_beta1(a.one_minus_beta1), beta2(a.beta2),
      one_minus_beta2(a.one_minus_beta2), neg_step_size(a.neg_step_size),
      inv_bc2_sqrt(a.inv_bias_correction2_sqrt), eps(a.eps), weight_decay(a.weight_decay),
      decay_factor(a.decay_factor);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (Decoupled) p = p * decay_factor;
    if constexpr (L2) g = g + weight_decay * p;
    const Batch m = load(a.exp_avg + i) * beta1 + one_minus_beta1 * g;
    Batch v = load(a.exp_avg_sq + i) * beta2 + one_minus_beta2 * g * g;
    m.store_aligned(a.exp_avg + i);
    v.store_aligned(a.exp_avg_sq + i);
    if constexpr (Amsgrad) {
      v = nan_max(load(a.max_exp_avg_sq + i), v);
      v.store_aligned(a.max_exp_avg_sq + i);
    }
    const Batch denom = xsimd::sqrt(v) * inv_bc2_sqrt + eps;
    p = p + neg_step_size * (m / denom);
    p.store_aligned(a.param + i);
  }
}

void adam(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto l2, auto dec, auto ams) {
    adam_loop<mx, l2, dec, ams>(a, begin, end);
  }, a.maximize, a.weight_decay != 0.0f, a.decay_factor != 1.0f, a.max_exp_avg_sq != nullptr);
}

void adam_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch g = load(s.b + i);
    const Batch m = load(s.c + i) + g;
    const Batch v = load(s.d + i) + g;
    m.store_aligned(s.c + i);
    v.store_aligned(s.d + i);
    (load(s.a + i) + m).store_aligned(s.a + i);
  }
}

void sgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch buf = load(s.c + i) + load(s.b + i);
    buf.store_aligned(s.c + i);
    (load(s.a + i) + buf).store_aligned(s.a + i);
  }
}

void triad(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  const Batch scalar(s.scalar);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    (load(s.b + i) + scalar * load(s.c + i)).store_aligned(s.a + i);
}

}  // namespace

extern const KernelTable table;
const KernelTable table = {Isa::SIMDOPTIM_ISA_NS, sgd, adam, adam_pattern, sgd_pattern, triad};

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
