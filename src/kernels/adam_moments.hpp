#pragma once
// What NAdam and RAdam share with Adam: weight decay (L2 or decoupled) and the two moment
// updates, written once for float (the scalar references) and for xsimd batches (the SIMD
// builds), so both see the same operations in the same order.
namespace simdoptim::detail {

struct AdamMomentArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  float beta1 = 0;
  float one_minus_beta1 = 0;
  float beta2 = 0;
  float one_minus_beta2 = 0;
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  float decay_factor = 1;  // decoupled decay p *= 1 - lr * wd; 1 for none
};

namespace {  // internal linkage: each instruction set's build keeps its own copy (no weak symbol)

// The coefficients of AdamMomentArgs as T (float, or a batch broadcast once per call).
template <class T>
struct AdamMoments {
  explicit AdamMoments(const AdamMomentArgs& a)
      : beta1(a.beta1),
        one_minus_beta1(a.one_minus_beta1),
        beta2(a.beta2),
        one_minus_beta2(a.one_minus_beta2),
        weight_decay(a.weight_decay),
        decay_factor(a.decay_factor) {}

  // Decays p (decoupled) or g (L2), then m = beta1 m + (1 - beta1) g and
  // v = beta2 v + (1 - beta2) g g. Constant flags fold away once inlined.
  void update(T& p, T& g, T& m, T& v, bool l2, bool decoupled) const {
    if (decoupled) p = p * decay_factor;
    if (l2) g = g + weight_decay * p;
    m = m * beta1 + one_minus_beta1 * g;
    v = v * beta2 + one_minus_beta2 * g * g;
  }

  T beta1, one_minus_beta1, beta2, one_minus_beta2, weight_decay, decay_factor;
};

}  // namespace

}  // namespace simdoptim::detail
