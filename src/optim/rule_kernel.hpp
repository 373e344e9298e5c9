#pragma once
// Turns a description's update() (optim/rule.hpp) into kernels. A description file is compiled
// once into the library, where SIMDOPTIM_RULE_KERNEL defines the scalar reference (update at
// float), and once per instruction set (SIMDOPTIM_ISA_NS defined, see kernels/simd.hpp), where
// it defines that set's kernel (update at its batch). The loop, the loads and stores, and the
// compile-time flags live here, once for every description.
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "kernels/average_element.hpp"
#include "kernels/kernel.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/storage.hpp"
#include "kernels/storage_q8.hpp"
#include "optim/rule.hpp"

namespace simdoptim::detail {

inline constexpr std::size_t kMaxStates = 4;
inline constexpr std::size_t kMaxCoefs = 16;

// An array of 16-bit elements (kernels/storage_format.hpp: bf16 or fp16).
template <class T>
struct Array16 {
  T* data = nullptr;
  Storage format = Storage::bf16;
};

// The arguments of one kernel call, one type for every description: the arrays (padded arena
// starts; a state the flags leave unused may be null), the coefficients of Coefs<float> in
// declaration order, and the flags as bits in declaration order.
struct ElementwiseArgs {
  float* param = nullptr;
  // The gradient of arena element i is grad[i - grad_base] while i - grad_base < grad_count,
  // zero past it: the arena's gradients (base 0, count unbounded), or one tensor's gradient in
  // an engine's buffer (base the tensor's offset, count its numel).
  const float* grad = nullptr;
  std::size_t grad_base = 0;
  std::size_t grad_count = SIZE_MAX;
  // Every gradient is read as grad * grad_scale, rounded to float: the same product that
  // clip_grad_norm_'s in-place scaling stores, so a scaled step equals scale-then-step. A 16-bit
  // gradient's product is rounded to its format, as that scaling stores it (the host passes
  // the scale rounded to the format too).
  float grad_scale = 1.0f;
  std::array<float*, kMaxStates> state{};
  std::array<float, kMaxCoefs> coef{};
  std::uint32_t flags = 0;
  // Stored state values of smaller magnitude become a zero of their sign: FLT_MIN flushes
  // subnormals, 0 nothing.
  float state_floor = 0.0f;
  // The averaging update applied to each parameter the update stores (an AverageKind other
  // than copy), with its weights; none leaves `averaged` unused.
  float* averaged = nullptr;
  std::uint32_t averaging = 0;
  float average_w0 = 0.0f;
  float average_w1 = 0.0f;
  // Arrays stored in 16 bits instead of fp32. Where one is set its fp32 pointer above is null;
  // the kernel converts them through tiles of floats (run_rule_staged).
  Array16<std::uint16_t> param16;
  Array16<const std::uint16_t> grad16;  // indexed as grad is (grad_base, grad_count)
  std::array<std::uint16_t*, kMaxStates> state16{};
  Storage state16_format = Storage::bf16;
  // 8-bit quantized state arrays (kernels/quant8.hpp): codes, and one scale per block of
  // kQuantBlock (arena element i's is state8_scales[k][i / kQuantBlock]); bit k of
  // state8_non_negative marks a non-negative array. Where one is set its fp32 pointer is null.
  std::array<std::uint8_t*, kMaxStates> state8{};
  std::array<float*, kMaxStates> state8_scales{};
  std::uint32_t state8_non_negative = 0;
  // Master weights: param (fp32) is also written here, rounded to nearest-even; element i at
  // param_copy.data[i - param_copy_base] while i - param_copy_base < param_copy_count (an
  // engine's buffer of one tensor: nothing past it is written).
  Array16<std::uint16_t> param_copy;
  std::size_t param_copy_base = 0;
  std::size_t param_copy_count = SIZE_MAX;
  // param16 (bf16 only) is rounded stochastically, element i with rounding_bits(rounding_key, i).
  bool stochastic_rounding = false;
  std::uint32_t rounding_key = 0;
};

// Internal linkage: each instruction set's build keeps its own copies (no weak symbols).
namespace {

// Flags is a struct of bools: one bit each.
template <class Flags>
inline constexpr std::size_t kFlagCount = sizeof(Flags);

template <class Flags>
std::uint32_t flag_bits(const Flags& flags) noexcept {
  static_assert(std::is_trivially_copyable_v<Flags> && kFlagCount<Flags> <= 8);
  const auto b = std::bit_cast<std::array<bool, kFlagCount<Flags>>>(flags);
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < b.size(); ++i) bits |= static_cast<std::uint32_t>(b[i]) << i;
  return bits;
}

template <class Flags, std::uint32_t Bits>
constexpr Flags flags_from_bits() noexcept {
  std::array<bool, kFlagCount<Flags>> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = ((Bits >> i) & 1U) != 0;
  return std::bit_cast<Flags>(b);
}

// Coefs<float> has only float members: its count, and its packing into ElementwiseArgs.
template <class Rule>
inline constexpr std::size_t kCoefCount = sizeof(typename Rule::template Coefs<float>) /
                                          sizeof(float);

template <class Rule>
void pack_coefs(const typename Rule::template Coefs<float>& c, ElementwiseArgs& a) noexcept {
  static_assert(kCoefCount<Rule> <= kMaxCoefs);
  static_assert(std::is_trivially_copyable_v<typename Rule::template Coefs<float>>);
  std::memcpy(a.coef.data(), &c, sizeof c);
}

// Elements a 16-bit array is converted in: small enough that a tile of every array stays in
// L1, and the block of the block-wise quantized state.
inline constexpr std::size_t kTile = 256;

template <class V, class T>
void widen_tile(Array16<T> src, std::size_t at, float* dst, std::size_t n) noexcept {
  if (src.format == Storage::bf16)
    load_array_as<V, Storage::bf16>(dst, src.data + at, n);
  else
    load_array_as<V, Storage::f16>(dst, src.data + at, n);
}

template <class V>
void narrow_tile(const float* src, Array16<std::uint16_t> dst, std::size_t at,
                 std::size_t n) noexcept {
  if (dst.format == Storage::bf16)
    store_array_as<V, Storage::bf16>(dst.data + at, src, n);
  else
    store_array_as<V, Storage::f16>(dst.data + at, src, n);
}

// The parameters of elements [t, t + n), from a tile of floats into a.param16: rounded
// stochastically, or to nearest-even.
template <class V>
void narrow_param_tile(const ElementwiseArgs& a, const float* param, std::size_t t,
                       std::size_t n) noexcept {
  if (!a.stochastic_rounding) return narrow_tile<V>(param, a.param16, t, n);
  for (std::size_t j = 0; j + lanes<V>() <= n; j += lanes<V>())
    store_bf16_stochastic(a.param16.data, t + j, vload<V>(param + j), a.rounding_key);
}

// Which arrays a loop converts from and to bf16 in registers; the others are fp32. Every state
// in use is of one kind.
struct Bf16Layout {
  bool param = false, grad = false, state = false;
  friend constexpr bool operator==(const Bf16Layout&, const Bf16Layout&) = default;
};
inline constexpr Bf16Layout kAllF32{};

// One position of the arrays, as V: fp32, or bf16 where layout L says (AVX-512 builds on CPUs
// with AVX-512 BF16 only: run_rule). Loads and stores of fp32 arenas are aligned: every call's
// range starts on a tensor boundary (64 bytes) and covers whole padded tensors. The gradient may
// be an engine's buffer instead (load_until). A bf16 gradient is scaled and rounded as
// widen_grad_tile does, bf16 parameters rounded as run_rule_staged does.
template <class V, Bf16Layout L = kAllF32>
class Element {
  // Where every result is narrowed to bf16, signalling NaNs may stay signalling until then
  // (load_bf16_signalling).
  static constexpr bool kSignalling = L.param && L.grad && L.state;

