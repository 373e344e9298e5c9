// Each element operation the SIMD kernels use (kernels/simd.hpp: +, -, *, div, sqrt, abs,
// negate, nan_max, compare-and-select, isnan, flush_below), in every build, against the scalar
// reference's operation bit for bit: every pair of boundary and special values, and random bit
// patterns. xsimd may implement an operation approximately on one instruction set (float division
// and square root on aarch64 are reciprocal estimates in xsimd 8.1); this finds that operation
// directly, where the optimizer tests would only see a few ulp of drift.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/simd_ops_check_kernel.hpp"
#include "simdoptim/isa.hpp"

using namespace simdoptim;
using detail::SimdOp;

namespace {

struct OpInfo {
  SimdOp op;
  const char* name;
  bool binary;
};

constexpr OpInfo kOps[] = {
    {SimdOp::add, "add", true},
    {SimdOp::sub, "sub", true},
    {SimdOp::mul, "mul", true},
    {SimdOp::div, "div", true},
    {SimdOp::sqrt, "sqrt", false},
    {SimdOp::abs, "abs", false},
    {SimdOp::negate, "negate", false},
    {SimdOp::nan_max, "nan_max", true},
    {SimdOp::select_less, "select_less", true},
    {SimdOp::select_greater, "select_greater", true},
    {SimdOp::select_nan, "select_nan", true},
    {SimdOp::flush_min, "flush_min", false},
    {SimdOp::flush_off, "flush_off", false},
};

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::uint32_t to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Zeros, subnormals, the normal range's edges, infinities, NaNs with and without payload and
// sign, values an ulp either side of 1 and of 2 (where the reciprocal estimates err most), and
// perfect squares.
std::vector<float> boundary_values() {
  using L = std::numeric_limits<float>;
  std::vector<float> v = {
      0.0f,
      L::denorm_min(),
      2 * L::denorm_min(),
      from_bits(0x00400000),  // a mid-range subnormal
      from_bits(0x007fffff),  // the largest subnormal
      L::min(),
      from_bits(0x00800001),
      1e-30f,
      0.5f,
      std::nextafter(1.0f, 0.0f),
      1.0f,
      std::nextafter(1.0f, 2.0f),
      std::nextafter(2.0f, 0.0f),
      2.0f,
      3.0f,
      4.0f,
      7.0f,
      9.0f,
      10.0f,
      1e8f,
      16777216.0f,
      1e30f,
      from_bits(0x7e800000),  // 2^126: its reciprocal is subnormal
      from_bits(0x7f000000),  // 2^127
      std::nextafter(L::max(), 0.0f),
      L::max(),
      L::infinity(),
      L::quiet_NaN(),
      from_bits(0x7fc12345),  // quiet NaN with a payload
  };
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

// Random finite and non-finite bit patterns, and random values spread over every exponent.
std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t bits = static_cast<std::uint32_t>(rng());
    v[i] = from_bits(bits);
  }
  return v;
}

constexpr std::size_t kAlign = 64 / sizeof(float);  // a multiple of every build's width

struct Inputs {
  std::vector<float> a, b;
};

// Every pair of boundary values, then random pairs, padded to whole 64-byte lines.
Inputs make_inputs() {
  Inputs in;
  const auto edge = boundary_values();
  for (float x : edge)
    for (float y : edge) {
      in.a.push_back(x);
      in.b.push_back(y);
    }
  // Random bit patterns against each other and against the boundary values.
  const auto ra = random_values(1 << 16, 1), rb = random_values(1 << 16, 2);
  in.a.insert(in.a.end(), ra.begin(), ra.end());
  in.b.insert(in.b.end(), rb.begin(), rb.end());
  for (std::size_t i = 0; i < ra.size(); i += 16) {
    in.a.push_back(ra[i]);
    in.b.push_back(edge[i / 16 % edge.size()]);
    in.a.push_back(edge[i / 16 % edge.size()]);
    in.b.push_back(rb[i]);
  }
  // Random values of ordinary magnitude, where most of an optimizer's arithmetic happens.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::uniform_int_distribution<int> exponent(-40, 40);
  for (int i = 0; i < (1 << 15); ++i) {
    in.a.push_back(std::ldexp(mantissa(rng), exponent(rng)));
    in.b.push_back(std::ldexp(mantissa(rng), exponent(rng)));
  }
  while (in.a.size() % kAlign != 0) {
    in.a.push_back(1.0f);
    in.b.push_back(1.0f);
  }
  return in;
}

