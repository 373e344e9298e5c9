// LAMB's first pass, written once over V (kernels/kernel_source.hpp): the scalar reference and
// every instruction set's kernel.
#include "kernels/kernel_source.hpp"
#include "kernels/lamb_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V, bool Clip, bool Decay, bool Store, bool Stream>
void lamb_loop(const LambArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V clip(a.clip), beta1(a.beta1), beta3(a.beta3), beta2(a.beta2),
      one_minus_beta2(a.one_minus_beta2), inv_bc1(a.inv_bias_correction1),
      inv_bc2_sqrt(a.inv_bias_correction2_sqrt), eps(a.eps), weight_decay(a.weight_decay),
      neg_lr(a.neg_lr);
  for (std::size_t i = begin; i + w <= end; i += w) {
    V g = vload<V>(a.grad + i);
    if constexpr (Clip) g = ops::div(g, clip);
    const V m = vload<V>(a.exp_avg + i) * beta1 + beta3 * g;
    const V v = vload<V>(a.exp_avg_sq + i) * beta2 + one_minus_beta2 * g * g;
    vstore(a.exp_avg + i, m);
    vstore(a.exp_avg_sq + i, v);
    const V denom = ops::sqrt(v) * inv_bc2_sqrt + eps;
    V u = ops::div(m * inv_bc1, denom);
    const V p = vload<V>(a.param + i);
    if constexpr (Decay) u = u + weight_decay * p;
    if constexpr (Store && Stream)
      store_stream(a.update + i, u);
    else if constexpr (Store)
      vstore(a.update + i, u);
    else
      vstore(a.param + i, p + neg_lr * u);
  }
}

template <class V>
void lamb_run(const LambArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto clip, auto decay, auto store,
                 auto stream) { lamb_loop<V, clip, decay, store, stream>(a, begin, end); },
             a.clip != 1.0f, a.weight_decay != 0.0f, a.update != nullptr, a.stream_update);
  if (a.stream_update) stream_fence<V>();
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(lamb, LambArgs, lamb_run)