 public:
  // `param_tile`: for bf16 parameters rounded stochastically, where they are stored as floats
  // instead, element i at param_tile[i - tile_start], for run_rule_loop to round.
  Element(const ElementwiseArgs& a, std::size_t i, V state_floor, V grad_scale,
          float* param_tile = nullptr, std::size_t tile_start = 0,
          V grad_scale_one = V(1.0f)) noexcept
      : a_(a),
        i_(i),
        state_floor_(state_floor),
        grad_scale_(grad_scale),
        grad_scale_one_(grad_scale_one),
        param_tile_(param_tile),
        tile_start_(tile_start) {}
  V param() const noexcept {
    if constexpr (L.param) return load16(a_.param16.data);
    return vload<V>(a_.param + i_);
  }
  V grad() const noexcept {
    if constexpr (L.grad) {
      const V g = load16_until<V, Storage::bf16, kSignalling>(a_.grad16.data, i_ - a_.grad_base,
                                                              a_.grad_count);
      // Scaled as widen_grad_tile does, then read as a tile is, times 1: under DAZ that flushes
      // a subnormal.
      const V scaled = a_.grad_scale == 1.0f ? g : round_as<Storage::bf16>(g * grad_scale_);
      return scaled * grad_scale_one_;
    }
    return load_until<V>(a_.grad, i_ - a_.grad_base, a_.grad_count) * grad_scale_;
  }
  V state(std::size_t k) const noexcept {
    if constexpr (L.state) return load16(a_.state16[k]);
    return vload<V>(a_.state[k] + i_);
  }
  void set_param(V v) const noexcept {
    if constexpr (L.param) {
      if (param_tile_ != nullptr)
        vstore(param_tile_ + (i_ - tile_start_), v);
      else
        store_bf16_by_instruction(a_.param16.data, i_, v);
    } else {
      vstore(a_.param + i_, v);
    }
  }
  void set_state(std::size_t k, V v) const noexcept {
    if constexpr (L.state) {
      // Flushing subnormals (the usual floor) is what the instruction does to them anyway.
      if (a_.state_floor == std::numeric_limits<float>::min())
        store_bf16_by_instruction<true>(a_.state16[k], i_, v);
      else
        store_bf16_by_instruction(a_.state16[k], i_, ops::flush_below(v, state_floor_));
    } else {
      vstore(a_.state[k] + i_, ops::flush_below(v, state_floor_));
    }
  }

