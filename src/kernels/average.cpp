// The averaging pass, written once over V (kernels/kernel_source.hpp): the scalar reference and
// every instruction set's kernel.
#include "kernels/average_element.hpp"
#include "kernels/average_kernel.hpp"
#include "kernels/storage.hpp"

namespace simdoptim::detail {
namespace {

// P and S: the formats of the parameters and of the average. 16-bit values are widened, the
// update runs in fp32, and stores round to nearest-even.
template <AverageKind A, Storage P, Storage S, class V>
void average_stored_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V w0(a.w0), w1(a.w1);
  for (std::size_t i = begin; i + w <= end; i += w) {
    const V p = load_as<V, P>(a.param, i);
    const V next =
        average_of<A>(A == AverageKind::copy ? p : load_as<V, S>(a.averaged, i), p, w0, w1);
    store_as<S>(a.averaged, i, next);
    if constexpr (A == AverageKind::lookahead) {
      // The fast weights become the slow ones as stored.
      const V slow = S == Storage::f32 ? next : load_as<V, S>(a.averaged, i);
      store_as<P>(a.param, i, slow);
      if (a.param_copy != nullptr) {
        if (a.param_copy_format == Storage::bf16)
          store_as<Storage::bf16>(a.param_copy, i, slow);
        else
          store_as<Storage::f16>(a.param_copy, i, slow);
      }
    }
  }
}

template <AverageKind A, Storage P, class V>
void average_param_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (a.averaged_format) {
    case Storage::f32:
      return average_stored_loop<A, P, Storage::f32, V>(a, begin, end);
    case Storage::bf16:
      return average_stored_loop<A, P, Storage::bf16, V>(a, begin, end);
    case Storage::f16:
      return average_stored_loop<A, P, Storage::f16, V>(a, begin, end);
  }
}

template <AverageKind A, class V>
void average_kind_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (a.param_format) {
    case Storage::f32:
      return average_param_loop<A, Storage::f32, V>(a, begin, end);
    case Storage::bf16:
      return average_param_loop<A, Storage::bf16, V>(a, begin, end);
    case Storage::f16:
      return average_param_loop<A, Storage::f16, V>(a, begin, end);
  }
}

template <class V>
void average_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (static_cast<AverageKind>(a.kind)) {
    case AverageKind::copy:
      return average_kind_loop<AverageKind::copy, V>(a, begin, end);
    case AverageKind::ema:
      return average_kind_loop<AverageKind::ema, V>(a, begin, end);
    case AverageKind::swa:
      return average_kind_loop<AverageKind::swa, V>(a, begin, end);
    case AverageKind::lookahead:
      return average_kind_loop<AverageKind::lookahead, V>(a, begin, end);
    case AverageKind::none:
      return;
  }
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(average, AverageArgs, average_loop)
