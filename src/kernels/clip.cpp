// Gradient clipping, written once over V (kernels/kernel_source.hpp): the scalar reference and
// every instruction set's kernel.
#include "kernels/clip_kernel.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/storage.hpp"

namespace simdoptim::detail {
namespace {

template <class V, Storage S>
void clip_scale16_loop(const ClipScaleArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V factor(a.factor);
  for (std::size_t i = begin; i + w <= end; i += w)
    store_as<S>(a.x16, i, load_as<V, S>(a.x16, i) * factor);
}

template <class V>
void clip_scale_loop(const ClipScaleArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  if (a.x16 != nullptr) {
    if (a.format16 == Storage::bf16) return clip_scale16_loop<V, Storage::bf16>(a, begin, end);
    return clip_scale16_loop<V, Storage::f16>(a, begin, end);
  }
  const V factor(a.factor);
  for (std::size_t i = begin; i + w <= end; i += w) vstore(a.x + i, vload<V>(a.x + i) * factor);
}

// torch's std::min(std::max(x, lo), hi), by comparisons (the hardware min/max have other NaN
// and signed-zero rules): NaN fails both tests and stays x, and so does a signed zero equal to a
// bound.
template <class V>
V torch_clamp(V x, V lo, V hi) noexcept {
  const V raised = ops::select(x < lo, lo, x);
  return ops::select(hi < raised, hi, raised);
}

template <class V, Storage S>
void clip_clamp16_loop(const ClipClampArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V lo(a.lo), hi(a.hi);
  for (std::size_t i = begin; i + w <= end; i += w)
    store_as<S>(a.x16, i, torch_clamp(load_as<V, S>(a.x16, i), lo, hi));
}

template <class V>
void clip_clamp_loop(const ClipClampArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  if (a.x16 != nullptr) {
    if (a.format16 == Storage::bf16) return clip_clamp16_loop<V, Storage::bf16>(a, begin, end);
    return clip_clamp16_loop<V, Storage::f16>(a, begin, end);
  }
  const V lo(a.lo), hi(a.hi);
  for (std::size_t i = begin; i + w <= end; i += w)
    vstore(a.x + i, torch_clamp(vload<V>(a.x + i), lo, hi));
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(clip_scale, ClipScaleArgs, clip_scale_loop)
SIMDOPTIM_DEFINE_KERNEL(clip_clamp, ClipClampArgs, clip_clamp_loop)
