// The 16-bit storage conversions (kernels/half.hpp, kernels/simd_half.hpp): the scalar reference
// against an independent one (values from exponent and mantissa fields in double; nearest-even
// by searching the sorted table of every finite half), then every build against the scalar
// reference bit for bit: every 16-bit pattern widened, and narrowed from every half value, every
// midpoint between neighbours and the floats either side of it, boundary values and 2^20 random
// bit patterns.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/half.hpp"
#include "kernels/half_convert_check_kernel.hpp"
#include "simdoptim/dtype_convert.hpp"
#include "simdoptim/isa.hpp"
#include "storage_checks.hpp"

using namespace simdoptim;
using detail::HalfConversion;
using storage_checks::bf16_instruction_settings;
using storage_checks::Bf16Instructions;
using storage_checks::bits;
using storage_checks::FlushDenormals;
using storage_checks::from_bits;

namespace {

struct Format {
  const char* name;
  int exp_bits, mant_bits;
  HalfConversion to, from;
  std::uint16_t (*narrow)(float);
  float (*widen)(std::uint16_t);
};

const Format kBf16{"bf16",
                   8,
                   7,
                   HalfConversion::to_bf16,
                   HalfConversion::from_bf16,
                   detail::bf16_from_f32,
                   detail::f32_from_bf16};
const Format kF16{"fp16",
                  5,
                  10,
                  HalfConversion::to_f16,
                  HalfConversion::from_f16,
                  detail::f16_from_f32,
                  detail::f32_from_f16};

// The value of a finite non-negative pattern (sign bit clear) from its fields; the pattern just
// past the largest finite one (Inf) counts as the next power of two, as rounding sees it.
double value_of(const Format& f, std::uint32_t h) {
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  const std::uint32_t e = h >> f.mant_bits, m = h & ((1U << f.mant_bits) - 1);
  if (e == 0) return std::ldexp(static_cast<double>(m), 1 - bias - f.mant_bits);
  return std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -f.mant_bits),
                    static_cast<int>(e) - bias);
}

std::uint32_t inf_pattern(const Format& f) {
  return ((1U << f.exp_bits) - 1) << f.mant_bits;
}

// The quiet NaN a NaN narrows to: its sign, the quiet bit, the payload's top bits.
std::uint16_t narrowed_nan(const Format& f, float x) {
  const std::uint32_t u = bits(x);
  const std::uint32_t sign = (u >> 31) << (f.exp_bits + f.mant_bits);
  const std::uint32_t payload = (u & 0x7fffffU) >> (23 - f.mant_bits);
  return static_cast<std::uint16_t>(sign | inf_pattern(f) | (1U << (f.mant_bits - 1)) | payload);
}

// Nearest-even by table search: the independent reference of narrowing.
std::uint16_t reference_narrow(const Format& f, const std::vector<double>& table, float x) {
  if (std::isnan(x)) return narrowed_nan(f, x);
  const std::uint32_t sign = std::signbit(x) ? 1U << (f.exp_bits + f.mant_bits) : 0;
  const double a = std::fabs(static_cast<double>(x));
  std::uint32_t k;
  if (a >= table.back()) {
    k = inf_pattern(f);
  } else {
    k = static_cast<std::uint32_t>(std::upper_bound(table.begin(), table.end(), a) - table.begin() -
                                   1);
    const double below = a - table[k], above = table[k + 1] - a;
    if (above < below || (above == below && (k & 1U) != 0)) ++k;
  }
  return static_cast<std::uint16_t>(sign | k);
}

// Every finite non-negative value of `f` in pattern order, then Inf as the next power of two.
std::vector<double> table_of(const Format& f) {
  std::vector<double> t;
  for (std::uint32_t h = 0; h <= inf_pattern(f); ++h) t.push_back(value_of(f, h));
  return t;
}

// Every half value, each midpoint between neighbours and the floats either side of it, both
// signs; boundary floats; random bit patterns.
std::vector<float> narrowing_inputs(const Format& f) {
  using L = std::numeric_limits<float>;
  std::vector<float> v;
  for (std::uint32_t h = 0; h < 0x10000; ++h) v.push_back(f.widen(static_cast<std::uint16_t>(h)));
  const auto table = table_of(f);
  for (std::size_t k = 0; k + 1 < table.size(); ++k) {
    const auto mid = static_cast<float>((table[k] + table[k + 1]) / 2);
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, L::infinity())}) {
      v.push_back(x);
      v.push_back(-x);
    }
  }
  for (float x : {0.0f, L::denorm_min(), from_bits(0x007fffff), L::min(), 1.0f, 65504.0f,
                  65519.996f, 65520.0f, 65536.0f, L::max(), L::infinity(), L::quiet_NaN(),
                  L::signaling_NaN(), from_bits(0x7f800001), from_bits(0x7fc12345),
                  from_bits(0x7f80ffff), from_bits(0x7fffffff)}) {
    v.push_back(x);
    v.push_back(-x);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < (1 << 20); ++i) v.push_back(from_bits(static_cast<std::uint32_t>(rng())));
  while (v.size() % 64 != 0) v.push_back(1.0f);
  return v;
}

