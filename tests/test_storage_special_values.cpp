// bf16 arrays that hold every kind of value, through every elementwise description: NaNs quiet
// and signalling with payloads, infinities, zeros, subnormals, the largest and smallest normals,
// and parameters that stay subnormal. On CPUs with AVX-512 BF16 the AVX-512 kernels convert the
// common bf16 layouts in registers (optim/rule_kernel.hpp: signalling NaNs loaded as they are,
// states and parameters narrowed by the instruction, subnormals raised into its range); the
// others (an offload engine's master weights and bf16 copy, q8 state) take the tiles. Every
// build, with the instruction on and off, must give the scalar reference's bits, whatever the
// state floor, the gradient scale, the split of the range into calls and the denormal modes.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/half.hpp"
#include "kernels/quant8.hpp"
#include "optim/elementwise_rule.hpp"
#include "optim/registration.hpp"
#include "simdoptim/simdoptim.hpp"
#include "storage_checks.hpp"

using namespace simdoptim;

namespace {

constexpr std::size_t kNumel = 1009;   // an engine's gradient buffer: a partial last batch
constexpr std::size_t kPadded = 1024;  // the arena's padded length
constexpr int kSteps = 3;

// Options that switch on every state array and flag a description has.
GroupOptions options_of(const detail::Registration& r) {
  GroupOptions o = detail::defaults_of(r.options);
  const std::pair<const char*, double> extra[] = {{"momentum", 0.9},      {"nesterov", 1.0},
                                                  {"centered", 1.0},      {"amsgrad", 1.0},
                                                  {"weight_decay", 0.01}, {"lr_decay", 0.01}};
  for (const auto& [name, value] : extra)
    for (const detail::OptionSpec& s : r.options)
      if (s.name == name) o.set(name, value);
  return o;
}

// bf16 patterns of every kind.
const std::uint16_t kSpecial[] = {
    0x0000, 0x8000,          // zeros
    0x7f80, 0xff80,          // infinities
    0x7fc0, 0xffc5,          // quiet NaNs, one with a payload
    0x7f81, 0xffa0,          // signalling NaNs
    0x0001, 0x8003, 0x007f,  // subnormals
    0x0080, 0x8080,          // smallest normals
    0x7f7f, 0xff7f,          // largest finite
};

// Element i of an array: mostly normal values of several magnitudes, one in eight special.
std::vector<std::uint16_t> values(std::uint32_t seed, bool non_negative) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  const float scales[] = {1e-3f, 1.0f, 30.0f, 1e-20f};
  std::vector<std::uint16_t> v(kPadded, 0);
  for (std::size_t i = 0; i < kNumel; ++i) {
    float x = normal(rng) * scales[rng() % 4];
    if (non_negative) x = x * x;
    v[i] = rng() % 8 == 0 ? kSpecial[rng() % std::size(kSpecial)] : detail::bf16_from_f32(x);
    if (non_negative && rng() % 8 != 0) v[i] &= 0x7fff;
  }
  return v;
}

enum class State { f32, bf16, q8 };

struct Layout {
  const char* name;
  bool param16, grad16;
  State state;
  bool stochastic = false;
  bool copy = false;  // fp32 master weights write a bf16 copy (into the engine's buffer)
};

const Layout kLayouts[] = {
    {"all bf16", true, true, State::bf16},
    {"all bf16, stochastic rounding", true, true, State::bf16, true},
    {"bf16 params and grads, fp32 state", true, true, State::f32},
    {"bf16 state, fp32 params and grads", false, false, State::bf16},
    {"offload: bf16 grads, fp32 master weights and state, bf16 copy", false, true, State::f32,
     false, true},
    {"offload with bf16 state", false, true, State::bf16, false, true},
    {"bf16 params and grads, q8 state", true, true, State::q8},
    {"offload with q8 state", false, true, State::q8, false, true},
};

struct Setting {
  float state_floor;
  float grad_scale;    // bf16-exact
  bool engine_buffer;  // the gradient in a buffer of kNumel elements
};

// Whether an 8-bit code is NaN (of either sign in a signed state: the sign of a NaN is as free
// as its payload, below).
bool q8_nan(std::uint8_t code, bool non_negative) {
  return non_negative ? code == detail::UnsignedCodes::kNaN
                      : (code & 0x7fU) == detail::SignedCodes::kNaN;
}

