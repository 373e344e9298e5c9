// Adafactor's scalar reference: the same operations, lanes and order as adafactor_simd.cpp.
#include <cmath>

#include "kernels/adafactor_kernel.hpp"
#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail::scalar {
namespace {

float clamp_min(float v, float e) {
  return v < e ? e : v;
}

float factored_u(float g, float row, float col, float inv_row_mean, float eps1_sq) {
  const float v = clamp_min((row * col) * inv_row_mean, eps1_sq);
  return (1.0f / std::sqrt(v)) * g;
}

double sum_lanes(const float (&lanes)[kReduceLanes]) {
  double s = 0.0;
  for (float lane : lanes) s += static_cast<double>(lane);
  return s;
}

float lerp(const AdafactorArgs& a, float start, float end) {
  return a.lerp_low ? start + a.w * (end - start) : end - (end - start) * a.one_minus_w;
}

}  // namespace

void adafactor_row_stats(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  const std::size_t cols = a.cols;
  for (std::size_t c = 0; c < cols; ++c) a.col_sum[c] = 0.0f;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * cols;
    float lanes[kReduceLanes] = {};
    for (std::size_t c = 0; c < cols; ++c) {
      const float sq = g[c] * g[c];
      lanes[c % kReduceLanes] = lanes[c % kReduceLanes] + sq;
      a.col_sum[c] = a.col_sum[c] + sq;
    }
    a.row_sum[r] = sum_lanes(lanes);
  }
}

void adafactor_row_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * a.cols;
    float lanes[kReduceLanes] = {};
    for (std::size_t c = 0; c < a.cols; ++c) {
      const float x = a.maximize ? -g[c] : g[c];
      const float u = factored_u(x, a.row_var[r], a.col_var[c], a.inv_row_mean, a.eps1_sq);
      lanes[c % kReduceLanes] = lanes[c % kReduceLanes] + u * u;
    }
    total += sum_lanes(lanes);
  }
  *a.out = total;
}

void adafactor_row_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t r = begin; r < end; ++r) {
    const float* g = a.grad + r * a.cols;
    float* p = a.param + r * a.cols;
    for (std::size_t c = 0; c < a.cols; ++c) {
      const float x = a.maximize ? -g[c] : g[c];
      float q = p[c];
      if (a.decay_factor != 1.0f) q = q * a.decay_factor;
      p[c] = q + a.neg_step * factored_u(x, a.row_var[r], a.col_var[c], a.inv_row_mean, a.eps1_sq);
    }
  }
}

void adafactor_vector_norm(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  double total = 0.0;
  for (std::size_t block = begin; block < end; block += kReduceBlock) {
    const std::size_t block_end = block + kReduceBlock < end ? block + kReduceBlock : end;
    float lanes[kReduceLanes] = {};
    for (std::size_t i = block; i < block_end; ++i) {
      const float g = a.maximize ? -a.grad[i] : a.grad[i];
      const float v = lerp(a, a.variance[i], g * g);
      a.variance[i] = v;
      const float u = (1.0f / std::sqrt(clamp_min(v, a.eps1_sq))) * g;
      lanes[(i - block) % kReduceLanes] = lanes[(i - block) % kReduceLanes] + u * u;
    }
    total += sum_lanes(lanes);
  }
  *a.out = total;
}

void adafactor_vector_apply(const AdafactorArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float g = a.maximize ? -a.grad[i] : a.grad[i];
    float p = a.param[i];
    if (a.decay_factor != 1.0f) p = p * a.decay_factor;
    const float u = (1.0f / std::sqrt(clamp_min(a.variance[i], a.eps1_sq))) * g;
    a.param[i] = p + a.neg_step * u;
  }
}

}  // namespace simdoptim::detail::scalar
