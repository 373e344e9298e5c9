// RAdam, one build per instruction set (see kernels/simd.hpp).
#include "kernels/radam_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool L2, bool Decoupled, bool Rectified>
void radam_loop(const RadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const AdamMoments<Batch> moments(a);
  const Batch neg_step_size(a.neg_step_size), eps(a.eps);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i), g = load(a.grad + i);
    Batch m = load(a.exp_avg + i), v = load(a.exp_avg_sq + i);
    moments.update(p, g, m, v, L2, Decoupled);
    m.store_aligned(a.exp_avg + i);
    v.store_aligned(a.exp_avg_sq + i);
    if constexpr (Rectified)
      p = p + neg_step_size * div(m, sqrt(v) + eps);
    else
      p = p + neg_step_size * m;
    p.store_aligned(a.param + i);
  }
}

}  // namespace

void radam(const RadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto l2, auto dec, auto rect) { radam_loop<l2, dec, rect>(a, begin, end); },
             a.weight_decay != 0.0f, a.decay_factor != 1.0f, a.rectified);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