// The bits a run leaves in every array (a NaN code as a quiet NaN).
std::vector<std::uint32_t> run(const detail::Registration& r, const Layout& l, const Setting& s,
                               Isa isa, std::size_t piece) {
  const detail::ElementwiseRule& rule = *r.rule;
  const GroupOptions options = options_of(r);
  std::vector<std::uint16_t> p16 = values(1, false);
  // Parameters that a zero gradient leaves subnormal next to normal ones.
  for (std::size_t i = 5; i < kNumel; i += 97) p16[i] = 0x0005;
  // fp32 arrays are aligned as arenas are.
  detail::AlignedBuffer p32_buffer(kPadded, 0), g32_buffer(kPadded, 0);
  float* const p32 = p32_buffer.data();
  float* const g32 = g32_buffer.data();
  for (std::size_t i = 0; i < kPadded; ++i) p32[i] = detail::f32_from_bf16(p16[i]);
  // The master weights' copy, in an engine's buffer of kNumel elements or the arena's kPadded.
  std::vector<std::uint16_t> copy(kPadded, 0x1234);
  std::vector<std::vector<std::uint16_t>> s16;
  std::vector<std::unique_ptr<detail::AlignedBuffer>> s32_buffers;
  std::vector<float*> s32;
  std::vector<std::vector<std::uint8_t>> s8;
  std::vector<std::vector<float>> s8_scales;
  std::vector<std::size_t> used;
  for (std::size_t k = 0; k < rule.states.size(); ++k) {
    const detail::StateSpec& spec = rule.states[k];
    s16.push_back(values(10 + static_cast<std::uint32_t>(k), spec.non_negative));
    s32_buffers.push_back(std::make_unique<detail::AlignedBuffer>(kPadded, 0));
    s32.push_back(s32_buffers.back()->data());
    for (std::size_t i = 0; i < kPadded; ++i) s32[k][i] = detail::f32_from_bf16(s16[k][i]);
    s8.emplace_back(kPadded);
    s8_scales.emplace_back(kPadded / detail::kQuantBlock);
    for (std::size_t b = 0; b < kPadded; b += detail::kQuantBlock)
      s8_scales[k][b / detail::kQuantBlock] = detail::quant8_encode_block(
          s32[k] + b, s8[k].data() + b, detail::kQuantBlock, spec.non_negative);
    if (spec.when.empty() || options.get(std::string(spec.when)) != 0.0) used.push_back(k);
  }
  std::vector<double> scalars;
  for (const detail::TensorScalarSpec& t : rule.tensor_scalars) scalars.push_back(t.initial);
  const auto kernel = rule.kernel(isa);
  for (int step = 1; step <= kSteps; ++step) {
    std::vector<std::uint16_t> g16 = values(100 + static_cast<std::uint32_t>(step), false);
    for (std::size_t i = 5; i < kNumel; i += 97) g16[i] = 0;
    for (std::size_t i = 0; i < kPadded; ++i) g32[i] = detail::f32_from_bf16(g16[i]);
    detail::ElementwiseArgs a;
    rule.prepare(options, {step, step == 1}, scalars, a);
    a.state_floor = s.state_floor;
    a.grad_scale = s.grad_scale;
    if (l.param16) {
      a.param16 = {p16.data(), detail::Storage::bf16};
      a.stochastic_rounding = l.stochastic;
      a.rounding_key = detail::rounding_key(7, static_cast<std::uint64_t>(step));
    } else {
      a.param = p32;
    }
    if (l.grad16)
      a.grad16 = {g16.data(), detail::Storage::bf16};
    else
      a.grad = g32;
    if (s.engine_buffer) a.grad_count = kNumel;
    if (l.copy) {
      a.param_copy = {copy.data(), detail::Storage::bf16};
      if (s.engine_buffer) a.param_copy_count = kNumel;
    }
    for (std::size_t k : used) {
      if (l.state == State::bf16) {
        a.state16[k] = s16[k].data();
      } else if (l.state == State::q8) {
        a.state8[k] = s8[k].data();
        a.state8_scales[k] = s8_scales[k].data();
        if (rule.states[k].non_negative) a.state8_non_negative |= 1U << k;
      } else {
        a.state[k] = s32[k];
      }
    }
    a.state16_format = detail::Storage::bf16;
    for (std::size_t b = 0; b < kPadded; b += piece) kernel(a, b, std::min(b + piece, kPadded));
  }
  // As fp32 bits (bf16 widened exactly).
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < kNumel; ++i) {
    out.push_back(l.param16 ? std::uint32_t{p16[i]} << 16 : storage_checks::bits(p32[i]));
    for (std::size_t k : used) {
      if (l.state == State::bf16)
        out.push_back(std::uint32_t{s16[k][i]} << 16);
      else if (l.state == State::q8)
        out.push_back(q8_nan(s8[k][i], rule.states[k].non_negative) ? 0x7fc00000U : s8[k][i]);
      else
        out.push_back(storage_checks::bits(s32[k][i]));
    }
  }
  if (l.copy) {
    for (std::uint16_t h : copy) out.push_back(std::uint32_t{h} << 16);
    // Past an engine's buffer the copy is untouched, in every build (the reference included).
    std::size_t written_past = 0;
    for (std::size_t i = kNumel; s.engine_buffer && i < kPadded; ++i)
      written_past += copy[i] != 0x1234 ? 1 : 0;
    CHECK(written_past == 0);
  }
  if (l.state == State::q8)
    for (std::size_t k : used)
      for (float scale : s8_scales[k]) out.push_back(storage_checks::bits(scale));
  return out;
}

