// Adafactor, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel. Each pass's element operations are one template; a pass runs them
// at V over whole batches (or whole 16-lane groups, for sums) and at float over what is left,
// in the order and lanes adafactor_kernel.hpp fixes. At V = float nothing is left but the
// 16-lane groups' remainder, which is the same code, so the scalar build is the reference.
#include <cstddef>
#include <type_traits>

#include "kernels/adafactor_kernel.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {
namespace {

// Rows start anywhere: unaligned loads and stores (vload_unaligned, vstore_unaligned).

// kReduceLanes floats held in as many V as the width needs.
template <class V>
constexpr std::size_t kValues = kReduceLanes / lanes<V>();

// The lanes summed in double in lane order, after the tail went into `lane_sums`.
double sum_lanes(const float (&lane_sums)[kReduceLanes]) {
  double s = 0.0;
  for (float lane : lane_sums) s += static_cast<double>(lane);
  return s;
}

template <class V>
void store_lanes(const V (&acc)[kValues<V>], float (&lane_sums)[kReduceLanes]) {
  for (std::size_t k = 0; k < kValues<V>; ++k) vstore_unaligned(lane_sums + k * lanes<V>(), acc[k]);
}

template <bool Maximize, class V>
V signed_grad(V g) {
  if constexpr (Maximize)
    return ops::neg(g);
  else
    return g;
}

// max(v, e) keeping NaN (torch's clamp_min).
template <class V>
V clamp_min(V v, V e) {
  return ops::select(v < e, e, v);
}

// U from the factored estimate: (1 / sqrt(max(row * col / row_mean, eps1^2))) * g.
template <class V>
V factored_u(V g, V row, V col, V inv_row_mean, V eps1_sq) {
  const V v = clamp_min((row * col) * inv_row_mean, eps1_sq);
  return ops::div(V(1.0f), ops::sqrt(v)) * g;
}

template <bool Low, class V>
V lerp(V a, V b, V w, V one_minus_w) {
  if constexpr (Low)
    return a + w * (b - a);
  else
    return b - (b - a) * one_minus_w;
}

// Columns [c, c + lanes<V>()) of a row: g^2 into the lane accumulator and the column sums.
template <class V>
void row_stats_at(const float* g, float* col_sum, std::size_t c, V& acc) {
  const V x = vload_unaligned<V>(g + c);
  const V sq = x * x;
  acc = acc + sq;
  vstore_unaligned(col_sum + c, vload_unaligned<V>(col_sum + c) + sq);
}

template <class V>
void row_stats(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const std::size_t cols = a.cols;
  const std::size_t full = cols / kReduceLanes * kReduceLanes;
  for (std::size_t c = 0; c < cols; ++c) a.col_sum[c] = 0.0f;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    V acc[kValues<V>];
    for (auto& b : acc) b = V(0.0f);
    for (std::size_t c = 0; c < full; c += kReduceLanes)
      for (std::size_t k = 0; k < kValues<V>; ++k) row_stats_at<V>(g, a.col_sum, c + k * w, acc[k]);
    float lane_sums[kReduceLanes];
    store_lanes<V>(acc, lane_sums);
    for (std::size_t c = full; c < cols; ++c)
      row_stats_at<float>(g, a.col_sum, c, lane_sums[c - full]);
    a.row_sum[r] = sum_lanes(lane_sums);
  }
}

// Columns [c, c + lanes<V>()) of row r: U^2 into the lane accumulator.
template <bool Maximize, class V>
void row_norm_at(const AdafactorArgs& a, const float* g, std::size_t c, V row, V inv_row_mean,
                 V eps1_sq, V& acc) {
  const V x = signed_grad<Maximize>(vload_unaligned<V>(g + c));
  const V u = factored_u(x, row, vload_unaligned<V>(a.col_var + c), inv_row_mean, eps1_sq);
  acc = acc + u * u;
}

template <class V, bool Maximize>
void row_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const std::size_t cols = a.cols;
  const std::size_t full = cols / kReduceLanes * kReduceLanes;
  const V inv_row_mean(a.inv_row_mean), eps1_sq(a.eps1_sq);
  double total = 0.0;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    const V row(a.row_var[r]);
    V acc[kValues<V>];
    for (auto& b : acc) b = V(0.0f);
    for (std::size_t c = 0; c < full; c += kReduceLanes)
      for (std::size_t k = 0; k < kValues<V>; ++k)
        row_norm_at<Maximize>(a, g, c + k * w, row, inv_row_mean, eps1_sq, acc[k]);
    float lane_sums[kReduceLanes];
    store_lanes<V>(acc, lane_sums);
    for (std::size_t c = full; c < cols; ++c)
      row_norm_at<Maximize, float>(a, g, c, a.row_var[r], a.inv_row_mean, a.eps1_sq,
                                   lane_sums[c - full]);
    total += sum_lanes(lane_sums);
  }
  *a.out = total;
}

