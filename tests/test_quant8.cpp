// The 8-bit block quantizer of optimizer state (kernels/quant8.hpp, kernels/simd_quant8.hpp):
// the scalar reference against an independent one (every code's value from its fields in double,
// the nearest by search, ties to the even code), its round trips and error bound per block, then
// every build against the scalar reference bit for bit, also with flush-to-zero and
// denormals-are-zero set.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/quant8.hpp"
#include "kernels/quant8_check_kernel.hpp"
#include "simdoptim/isa.hpp"
#include "storage_checks.hpp"

using namespace simdoptim;
using detail::kQuantBlock;
using storage_checks::bits;
using storage_checks::from_bits;

namespace {

// A magnitude code's value relative to the scale, from its fields: 4-bit exponent e (bias 14,
// e = 0 subnormal), mantissa of `mant` bits.
double code_value(std::uint32_t c, int mant) {
  const std::uint32_t e = c >> mant, m = c & ((1U << mant) - 1);
  if (e == 0) return std::ldexp(static_cast<double>(m), -13 - mant);
  return std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -mant), static_cast<int>(e) - 14);
}

// The nearest finite code of relative value y >= 0 (ties to the even code), by search.
std::uint32_t nearest_code(double y, int mant) {
  const std::uint32_t max = (14U << mant) | ((1U << mant) - 1);
  std::uint32_t best = 0;
  for (std::uint32_t c = 1; c <= max; ++c) {
    const double d = std::fabs(code_value(c, mant) - y), db = std::fabs(code_value(best, mant) - y);
    if (d < db || (d == db && (c & 1U) == 0)) best = c;
  }
  return best;
}

struct Block {
  std::vector<std::uint8_t> codes;
  float scale;
};

// The independent reference: scale from the largest normal finite magnitude's binade; codes by
// search.
Block reference_encode(const std::vector<float>& x, bool non_negative) {
  double largest = 0.0;
  for (float v : x)
    if (std::isfinite(v) && std::fabs(v) >= std::numeric_limits<float>::min() &&
        (!non_negative || v > 0))
      largest = std::max(largest, static_cast<double>(std::fabs(v)));
  Block b{std::vector<std::uint8_t>(x.size()), 0.0f};
  if (largest == 0.0) {
    for (std::size_t j = 0; j < x.size(); ++j) {
      const float v = x[j];
      if (non_negative)
        b.codes[j] = std::isnan(v) ? 0xff : (v == INFINITY ? 0xfe : 0);
      else
        b.codes[j] =
            static_cast<std::uint8_t>((std::signbit(v) ? 0x80 : 0) | (std::isnan(v)   ? 0x7f
                                                                      : std::isinf(v) ? 0x7e
                                                                                      : 0));
    }
    return b;
  }
  // The scale's power of two: of the largest, or of its float square root.
  const double root =
      non_negative ? static_cast<double>(std::sqrt(static_cast<float>(largest))) : largest;
  const int k = std::ilogb(root);
  b.scale = static_cast<float>(std::ldexp(1.0, non_negative ? 2 * k : k));
  for (std::size_t j = 0; j < x.size(); ++j) {
    const float v = x[j];
    std::uint32_t c;
    if (non_negative) {
      if (std::isnan(v))
        c = 0xff;
      else if (v == INFINITY)
        c = 0xfe;
      else if (v < std::numeric_limits<float>::min())
        c = 0;
      else
        c = nearest_code(std::ldexp(static_cast<double>(std::sqrt(v)), -k), 4);
    } else {
      const std::uint32_t sign = std::signbit(v) ? 0x80 : 0;
      if (std::isnan(v))
        c = 0x7f | sign;
      else if (std::isinf(v))
        c = 0x7e | sign;
      else if (std::fabs(v) < std::numeric_limits<float>::min())
        c = sign;
      else
        c = nearest_code(std::ldexp(std::fabs(static_cast<double>(v)), -k), 3) | sign;
    }
    b.codes[j] = static_cast<std::uint8_t>(c);
  }
  return b;
}