 private:
  V load16(const std::uint16_t* p) const noexcept {
    if constexpr (kSignalling) return load_bf16_signalling<V>(p, i_);
    return load_as<V, Storage::bf16>(p, i_);
  }

  const ElementwiseArgs& a_;
  std::size_t i_;
  V state_floor_;
  V grad_scale_;
  V grad_scale_one_;  // 1, unknown to the compiler: x * 1 is not x under DAZ
  float* param_tile_;
  std::size_t tile_start_;
};

// Flattened: GCC would keep a layout's element update and conversions as calls. Not under
// GCC's AddressSanitizer, whose checks on flattened loops took an AVX-512 build of adam.cpp
// 5-7 minutes (1.5 without flattening); inlining changes no result.
#if defined(__SANITIZE_ADDRESS__)
#define SIMDOPTIM_FLATTEN
#else
#define SIMDOPTIM_FLATTEN [[gnu::flatten]]
#endif
template <class Rule, auto F, AverageKind A, class V, Bf16Layout L = kAllF32>
SIMDOPTIM_FLATTEN void run_rule_loop(const ElementwiseArgs& a, std::size_t begin,
                                     std::size_t end) noexcept {
  using C = typename Rule::template Coefs<V>;
  // Broadcast once per call, not per element.
  const C c = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return C{V(a.coef[I])...};
  }
  (std::make_index_sequence<kCoefCount<Rule>>{});
  constexpr std::size_t w = lanes<V>();
  assert((end - begin) % w == 0);  // calls cover whole padded tensors: no remainder to drop
  const V state_floor(a.state_floor);
  const V grad_scale(a.grad_scale);
  [[maybe_unused]] const V w0(a.average_w0), w1(a.average_w1);
  if constexpr (L == kAllF32) {
    for (std::size_t i = begin; i + w <= end; i += w) {
      Rule::template update<F>(c, Element<V>(a, i, state_floor, grad_scale));
      // The parameter just stored is still in L1: averaging it here saves a pass over memory.
      if constexpr (A != AverageKind::none) average_element<A>(a.param + i, a.averaged + i, w0, w1);
    }
    return;
  }
  // The layouts in registers read a copy their stores cannot alias, so that its pointers stay
  // in registers.
  const ElementwiseArgs args = a;
  volatile float one = 1.0f;
  const V grad_scale_one(one);
  if constexpr (L.param) {
    if (args.stochastic_rounding) {
      alignas(64) float param[kTile];
      for (std::size_t t = begin; t < end; t += kTile) {
        const std::size_t n = std::min(kTile, end - t);
        for (std::size_t i = t; i + w <= t + n; i += w)
          Rule::template update<F>(
              c, Element<V, L>(args, i, state_floor, grad_scale, param, t, grad_scale_one));
        narrow_param_tile<V>(args, param, t, n);
      }
      return;
    }
  }
  for (std::size_t i = begin; i + w <= end; i += w)
    Rule::template update<F>(
        c, Element<V, L>(args, i, state_floor, grad_scale, nullptr, 0, grad_scale_one));
}