std::vector<std::uint16_t> every_pattern() {
  std::vector<std::uint16_t> v(0x10000);
  for (std::uint32_t h = 0; h < 0x10000; ++h) v[h] = static_cast<std::uint16_t>(h);
  return v;
}

std::vector<std::uint16_t> run_narrow(Isa isa, const Format& f, const std::vector<float>& in) {
  const std::size_t n = in.size();
  detail::AlignedBuffer src(n, 0), dst(n / 2, 1);
  std::memcpy(src.data(), in.data(), n * sizeof(float));
  detail::half_convert_kernel(isa)({f.to, src.data(), dst.data()}, 0, n);
  std::vector<std::uint16_t> out(n);
  std::memcpy(out.data(), dst.data(), n * sizeof(std::uint16_t));
  return out;
}

std::vector<std::uint32_t> run_widen(Isa isa, const Format& f,
                                     const std::vector<std::uint16_t>& in) {
  const std::size_t n = in.size();
  detail::AlignedBuffer src(n / 2, 0), dst(n, 1);
  std::memcpy(src.data(), in.data(), n * sizeof(std::uint16_t));
  detail::half_convert_kernel(isa)({f.from, src.data(), dst.data()}, 0, n);
  std::vector<std::uint32_t> out(n);
  std::memcpy(out.data(), dst.data(), n * sizeof(float));
  return out;
}

std::string hex(std::uint32_t u) {
  std::ostringstream s;
  s << "0x" << std::hex << u;
  return s.str();
}

}  // namespace

TEST_CASE("widening every 16-bit pattern is exact and quiets NaNs", "[kernels][half]") {
  for (const Format* f : {&kBf16, &kF16}) {
    INFO(f->name);
    const std::uint32_t sign_bit = 1U << (f->exp_bits + f->mant_bits);
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
      const float got = f->widen(static_cast<std::uint16_t>(h));
      const std::uint32_t mag = h & (sign_bit - 1);
      const bool negative = (h & sign_bit) != 0;
      INFO(hex(h) << " -> " << hex(bits(got)));
      if (mag > inf_pattern(*f)) {
        // A NaN: same sign, quiet, the payload moved to the top of fp32's mantissa.
        const std::uint32_t payload = (mag & ((1U << f->mant_bits) - 1)) << (23 - f->mant_bits);
        REQUIRE(bits(got) == ((negative ? 0x80000000U : 0U) | 0x7fc00000U | payload));
      } else {
        const double expected =
            mag == inf_pattern(*f) ? std::numeric_limits<double>::infinity() : value_of(*f, mag);
        REQUIRE(static_cast<double>(got) == (negative ? -expected : expected));
        REQUIRE(std::signbit(got) == negative);
      }
    }
  }
}

TEST_CASE("narrowing rounds to nearest-even like an independent reference", "[kernels][half]") {
  for (const Format* f : {&kBf16, &kF16}) {
    INFO(f->name);
    const auto table = table_of(*f);
    std::size_t mismatches = 0;
    for (float x : narrowing_inputs(*f)) {
      const std::uint16_t got = f->narrow(x), want = reference_narrow(*f, table, x);
      if (got != want && mismatches++ < 5)
        WARN(f->name << "(" << hex(bits(x)) << ") = " << hex(got) << ", want " << hex(want));
    }
    CHECK(mismatches == 0);
    // Widening then narrowing is the identity, except that signalling NaNs come back quiet.
    const std::uint32_t quiet = 1U << (f->mant_bits - 1);
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
      const std::uint32_t mag = h & 0x7fffU;
      const std::uint32_t want = mag > inf_pattern(*f) ? h | quiet : h;
      REQUIRE(f->narrow(f->widen(static_cast<std::uint16_t>(h))) == want);
    }
  }
  // Spot checks of the definition: ties to even, overflow, subnormals kept.
  CHECK(detail::bf16_from_f32(from_bits(0x3f808000)) == 0x3f80);  // tie, even below
  CHECK(detail::bf16_from_f32(from_bits(0x3f818000)) == 0x3f82);  // tie, even above
  CHECK(detail::bf16_from_f32(from_bits(0x7f7fffff)) == 0x7f80);  // FLT_MAX rounds to Inf
  CHECK(detail::bf16_from_f32(from_bits(0x00018000)) == 0x0002);  // a subnormal, not flushed
  CHECK(detail::f16_from_f32(65519.0f) == 0x7bff);
  CHECK(detail::f16_from_f32(65520.0f) == 0x7c00);               // tie with Inf: even
  CHECK(detail::f16_from_f32(std::ldexp(1.0f, -25)) == 0x0000);  // tie with zero: even
  CHECK(detail::f16_from_f32(std::ldexp(1.5f, -25)) == 0x0001);  // fp16's smallest subnormal
  CHECK(detail::f16_from_f32(-std::ldexp(1.0f, -24)) == 0x8001);
}