float reference_decode(std::uint8_t code, float scale, bool non_negative) {
  double v;
  if (non_negative) {
    if (code == 0xff) return NAN;
    if (code == 0xfe) return INFINITY;
    const double r = code_value(code, 4);
    v = r * r * scale;
  } else {
    const std::uint32_t c = code & 0x7fU;
    const double sign = (code & 0x80) ? -1.0 : 1.0;
    if (c == 0x7f) return std::copysign(NAN, static_cast<float>(sign));
    if (c == 0x7e) return static_cast<float>(sign * INFINITY);
    v = sign * code_value(c, 3) * scale;
  }
  if (std::fabs(v) < std::numeric_limits<float>::min()) return std::signbit(v) ? -0.0f : 0.0f;
  REQUIRE(static_cast<double>(static_cast<float>(v)) == v);  // exact in fp32
  return static_cast<float>(v);
}

// Whole blocks of test values: boundary cases and random ones, in blocks of kQuantBlock.
std::vector<float> test_values(bool non_negative) {
  std::mt19937 rng(non_negative ? 7 : 8);
  std::vector<float> v;
  auto pad = [&] {
    while (v.size() % kQuantBlock != 0) v.push_back(0.0f);
  };
  const float fmin = std::numeric_limits<float>::min();
  const float specials[] = {0.0f,
                            -0.0f,
                            NAN,
                            -NAN,
                            INFINITY,
                            -INFINITY,
                            fmin,
                            -fmin,
                            fmin / 2,
                            -fmin / 4,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max(),
                            1.0f,
                            -1.0f,
                            1.9375f,
                            1.96875f,
                            1.99999f,
                            2.0f};
  // An all-zero block, a subnormal-only block, specials only, specials among values.
  v.resize(kQuantBlock, 0.0f);
  for (std::size_t j = 0; j < kQuantBlock; ++j) v.push_back(fmin * static_cast<float>(j) / 300.0f);
  for (std::size_t j = 0; j < kQuantBlock; ++j) v.push_back(j % 2 ? NAN : -INFINITY);
  for (float s : specials) v.push_back(s);
  pad();
  for (float s : specials) v.push_back(s);
  for (std::size_t j = 0; j < 100; ++j)
    v.push_back(std::ldexp(1.0f + static_cast<float>(j) / 64.0f, -static_cast<int>(j % 40)));
  pad();
  // Every code's value, the midpoints between neighbours and the floats either side, at several
  // scales: block of the largest value 1 * 2^k.
  for (int k : {-126, -100, -20, 0, 20, 63, 100, 127}) {
    const int mant = non_negative ? 4 : 3;
    for (std::uint32_t c = 0; c <= ((14U << mant) | ((1U << mant) - 1)); ++c) {
      const double a = code_value(c, mant), b = code_value(c + 1, mant);
      for (double r : {a, (a + b) / 2}) {
        const double y = non_negative ? r * r : r;
        const float x = static_cast<float>(std::ldexp(y, non_negative ? 2 * k : k));
        if (!std::isfinite(x)) continue;
        v.push_back(x);
        v.push_back(std::nextafter(x, 0.0f));
        v.push_back(std::nextafter(x, INFINITY));
        if (v.size() % kQuantBlock == 0) v.push_back(std::ldexp(1.0f, k));
      }
    }
    pad();
  }
  // Random blocks: bit patterns, and values of one magnitude spread over 2^-40..1.
  for (int b = 0; b < 512; ++b) {
    const int k = static_cast<int>(rng() % 200) - 100;
    for (std::size_t j = 0; j < kQuantBlock; ++j) {
      float x;
      if (b % 4 == 0) {
        x = from_bits(static_cast<std::uint32_t>(rng()));
      } else {
        const double u = std::ldexp(static_cast<double>(rng() % 0xffffff + 1), -24);
        x = static_cast<float>(std::ldexp(std::pow(u, 1 + b % 7), k));
        if (rng() % 2) x = -x;
      }
      v.push_back(x);
    }
  }
  if (non_negative)
    for (float& x : v)
      if (!std::isnan(x) && rng() % 8 != 0) x = std::fabs(x);
  return v;
}

struct Encoded {
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
};

