// Adafactor, one build per instruction set (see kernels/simd.hpp and adafactor_kernel.hpp).
#include <cmath>

#include "kernels/adafactor_kernel.hpp"
#include "kernels/reduce_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

constexpr std::size_t kBatches = kReduceLanes / kWidth;
static_assert(kBatches * kWidth == kReduceLanes, "16 lanes must fill whole batches");

Batch load_u(const float* p) {
  return Batch::load_unaligned(p);
}

// The lanes summed in double in lane order, after the scalar tail went into `lanes`.
double sum_lanes(const float (&lanes)[kReduceLanes]) {
  double s = 0.0;
  for (float lane : lanes) s += static_cast<double>(lane);
  return s;
}

void store_lanes(const Batch (&acc)[kBatches], float (&lanes)[kReduceLanes]) {
  for (std::size_t k = 0; k < kBatches; ++k) acc[k].store_unaligned(lanes + k * kWidth);
}

// max(v, e) keeping NaN (torch's clamp_min).
Batch clamp_min(Batch v, Batch e) {
  return xsimd::select(v < e, e, v);
}
float clamp_min(float v, float e) {
  return v < e ? e : v;
}

// U from the factored estimate: (1 / sqrt(max(row * col / row_mean, eps1^2))) * g.
Batch factored_u(Batch g, Batch row, Batch col, Batch inv_row_mean, Batch eps1_sq) {
  const Batch v = clamp_min((row * col) * inv_row_mean, eps1_sq);
  return div(Batch(1.0f), sqrt(v)) * g;
}
float factored_u(float g, float row, float col, float inv_row_mean, float eps1_sq) {
  const float v = clamp_min((row * col) * inv_row_mean, eps1_sq);
  return (1.0f / std::sqrt(v)) * g;
}

template <bool Maximize>
void row_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const std::size_t cols = a.cols;
  const std::size_t full = cols / kReduceLanes * kReduceLanes;
  const Batch inv_row_mean(a.inv_row_mean), eps1_sq(a.eps1_sq);
  double total = 0.0;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    const Batch row(a.row_var[r]);
    Batch acc[kBatches];
    for (auto& b : acc) b = Batch(0.0f);
    for (std::size_t c = 0; c < full; c += kReduceLanes)
      for (std::size_t k = 0; k < kBatches; ++k) {
        Batch x = load_u(g + c + k * kWidth);
        if constexpr (Maximize) x = negate(x);
        const Batch u =
            factored_u(x, row, load_u(a.col_var + c + k * kWidth), inv_row_mean, eps1_sq);
        acc[k] = acc[k] + u * u;
      }
    float lanes[kReduceLanes];
    store_lanes(acc, lanes);
    for (std::size_t c = full; c < cols; ++c) {
      const float x = Maximize ? -g[c] : g[c];
      const float u = factored_u(x, a.row_var[r], a.col_var[c], a.inv_row_mean, a.eps1_sq);
      lanes[c - full] = lanes[c - full] + u * u;
    }
    total += sum_lanes(lanes);
  }
  *a.out = total;
}

template <bool Maximize, bool Decay>
void row_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const std::size_t cols = a.cols;
  const Batch inv_row_mean(a.inv_row_mean), eps1_sq(a.eps1_sq), decay(a.decay_factor),
      neg_step(a.neg_step);
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    float* p = a.param + r * cols;
    const Batch row(a.row_var[r]);
    std::size_t c = 0;
    for (; c + kWidth <= cols; c += kWidth) {
      Batch x = load_u(g + c);
      if constexpr (Maximize) x = negate(x);
      Batch q = load_u(p + c);
      if constexpr (Decay) q = q * decay;
      q = q + neg_step * factored_u(x, row, load_u(a.col_var + c), inv_row_mean, eps1_sq);
      q.store_unaligned(p + c);
    }
    for (; c < cols; ++c) {
      const float x = Maximize ? -g[c] : g[c];
      float q = p[c];
      if constexpr (Decay) q = q * a.decay_factor;
      p[c] = q + a.neg_step * factored_u(x, a.row_var[r], a.col_var[c], a.inv_row_mean, a.eps1_sq);
    }
  }
}