// Columns [c, c + lanes<V>()) of row r: p = p * decay + neg_step * U.
template <bool Maximize, bool Decay, class V>
void row_apply_at(const AdafactorArgs& a, const float* g, float* p, std::size_t c, V row,
                  V inv_row_mean, V eps1_sq, V decay, V neg_step) {
  const V x = signed_grad<Maximize>(vload_unaligned<V>(g + c));
  V q = vload_unaligned<V>(p + c);
  if constexpr (Decay) q = q * decay;
  q = q + neg_step * factored_u(x, row, vload_unaligned<V>(a.col_var + c), inv_row_mean, eps1_sq);
  vstore_unaligned(p + c, q);
}

template <class V, bool Maximize, bool Decay>
void row_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const std::size_t cols = a.cols;
  const V inv_row_mean(a.inv_row_mean), eps1_sq(a.eps1_sq), decay(a.decay_factor),
      neg_step(a.neg_step);
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    float* p = a.param + r * cols;
    const V row(a.row_var[r]);
    std::size_t c = 0;
    for (; c + w <= cols; c += w)
      row_apply_at<Maximize, Decay>(a, g, p, c, row, inv_row_mean, eps1_sq, decay, neg_step);
    for (; c < cols; ++c)
      row_apply_at<Maximize, Decay, float>(a, g, p, c, a.row_var[r], a.inv_row_mean, a.eps1_sq,
                                           a.decay_factor, a.neg_step);
  }
}

// Elements [i, i + lanes<V>()): the variance's lerp, stored, and U^2 into the lane accumulator.
template <bool Maximize, bool Low, class V>
void vector_norm_at(const AdafactorArgs& a, std::size_t i, V w, V one_minus_w, V eps1_sq, V& acc) {
  const V g = signed_grad<Maximize>(vload<V>(a.grad + i));
  const V v = lerp<Low>(vload<V>(a.variance + i), g * g, w, one_minus_w);
  vstore(a.variance + i, v);
  const V u = ops::div(V(1.0f), ops::sqrt(clamp_min(v, eps1_sq))) * g;
  acc = acc + u * u;
}

template <class V, bool Maximize, bool Low>
void vector_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t width = lanes<V>();
  const V w(a.w), one_minus_w(a.one_minus_w), eps1_sq(a.eps1_sq);
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    V acc[kValues<V>];
    for (auto& b : acc) b = V(0.0f);
    std::size_t i = block;
    for (; i + kReduceLanes <= block_end; i += kReduceLanes)
      for (std::size_t k = 0; k < kValues<V>; ++k)
        vector_norm_at<Maximize, Low>(a, i + k * width, w, one_minus_w, eps1_sq, acc[k]);
    float lane_sums[kReduceLanes];
    store_lanes<V>(acc, lane_sums);
    // The tensor's last elements, short of 16.
    for (; i < block_end; ++i)
      vector_norm_at<Maximize, Low, float>(a, i, a.w, a.one_minus_w, a.eps1_sq,
                                           lane_sums[(i - block) % kReduceLanes]);
    total += sum_lanes(lane_sums);
  }
  *a.out = total;
}

// Elements [i, i + lanes<V>()): p = p * decay + neg_step * U.
template <bool Maximize, bool Decay, class V>
void vector_apply_at(const AdafactorArgs& a, std::size_t i, V eps1_sq, V decay, V neg_step) {
  const V g = signed_grad<Maximize>(vload<V>(a.grad + i));
  V p = vload<V>(a.param + i);
  if constexpr (Decay) p = p * decay;
  const V u = ops::div(V(1.0f), ops::sqrt(clamp_min(vload<V>(a.variance + i), eps1_sq))) * g;
  vstore(a.param + i, p + neg_step * u);
}

template <class V, bool Maximize, bool Decay>
void vector_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V eps1_sq(a.eps1_sq), decay(a.decay_factor), neg_step(a.neg_step);
  std::size_t i = begin;
  for (; i + w <= end; i += w) vector_apply_at<Maximize, Decay>(a, i, eps1_sq, decay, neg_step);
  for (; i < end; ++i)
    vector_apply_at<Maximize, Decay, float>(a, i, a.eps1_sq, a.decay_factor, a.neg_step);
}

template <class V>
void row_norm_run(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx) { row_norm<V, mx>(a, begin, end); }, a.maximize);
}

template <class V>
void row_apply_run(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto decay) { row_apply<V, mx, decay>(a, begin, end); }, a.maximize,
             a.decay_factor != 1.0f);
}

template <class V>
void vector_norm_run(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto low) { vector_norm<V, mx, low>(a, begin, end); }, a.maximize,
             a.lerp_low);
}

template <class V>
void vector_apply_run(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto decay) { vector_apply<V, mx, decay>(a, begin, end); }, a.maximize,
             a.decay_factor != 1.0f);
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(adafactor_row_stats, AdafactorArgs, row_stats)
SIMDOPTIM_DEFINE_KERNEL(adafactor_row_norm, AdafactorArgs, row_norm_run)
SIMDOPTIM_DEFINE_KERNEL(adafactor_row_apply, AdafactorArgs, row_apply_run)
SIMDOPTIM_DEFINE_KERNEL(adafactor_vector_norm, AdafactorArgs, vector_norm_run)
SIMDOPTIM_DEFINE_KERNEL(adafactor_vector_apply, AdafactorArgs, vector_apply_run)