Encoded run_encode(Isa isa, const std::vector<float>& x, bool non_negative) {
  const std::size_t n = x.size();
  detail::AlignedBuffer values(n, 0), codes(n / 4, 1), scales(n / kQuantBlock, 2);
  std::copy(x.begin(), x.end(), values.data());
  auto* c = reinterpret_cast<std::uint8_t*>(codes.data());
  detail::quant8_check_kernel(isa)({false, non_negative, values.data(), c, scales.data()}, 0, n);
  return {{c, c + n}, {scales.data(), scales.data() + n / kQuantBlock}};
}

std::vector<std::uint32_t> run_decode(Isa isa, const Encoded& e, bool non_negative) {
  const std::size_t n = e.codes.size();
  detail::AlignedBuffer values(n, 0), codes(n / 4, 1), scales(n / kQuantBlock, 2);
  auto* c = reinterpret_cast<std::uint8_t*>(codes.data());
  std::copy(e.codes.begin(), e.codes.end(), c);
  std::copy(e.scales.begin(), e.scales.end(), scales.data());
  detail::quant8_check_kernel(isa)({true, non_negative, values.data(), c, scales.data()}, 0, n);
  std::vector<std::uint32_t> out(n);
  for (std::size_t j = 0; j < n; ++j) out[j] = bits(values.data()[j]);
  return out;
}

}  // namespace

TEST_CASE("the scalar quantizer equals an independent reference", "[quant8]") {
  for (bool non_negative : {false, true}) {
    INFO("non_negative " << non_negative);
    const std::vector<float> x = test_values(non_negative);
    const Encoded got = run_encode(Isa::scalar, x, non_negative);
    for (std::size_t b = 0; b < x.size() / kQuantBlock; ++b) {
      const std::vector<float> block(x.begin() + b * kQuantBlock,
                                     x.begin() + (b + 1) * kQuantBlock);
      const Block want = reference_encode(block, non_negative);
      INFO("block " << b);
      REQUIRE(bits(got.scales[b]) == bits(want.scale));
      for (std::size_t j = 0; j < kQuantBlock; ++j) {
        INFO("value " << block[j] << " bits " << bits(block[j]));
        REQUIRE(int{got.codes[b * kQuantBlock + j]} == int{want.codes[j]});
      }
    }
  }
}

TEST_CASE("every code decodes as its fields say and re-encodes to itself", "[quant8]") {
  for (bool non_negative : {false, true}) {
    INFO("non_negative " << non_negative);
    const int mant = non_negative ? 4 : 3;
    const std::uint32_t max = (14U << mant) | ((1U << mant) - 1);
    // One block of every finite code, its largest code in the top binade, and the specials.
    std::vector<std::uint8_t> codes;
    for (std::uint32_t c = 0; c <= max; ++c) codes.push_back(static_cast<std::uint8_t>(c));
    if (!non_negative)
      for (std::uint32_t c = 0; c <= max; ++c) codes.push_back(static_cast<std::uint8_t>(c | 0x80));
    for (std::uint32_t c : non_negative ? std::vector<std::uint32_t>{0xfe, 0xff}
                                        : std::vector<std::uint32_t>{0x7e, 0x7f, 0xfe, 0xff})
      codes.push_back(static_cast<std::uint8_t>(c));
    codes.resize(kQuantBlock, 0);
    for (int k : {-126, -60, -1, 0, 1, 60, 126}) {
      if (non_negative && (k < -63 || k > 63)) continue;
      const float scale = std::ldexp(1.0f, non_negative ? 2 * k : k);
      INFO("scale 2^" << (non_negative ? 2 * k : k));
      const Encoded e{codes, {scale}};
      const std::vector<std::uint32_t> values = run_decode(Isa::scalar, e, non_negative);
      std::vector<float> x(kQuantBlock);
      for (std::size_t j = 0; j < kQuantBlock; ++j) {
        x[j] = from_bits(values[j]);
        const float want = reference_decode(codes[j], scale, non_negative);
        INFO("code " << int{codes[j]});
        if (std::isnan(want))
          REQUIRE((std::isnan(x[j]) && std::signbit(x[j]) == std::signbit(want)));
        else
          REQUIRE(values[j] == bits(want));
      }
      const Encoded again = run_encode(Isa::scalar, x, non_negative);
      REQUIRE(bits(again.scales[0]) == bits(scale));
      for (std::size_t j = 0; j < kQuantBlock; ++j) {
        INFO("code " << int{codes[j]} << " value " << x[j]);
        // Codes whose value is below fp32's normal range come back as a zero of their sign.
        const bool flushed = std::fabs(x[j]) == 0.0f;
        const int want = flushed ? (codes[j] & (non_negative ? 0 : 0x80)) : codes[j];
        REQUIRE(int{again.codes[j]} == want);
      }
    }
  }
}

