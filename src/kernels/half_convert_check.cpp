// The storage conversions alone, written once over V (kernels/kernel_source.hpp): the scalar
// build and every instruction set's.
#include "kernels/half_convert_check_kernel.hpp"
#include "kernels/storage.hpp"

namespace simdoptim::detail {
namespace {

template <class V, Storage From, Storage To>
void convert_loop(const HalfConvertArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  for (std::size_t i = begin; i + w <= end; i += w)
    store_as<To>(a.out, i, load_as<V, From>(a.in, i));
}

template <class V>
void half_convert_loop(const HalfConvertArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (a.op) {
    case HalfConversion::to_bf16:  // as the kernels narrow their tiles
      return store_array_as<V, Storage::bf16>(static_cast<std::uint16_t*>(a.out) + begin,
                                               static_cast<const float*>(a.in) + begin,
                                               end - begin);
    case HalfConversion::to_f16:
      return convert_loop<V, Storage::f32, Storage::f16>(a, begin, end);
    case HalfConversion::from_bf16:
      return load_array_as<V, Storage::bf16>(static_cast<float*>(a.out) + begin,
                                              static_cast<const std::uint16_t*>(a.in) + begin,
                                              end - begin);
    case HalfConversion::from_f16:
      return convert_loop<V, Storage::f16, Storage::f32>(a, begin, end);
    case HalfConversion::to_bf16_stochastic:
      for (std::size_t i = begin; i + lanes<V>() <= end; i += lanes<V>())
        store_bf16_stochastic(static_cast<std::uint16_t*>(a.out), i,
                              load_as<V, Storage::f32>(a.in, i), a.key);
      return;
  }
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(half_convert, HalfConvertArgs, half_convert_loop)