TEST_CASE("every build's conversions equal the scalar reference's bit for bit", "[kernels][half]") {
  for (const Format* f : {&kBf16, &kF16}) {
    const auto wide_in = narrowing_inputs(*f);
    const auto narrow_in = every_pattern();
    const auto narrow_ref = run_narrow(Isa::scalar, *f, wide_in);
    const auto wide_ref = run_widen(Isa::scalar, *f, narrow_in);
    for (std::size_t i = 0; i < wide_in.size(); ++i)
      REQUIRE(narrow_ref[i] == f->narrow(wide_in[i]));
    for (bool instructions : bf16_instruction_settings())
    for (Isa isa : supported_isas()) {
      if (isa == Isa::scalar) continue;
      const Bf16Instructions use(instructions);
      INFO(isa_name(isa) << " " << f->name << ", bf16 instructions " << instructions);
      const auto narrowed = run_narrow(isa, *f, wide_in);
      const auto widened = run_widen(isa, *f, narrow_in);
      std::size_t bad = 0, first = 0;
      for (std::size_t i = 0; i < narrowed.size(); ++i)
        if (narrowed[i] != narrow_ref[i] && bad++ == 0) first = i;
      INFO("narrowing: " << bad << " differ; first " << hex(bits(wide_in[first])) << " -> "
                         << hex(narrowed[first]) << ", scalar " << hex(narrow_ref[first]));
      CHECK(bad == 0);
      bad = 0;
      for (std::size_t i = 0; i < widened.size(); ++i)
        if (widened[i] != wide_ref[i] && bad++ == 0) first = i;
      INFO("widening: " << bad << " differ; first " << hex(static_cast<std::uint32_t>(first))
                        << " -> " << hex(widened[first]) << ", scalar " << hex(wide_ref[first]));
      CHECK(bad == 0);
    }
  }
}

// AVX-512's fp16 conversions are hardware instructions; the reference's bits must not depend on
// the calling thread's denormal modes either.
TEST_CASE("every build's conversions ignore flush-to-zero and denormals-are-zero",
          "[kernels][half]") {
  for (const Format* f : {&kBf16, &kF16}) {
    const auto wide_in = narrowing_inputs(*f);
    const auto narrow_in = every_pattern();
    const auto narrow_ref = run_narrow(Isa::scalar, *f, wide_in);
    const auto wide_ref = run_widen(Isa::scalar, *f, narrow_in);
    for (bool instructions : bf16_instruction_settings())
    for (Isa isa : supported_isas()) {
      INFO(isa_name(isa) << " " << f->name << ", bf16 instructions " << instructions);
      std::vector<std::uint16_t> narrowed;
      std::vector<std::uint32_t> widened;
      {
        const Bf16Instructions use(instructions);
        const FlushDenormals flush;
        narrowed = run_narrow(isa, *f, wide_in);
        widened = run_widen(isa, *f, narrow_in);
      }
      CHECK(narrowed == narrow_ref);
      CHECK(widened == wide_ref);
    }
  }
}

TEST_CASE("the public conversions are the reference's", "[kernels][half]") {
  for (float x :
       {0.0f, -1.5f, 1e-40f, 65520.0f, 3.14159f, std::numeric_limits<float>::infinity()}) {
    CHECK(to_bits16(DType::bf16, x) == detail::bf16_from_f32(x));
    CHECK(to_bits16(DType::f16, x) == detail::f16_from_f32(x));
  }
  for (std::uint32_t h : {0x0000U, 0x3f80U, 0x8001U, 0x7c00U, 0xfbffU}) {
    const auto b = static_cast<std::uint16_t>(h);
    CHECK(bits(from_bits16(DType::bf16, b)) == bits(detail::f32_from_bf16(b)));
    CHECK(bits(from_bits16(DType::f16, b)) == bits(detail::f32_from_f16(b)));
  }
}