TEST_CASE("the quantization error is within the stated bound per block", "[quant8]") {
  const float fmin = std::numeric_limits<float>::min();
  for (bool non_negative : {false, true}) {
    INFO("non_negative " << non_negative);
    const std::vector<float> x = test_values(non_negative);
    const Encoded e = run_encode(Isa::scalar, x, non_negative);
    const std::vector<std::uint32_t> q = run_decode(Isa::scalar, e, non_negative);
    std::size_t checked = 0;
    for (std::size_t j = 0; j < x.size(); ++j) {
      const double s = e.scales[j / kQuantBlock];
      const double v = x[j], got = from_bits(q[j]);
      INFO("value " << x[j] << " decoded " << got << " scale " << s);
      if (std::isnan(v)) {
        REQUIRE(std::isnan(got));
        continue;
      }
      if (std::isinf(v)) {
        REQUIRE(got == (non_negative && v < 0 ? 0.0 : v));
        continue;
      }
      if (non_negative && v < 0) {
        REQUIRE(got == 0.0);
        continue;
      }
      if (std::fabs(v) < fmin) {
        REQUIRE(got == 0.0);
        continue;
      }
      // Signed: 3 mantissa bits, half an ulp is |x| / 16 (|x| / 15.5 where the largest code
      // saturates), subnormal codes' half step 2^-17 scale; non-negative: the same in the
      // square-root domain with 4 mantissa bits (plus the float square root's rounding).
      if (non_negative) {
        const double bound =
            std::max(std::sqrt(v) / 31.5, std::ldexp(std::sqrt(s), -18)) * (1 + 1e-6);
        REQUIRE(std::fabs(std::sqrt(got) - std::sqrt(v)) <= bound + std::sqrt(fmin));
      } else {
        const double bound = std::max(std::fabs(v) / 15.5, std::ldexp(s, -17));
        REQUIRE(std::fabs(got - v) <= bound + fmin);
      }
      ++checked;
    }
    REQUIRE(checked > x.size() / 2);
  }
}

TEST_CASE("every build quantizes and dequantizes as the scalar reference", "[quant8][isa]") {
  for (bool non_negative : {false, true}) {
    INFO("non_negative " << non_negative);
    const std::vector<float> x = test_values(non_negative);
    const Encoded want = run_encode(Isa::scalar, x, non_negative);
    const std::vector<std::uint32_t> want_values = run_decode(Isa::scalar, want, non_negative);
    // Every code in every block, for decoding.
    Encoded all = want;
    for (std::size_t j = 0; j < all.codes.size(); ++j)
      all.codes[j] = static_cast<std::uint8_t>(j * 7 + j / 256);
    const std::vector<std::uint32_t> want_all = run_decode(Isa::scalar, all, non_negative);
    for (Isa isa : supported_isas()) {
      INFO(isa_name(isa));
      const Encoded got = run_encode(isa, x, non_negative);
      REQUIRE(got.scales == want.scales);
      REQUIRE(got.codes == want.codes);
      REQUIRE(run_decode(isa, want, non_negative) == want_values);
      REQUIRE(run_decode(isa, all, non_negative) == want_all);
#if defined(__SSE2__)
      // Flush-to-zero and denormals-are-zero change nothing.
      Encoded ftz;
      std::vector<std::uint32_t> ftz_values;
      {
        const storage_checks::FlushDenormals flush;
        ftz = run_encode(isa, x, non_negative);
        ftz_values = run_decode(isa, want, non_negative);
      }
      REQUIRE(ftz.codes == want.codes);
      REQUIRE(ftz.scales == want.scales);
      REQUIRE(ftz_values == want_values);
#endif
    }
  }
}