std::vector<float> run(Isa isa, SimdOp op, const Inputs& in) {
  const std::size_t n = in.a.size();
  detail::AlignedBuffer a(n, 0), b(n, 1), out(n, 2);
  std::memcpy(a.data(), in.a.data(), n * sizeof(float));
  std::memcpy(b.data(), in.b.data(), n * sizeof(float));
  detail::simd_op_kernel(isa)({op, a.data(), b.data(), out.data()}, 0, n);
  return {out.data(), out.data() + n};
}

std::string hex(float f) {
  std::ostringstream s;
  s << std::hexfloat << f << " (0x" << std::hex << to_bits(f) << ")";
  return s.str();
}

}  // namespace

TEST_CASE("every build's element operations equal the scalar reference's bit for bit",
          "[kernels][simd_ops]") {
  const Inputs in = make_inputs();
  for (Isa isa : supported_isas()) {
    if (isa == Isa::scalar) continue;
    for (const OpInfo& op : kOps) {
      const auto reference = run(Isa::scalar, op.op, in);
      const auto got = run(isa, op.op, in);
      std::size_t mismatches = 0, first = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        // IEEE 754 leaves which NaN comes out of two NaN operands to the hardware and the
        // compiler's operand order; with at most one NaN operand the bits must match.
        const bool two_nans = op.binary && std::isnan(in.a[i]) && std::isnan(in.b[i]);
        if (two_nans && std::isnan(got[i]) && std::isnan(reference[i])) continue;
        if (to_bits(got[i]) != to_bits(reference[i]) && mismatches++ == 0) first = i;
      }
      INFO(isa_name(isa) << " " << op.name << ": " << mismatches << " of " << got.size()
                         << " differ; first: a=" << hex(in.a[first]) << " b=" << hex(in.b[first])
                         << " got " << hex(got[first]) << ", scalar " << hex(reference[first]));
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("the element operations' scalar reference is IEEE 754", "[kernels][simd_ops]") {
  // Spot checks that the reference itself is exact, so agreeing with it means something.
  Inputs in{std::vector<float>(kAlign, 1.0f), std::vector<float>(kAlign, 1.0f)};
  in.b[0] = 3.0f;
  in.b[1] = from_bits(0x7f000000);  // 2^127
  in.a[2] = 2.0f;
  in.a[3] = -0.0f;
  in.a[4] = std::numeric_limits<float>::infinity();
  const auto quotient = run(Isa::scalar, SimdOp::div, in);
  CHECK(to_bits(quotient[0]) == 0x3eaaaaab);  // 1/3, rounded to nearest
  CHECK(to_bits(quotient[1]) == 0x00400000);  // 2^-127, a subnormal
  const auto root = run(Isa::scalar, SimdOp::sqrt, in);
  CHECK(to_bits(root[2]) == 0x3fb504f3);  // sqrt(2), rounded to nearest
  CHECK(to_bits(root[3]) == 0x80000000);  // sqrt(-0) = -0
  CHECK(std::isinf(root[4]));
  in.a[5] = -std::numeric_limits<float>::denorm_min();
  in.a[6] = std::numeric_limits<float>::min();
  in.a[7] = from_bits(0x007fffff);  // the largest subnormal
  const auto flushed = run(Isa::scalar, SimdOp::flush_min, in);
  CHECK(to_bits(flushed[5]) == 0x80000000);  // a zero of its sign
  CHECK(to_bits(flushed[6]) == 0x00800000);  // FLT_MIN itself is kept
  CHECK(to_bits(flushed[7]) == 0x00000000);
  CHECK(to_bits(run(Isa::scalar, SimdOp::flush_off, in)[7]) == 0x007fffff);
}
