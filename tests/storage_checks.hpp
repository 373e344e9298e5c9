#pragma once
// Helpers shared by the storage-precision suites (test_half_conversions.cpp, test_quant8.cpp,
// test_storage_precision.cpp, test_state_q8.cpp): float bit patterns, the calling thread's
// denormal modes, and building, writing and snapshotting a param group whatever its storage.
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/bf16_instructions.hpp"
#include "kernels/half.hpp"
#include "simdoptim/param_group.hpp"
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace storage_checks {

inline std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Sets the calling thread's flush-to-zero and denormals-are-zero modes (x86 MXCSR's FTZ and DAZ,
// aarch64 FPCR's FZ) for its lifetime.
class FlushDenormals {
 public:
  FlushDenormals() {
#if defined(__x86_64__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040U);
#elif defined(__aarch64__)
    asm volatile("mrs %0, fpcr" : "=r"(saved_));
    asm volatile("msr fpcr, %0" : : "r"(saved_ | (std::uint64_t{1} << 24)));
#endif
  }
  ~FlushDenormals() {
#if defined(__x86_64__)
    _mm_setcsr(saved_);
#elif defined(__aarch64__)
    asm volatile("msr fpcr, %0" : : "r"(saved_));
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
#if defined(__x86_64__)
  unsigned saved_ = 0;
#else
  std::uint64_t saved_ = 0;
#endif
};

// The settings of the AVX-512 kernels' bf16 conversions (kernels/bf16_instructions.hpp) this CPU
// runs: on and off where it has the extensions, so that both paths meet the reference.
inline std::vector<bool> bf16_instruction_settings() {
  const bool was = simdoptim::detail::set_bf16_instructions(true);
  const bool available = simdoptim::detail::bf16_instructions_on();
  simdoptim::detail::set_bf16_instructions(was);
  return available ? std::vector<bool>{true, false} : std::vector<bool>{false};
}

// Sets the bf16 conversions on or off for its lifetime.
class Bf16Instructions {
 public:
  explicit Bf16Instructions(bool on) : saved_(simdoptim::detail::set_bf16_instructions(on)) {}
  ~Bf16Instructions() { simdoptim::detail::set_bf16_instructions(saved_); }
  Bf16Instructions(const Bf16Instructions&) = delete;
  Bf16Instructions& operator=(const Bf16Instructions&) = delete;

 private:
  bool saved_;
};

// `n` values of N(0, 1) drawn in order from std::mt19937(seed): fixed test data.
inline std::vector<float> normal_values(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// One 1-d tensor "w<n>" of each size n, its elements initial(at), `at` counting elements across
// the tensors.
template <class Initial>
std::vector<simdoptim::ParamSpec> params_of_sizes(std::span<const std::size_t> sizes,
                                                  Initial initial) {
  std::vector<simdoptim::ParamSpec> params;
  std::size_t first = 0;
  for (std::size_t n : sizes) {
    simdoptim::ParamSpec p{"w" + std::to_string(n), {static_cast<std::int64_t>(n)}, {}};
    for (std::size_t k = 0; k < n; ++k) p.init.push_back(initial(first + k));
    first += n;
    params.push_back(std::move(p));
  }
  return params;
}

// Writes gradient(at) into every gradient of `g`, `at` counting elements across its tensors, in
// the group's grad dtype (16-bit: rounded to nearest-even by the scalar reference).
template <class Gradient>
void write_grads(simdoptim::ParamGroup& g, Gradient gradient) {
  using simdoptim::DType;
  std::size_t at = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const simdoptim::TensorView v = g.grad(i);
    for (std::size_t k = 0; k < g.info(i).numel; ++k, ++at) {
      const float x = gradient(at);
      if (v.dtype == DType::f32)
        v.data[k] = x;
      else
        v.data16[k] = v.dtype == DType::bf16 ? simdoptim::detail::bf16_from_f32(x)
                                             : simdoptim::detail::f16_from_f32(x);
    }
  }
}

// Every parameter (and master weight) and state array of `g` as bits: fp32 values, 16-bit
// patterns, q8 codes and scales.
inline std::vector<std::uint32_t> snapshot(simdoptim::ParamGroup& g) {
  std::vector<std::uint32_t> out;
  auto add = [&](const simdoptim::TensorView& v) {
    for (float x : v.data) out.push_back(bits(x));
    for (std::uint16_t h : v.data16) out.push_back(h);
    for (std::uint8_t c : v.data8) out.push_back(c);
    for (float s : v.scales) out.push_back(bits(s));
  };
  for (std::size_t i = 0; i < g.size(); ++i) {
    add(g.param(i));
    if (g.storage().master_weights) add(g.master_param(i));
    for (const std::string& name : g.state_names()) add(g.state(i, name));
  }
  return out;
}

}  // namespace storage_checks