template <bool Low>
Batch lerp(Batch a, Batch b, Batch w, Batch one_minus_w) {
  if constexpr (Low)
    return a + w * (b - a);
  else
    return b - (b - a) * one_minus_w;
}
template <bool Low>
float lerp(float a, float b, float w, float one_minus_w) {
  if constexpr (Low)
    return a + w * (b - a);
  else
    return b - (b - a) * one_minus_w;
}

template <bool Maximize, bool Low>
void vector_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch w(a.w), one_minus_w(a.one_minus_w), eps1_sq(a.eps1_sq);
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    Batch acc[kBatches];
    for (auto& b : acc) b = Batch(0.0f);
    std::size_t i = block;
    for (; i + kReduceLanes <= block_end; i += kReduceLanes)
      for (std::size_t k = 0; k < kBatches; ++k) {
        const std::size_t j = i + k * kWidth;
        Batch g = load(a.grad + j);
        if constexpr (Maximize) g = negate(g);
        const Batch v = lerp<Low>(load(a.variance + j), g * g, w, one_minus_w);
        v.store_aligned(a.variance + j);
        const Batch u = div(Batch(1.0f), sqrt(clamp_min(v, eps1_sq))) * g;
        acc[k] = acc[k] + u * u;
      }
    float lanes[kReduceLanes];
    store_lanes(acc, lanes);
    // The tensor's last elements, short of 16: the scalar kernel's operations and lanes.
    for (; i < block_end; ++i) {
      const float g = Maximize ? -a.grad[i] : a.grad[i];
      const float v = lerp<Low>(a.variance[i], g * g, a.w, a.one_minus_w);
      a.variance[i] = v;
      const float u = (1.0f / std::sqrt(clamp_min(v, a.eps1_sq))) * g;
      lanes[(i - block) % kReduceLanes] = lanes[(i - block) % kReduceLanes] + u * u;
    }
    total += sum_lanes(lanes);
  }
  *a.out = total;
}

template <bool Maximize, bool Decay>
void vector_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch eps1_sq(a.eps1_sq), decay(a.decay_factor), neg_step(a.neg_step);
  std::size_t i = begin;
  for (; i + kWidth <= end; i += kWidth) {
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    Batch p = load(a.param + i);
    if constexpr (Decay) p = p * decay;
    const Batch u = div(Batch(1.0f), sqrt(clamp_min(load(a.variance + i), eps1_sq))) * g;
    (p + neg_step * u).store_aligned(a.param + i);
  }
  for (; i < end; ++i) {
    const float g = Maximize ? -a.grad[i] : a.grad[i];
    float p = a.param[i];
    if constexpr (Decay) p = p * a.decay_factor;
    const float u = (1.0f / std::sqrt(clamp_min(a.variance[i], a.eps1_sq))) * g;
    a.param[i] = p + a.neg_step * u;
  }
}

}  // namespace

void adafactor_row_stats(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const std::size_t cols = a.cols;
  const std::size_t full = cols / kReduceLanes * kReduceLanes;
  for (std::size_t c = 0; c < cols; ++c) a.col_sum[c] = 0.0f;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    Batch acc[kBatches];
    for (auto& b : acc) b = Batch(0.0f);
    for (std::size_t c = 0; c < full; c += kReduceLanes)
      for (std::size_t k = 0; k < kBatches; ++k) {
        const Batch x = load_u(g + c + k * kWidth);
        const Batch sq = x * x;
        acc[k] = acc[k] + sq;
        float* col = a.col_sum + c + k * kWidth;
        (load_u(col) + sq).store_unaligned(col);
      }
    float lanes[kReduceLanes];
    store_lanes(acc, lanes);
    for (std::size_t c = full; c < cols; ++c) {
      const float sq = g[c] * g[c];
      lanes[c - full] = lanes[c - full] + sq;
      a.col_sum[c] = a.col_sum[c] + sq;
    }
    a.row_sum[r] = sum_lanes(lanes);
  }
}

void adafactor_row_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx) { row_norm<mx>(a, begin, end); }, a.maximize);
}

void adafactor_row_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto decay) { row_apply<mx, decay>(a, begin, end); }, a.maximize,
             a.decay_factor != 1.0f);
}

void adafactor_vector_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto low) { vector_norm<mx, low>(a, begin, end); }, a.maximize,
             a.lerp_low);
}

void adafactor_vector_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto decay) { vector_apply<mx, decay>(a, begin, end); }, a.maximize,
             a.decay_factor != 1.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