bool quiet_nan(std::uint32_t u) {
  return (u & 0x7fffffffU) > 0x7f800000U && (u & 0x00400000U) != 0;
}

// "" where a equals b, else their first difference. Two quiet NaNs count as equal: where two
// NaNs meet, which one's payload comes out depends on the order of commutative operands, which
// compilers choose freely; a signalling NaN must never come out.
std::string first_difference(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b) {
  if (a.size() != b.size()) return "sizes differ";
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && !(quiet_nan(a[i]) && quiet_nan(b[i])))
      return "value " + std::to_string(i) + ": " + std::to_string(a[i]) + " against " +
             std::to_string(b[i]);
  return "";
}

}  // namespace

TEST_CASE("bf16 arrays with special values: every build equals the scalar reference bit for bit",
          "[kernels][precision]") {
  const Setting settings[] = {
      {std::numeric_limits<float>::min(), 1.0f, false},
      {0.0f, 1.0f, true},
      {std::numeric_limits<float>::min(), 0.375f, true},
  };
  std::size_t subnormal_params = 0;
  for (const std::string& name : registered_optimizers()) {
    const detail::Registration* r = detail::find_registration(name);
    if (r == nullptr || r->rule == nullptr) continue;
    for (const Layout& l : kLayouts)
      for (const Setting& s : settings)
        for (bool flush : {false, true}) {
          INFO(name << ", " << l.name << ", state floor " << s.state_floor << ", grad scale "
                    << s.grad_scale << ", engine buffer " << s.engine_buffer << ", FTZ/DAZ "
                    << flush);
          std::optional<storage_checks::FlushDenormals> denormals;
          if (flush) denormals.emplace();
          const auto reference = run(*r, l, s, Isa::scalar, kPadded);
          if (!l.stochastic)
            for (std::uint32_t b : reference) subnormal_params += b == 0x00050000U ? 1 : 0;
          for (std::uint32_t b : reference)
            REQUIRE(((b & 0x7fffffffU) <= 0x7f800000U || quiet_nan(b)));
          for (bool instructions : storage_checks::bf16_instruction_settings())
            for (Isa isa : supported_isas()) {
              if (isa == Isa::scalar) continue;
              const storage_checks::Bf16Instructions use(instructions);
              INFO(isa_name(isa) << ", bf16 instructions " << instructions);
              CHECK(first_difference(run(*r, l, s, isa, kPadded), reference) == "");
              // Calls start on a q8 block.
              const std::size_t piece = l.state == State::q8 ? detail::kQuantBlock : 272;
              CHECK(first_difference(run(*r, l, s, isa, piece), reference) == "");
            }
        }
  }
  // The kernels met parameters that stay subnormal (their own path in the register loops).
  CHECK(subnormal_params > 0);
}