template <class Rule, auto F, class V, Bf16Layout L>
void run_rule_averaged(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept {
  // Only fp32 parameters are averaged in the step (run_rule_staged).
  if constexpr (L != kAllF32) return run_rule_loop<Rule, F, AverageKind::none, V, L>(a, begin, end);
  switch (static_cast<AverageKind>(a.averaging)) {
    case AverageKind::ema:
      return run_rule_loop<Rule, F, AverageKind::ema, V>(a, begin, end);
    case AverageKind::swa:
      return run_rule_loop<Rule, F, AverageKind::swa, V>(a, begin, end);
    case AverageKind::lookahead:
      return run_rule_loop<Rule, F, AverageKind::lookahead, V>(a, begin, end);
    default:
      return run_rule_loop<Rule, F, AverageKind::none, V>(a, begin, end);
  }
}

// Runs the loop instantiated for a.flags and a.averaging, on fp32 arrays, or on the bf16 arrays
// of layout L in registers.
template <class Rule, class V, Bf16Layout L = kAllF32>
void run_rule_f32(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept {
  using Flags = typename Rule::Flags;
  [&]<std::uint32_t... Bits>(std::integer_sequence<std::uint32_t, Bits...>) {
    ((a.flags == Bits ? run_rule_averaged<Rule, flags_from_bits<Flags, Bits>(), V, L>(a, begin, end)
                      : void()),
     ...);
  }
  (std::make_integer_sequence<std::uint32_t, 1U << kFlagCount<Flags>>{});
}

// The gradient tile of elements [t, t + n): a.grad16 from index t - grad_base, zero at and past
// grad_count (an engine's buffer ends there). The tail converts element by element with the
// scalar reference, which every build equals.
template <class V>
void widen_grad_tile(const ElementwiseArgs& a, std::size_t t, float* dst, std::size_t n) noexcept {
  const std::size_t at = t - a.grad_base;
  if (at + n <= a.grad_count) {
    widen_tile<V>(a.grad16, at, dst, n);
  } else {
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint16_t h = at + j < a.grad_count ? a.grad16.data[at + j] : 0;
      dst[j] = a.grad16.format == Storage::bf16 ? f32_from_bf16(h) : f32_from_f16(h);
    }
  }
  // Scaled as Element reads a scaled 16-bit gradient.
  if (a.grad_scale == 1.0f) return;
  const V scale(a.grad_scale);
  for (std::size_t j = 0; j + lanes<V>() <= n; j += lanes<V>())
    vstore(dst + j, a.grad16.format == Storage::bf16
                        ? round_as<Storage::bf16>(vload<V>(dst + j) * scale)
                        : round_as<Storage::f16>(vload<V>(dst + j) * scale));
}

// The master weights' copy of elements [t, t + n), which may end in an engine's buffer: the
// tail past param_copy_count is not written, and the rest of the last tile converts element by
// element with the scalar reference, which every build equals.
template <class V>
void narrow_copy_tile(const ElementwiseArgs& a, const float* src, std::size_t t,
                      std::size_t n) noexcept {
  const std::size_t at = t - a.param_copy_base;
  if (at + n <= a.param_copy_count) return narrow_tile<V>(src, a.param_copy, at, n);
  for (std::size_t j = 0; j < n && at + j < a.param_copy_count; ++j)
    a.param_copy.data[at + j] =
        a.param_copy.format == Storage::bf16 ? bf16_from_f32(src[j]) : f16_from_f32(src[j]);
}

// 8-bit state array k's tile at t, which is its block t / kTile, dequantized into dst.
template <class V>
void widen_state8_tile(const ElementwiseArgs& a, std::size_t k, std::size_t t, float* dst,
                       std::size_t n) noexcept {
  static_assert(kTile == kQuantBlock);
  dequantize_block<V>(a.state8[k] + t, a.state8_scales[k][t / kTile], dst, n,
                      ((a.state8_non_negative >> k) & 1U) != 0);
}

// src quantized into 8-bit state array k's block at t: the block's scale is set anew.
template <class V>
void narrow_state8_tile(const ElementwiseArgs& a, std::size_t k, const float* src, std::size_t t,
                        std::size_t n) noexcept {
  a.state8_scales[k][t / kTile] =
      quantize_block<V>(src, a.state8[k] + t, n, ((a.state8_non_negative >> k) & 1U) != 0);
}

// The loop over arrays some of which are 16-bit or 8-bit, through tiles: per tile, the 16-bit
// and 8-bit arrays are widened into floats, the fp32 loop runs on the tile (fp32 arrays in
// place), and the results are narrowed back (an 8-bit tile is a quantization block). Converting
// in registers inside the loop instead was 8-20 % slower at memory sizes on Zen 4 and Zen 5
// (docs/benchmarks.md), and one more loop per layout in every kernel build.
template <class Rule, class V>
void run_rule_staged(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept {
  // One stride of 64 bytes more than a tile: with tiles back to back (1 KiB apart), all-bf16
  // AdamW took 1.3x as long on Zen 5 (0.69-0.78 against 0.55 ns per element at 64K).
  constexpr std::size_t kStride = kTile + 16;
  alignas(64) float tiles[(2 + kMaxStates) * kStride];
  float* const param = tiles;
  float* const grad = tiles + kStride;
  float* state[kMaxStates];
  for (std::size_t k = 0; k < kMaxStates; ++k) state[k] = tiles + (2 + k) * kStride;
  for (std::size_t t = begin; t < end; t += kTile) {
    const std::size_t n = std::min(kTile, end - t);
    ElementwiseArgs tile = a;
    // Only an fp32 average of fp32 parameters (the arena's, or the master weights) is fused
    // into the step; the host gives every other average its own pass (kernels/average.cpp).
    if (a.averaged != nullptr) tile.averaged = a.averaged + t;
    if (a.param16.data != nullptr) {
      widen_tile<V>(a.param16, t, param, n);
      tile.param = param;
    } else {
      tile.param = a.param + t;
    }
    if (a.grad16.data != nullptr) {
      widen_grad_tile<V>(a, t, grad, n);
      tile.grad = grad;
      tile.grad_base = 0;
      tile.grad_count = SIZE_MAX;
      tile.grad_scale = 1.0f;  // applied, and rounded, in the tile
    } else {
      // Tile element j is arena element t + j: grad index (j - (grad_base - t)), in unsigned
      // arithmetic, is t + j - grad_base.
      tile.grad_base = a.grad_base - t;
    }
    for (std::size_t k = 0; k < kMaxStates; ++k) {
      if (a.state16[k] != nullptr) {
        widen_tile<V>(Array16<std::uint16_t>{a.state16[k], a.state16_format}, t, state[k], n);
        tile.state[k] = state[k];
      } else if (a.state8[k] != nullptr) {
        widen_state8_tile<V>(a, k, t, state[k], n);
        tile.state[k] = state[k];
      } else if (a.state[k] != nullptr) {
        tile.state[k] = a.state[k] + t;
      }
    }
    run_rule_f32<Rule, V>(tile, 0, n);
    if (a.param16.data != nullptr) narrow_param_tile<V>(a, param, t, n);
    if (a.param_copy.data != nullptr) narrow_copy_tile<V>(a, tile.param, t, n);
    for (std::size_t k = 0; k < kMaxStates; ++k)
      if (a.state16[k] != nullptr)
        narrow_tile<V>(state[k], Array16<std::uint16_t>{a.state16[k], a.state16_format}, t, n);
      else if (a.state8[k] != nullptr)
        narrow_state8_tile<V>(a, k, state[k], t, n);
  }
}

inline bool converts(const ElementwiseArgs& a) noexcept {
  bool any = a.param16.data != nullptr || a.grad16.data != nullptr || a.param_copy.data != nullptr;
  for (std::size_t k = 0; k < kMaxStates; ++k)
    any = any || a.state16[k] != nullptr || a.state8[k] != nullptr;
  return any;
}

// The layout of a call whose converted arrays are all bf16 parameters, gradients or states, with
// no master weights' copy, 8-bit state or averaging: the calls a loop in registers may take.
inline Bf16Layout bf16_layout(const ElementwiseArgs& a) noexcept {
  Bf16Layout l{.param = a.param16.data != nullptr, .grad = a.grad16.data != nullptr};
  bool any_f32_state = false, fits = a.param_copy.data == nullptr &&
                                     static_cast<AverageKind>(a.averaging) == AverageKind::none &&
                                     (!l.param || a.param16.format == Storage::bf16) &&
                                     (!l.grad || a.grad16.format == Storage::bf16);
  for (std::size_t k = 0; k < kMaxStates; ++k) {
    fits = fits && a.state8[k] == nullptr;
    l.state = l.state || a.state16[k] != nullptr;
    any_f32_state = any_f32_state || a.state[k] != nullptr;
  }
  if (!fits || (l.state && (any_f32_state || a.state16_format != Storage::bf16))) return kAllF32;
  return l;
}

// Calls with 16-bit or 8-bit arrays take the tiles, except the common bf16 layouts on CPUs with
// AVX-512 BF16, which convert in registers: there one instruction narrows a batch, and all-bf16
// AdamW took 0.6x the time of the tiles at 2^26 on Zen 5 (docs/benchmarks.md).
template <class Rule, class V>
void run_rule(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept {
  if (!converts(a)) return run_rule_f32<Rule, V>(a, begin, end);
#if defined(__AVX512F__)
  if (bf16_instructions_on()) {
    constexpr Bf16Layout kAll{true, true, true}, kParamGrad{true, true, false},
        kState{.state = true};
    const Bf16Layout l = bf16_layout(a);
    if (l == kAll) return run_rule_f32<Rule, V, kAll>(a, begin, end);
    if (l == kParamGrad) return run_rule_f32<Rule, V, kParamGrad>(a, begin, end);
    if (l == kState) return run_rule_f32<Rule, V, kState>(a, begin, end);
  }
#endif
  run_rule_staged<Rule, V>(a, begin, end);
}

}  // namespace

}  // namespace simdoptim::detail

// Defines kernel `name` of description `Rule` for this build: the scalar reference in the
// library's own compilation, one instruction set's kernel in that set's. Use at global scope.
#if defined(SIMDOPTIM_ISA_NS)
#define SIMDOPTIM_RULE_KERNEL(name, Rule)                                            \
  namespace simdoptim::detail::SIMDOPTIM_ISA_NS {                                    \
  void name(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept { \
    run_rule<Rule, Batch>(a, begin, end);                                            \
  }                                                                                  \
  }
#else
#define SIMDOPTIM_RULE_KERNEL(name, Rule)                                            \
  namespace simdoptim::detail {                                                      \
  SIMDOPTIM_DECLARE_KERNEL(name, ElementwiseArgs)                                    \
  }                                                                                  \
  namespace simdoptim::detail::scalar {                                              \
  void name(const ElementwiseArgs& a, std::size_t begin, std::size_t end) noexcept { \
    run_rule<Rule, float>(a, begin, end);                                            \
  }                                                                                  \
  }
#endif
