#pragma once
// The arrays of a param group as an elementwise kernel call takes them, each in its group's
// storage format (StorageOptions): fp32 arrays as float*, 16-bit ones as Array16.
#include <cstdint>

#include "optim/rule_kernel.hpp"
#include "simdoptim/param_group.hpp"

namespace simdoptim::detail {

// DType and Storage name the same formats in the same order.
static_assert(static_cast<int>(DType::f32) == static_cast<int>(Storage::f32) &&
              static_cast<int>(DType::bf16) == static_cast<int>(Storage::bf16) &&
              static_cast<int>(DType::f16) == static_cast<int>(Storage::f16));
inline Storage storage_of(DType d) noexcept {
  return static_cast<Storage>(d);
}

// The parameter and gradient arrays of `group` (its state arrays are the driver's), and the
// rounding of 16-bit parameters.
inline ElementwiseArgs storage_args(ParamGroup& group) {
  const StorageOptions& s = group.storage();
  ElementwiseArgs a;
  a.param = group.param_arena().data();  // null for 16-bit parameters without master weights
  if (s.param != DType::f32) {
    const Array16<std::uint16_t> half{group.param16_arena().data(), storage_of(s.param)};
    if (s.master_weights)
      a.param_copy = half;
    else
      a.param16 = half;
  }
  a.stochastic_rounding = s.stochastic_rounding;
  if (s.grad == DType::f32)
    a.grad = group.grad_arena().data();
  else
    a.grad16 = {group.grad16_arena().data(), storage_of(s.grad)};
  if (s.state != DType::q8) a.state16_format = storage_of(s.state);
  return a;
}

}  // namespace simdoptim::detail
