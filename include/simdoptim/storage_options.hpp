#pragma once
/// How a param group stores its arrays: parameters, gradients and optimizer state in fp32, bf16
/// or fp16 (state also 8-bit quantized), optional fp32 master weights, stochastic rounding
/// (docs/precision.md). The update always runs in fp32; only loads and stores change, in the same
/// single pass.
#include <cstdint>

#include "simdoptim/types.hpp"

namespace simdoptim {
inline namespace v1 {

struct StorageOptions {
  /// Parameters: f32, bf16 or f16.
  DType param = DType::f32;
  /// Gradients in the arena: f32, bf16 or f16. (Gradients an engine passes to
  /// step(const StepGrads&) are fp32 whatever this says.)
  DType grad = DType::f32;
  /// Optimizer state (exp_avg, momentum_buffer, ...): f32, bf16 or q8 (8-bit block-wise
  /// quantized, one fp32 scale per 256 values; docs/precision.md).
  DType state = DType::f32;
  /// With 16-bit parameters: keep fp32 master weights (ParamGroup::master_param) that the step
  /// updates, and write the 16-bit parameters from them, rounded to nearest-even, in the same
  /// pass (DeepSpeed / apex: fp32 master copy).
  bool master_weights = false;
  /// With bf16 parameters and no master weights: round each stored parameter stochastically,
  /// from a counter-based hash of (seed, step, element), instead of to nearest-even.
  bool stochastic_rounding = false;
  /// The seed of stochastic rounding.
  std::uint64_t seed = 0;

  /// Throws std::invalid_argument naming the field when the combination is not supported.
  void validate() const;
  /// Everything fp32, as without StorageOptions.
  bool is_default() const noexcept {
    return param == DType::f32 && grad == DType::f32 && state == DType::f32 && !master_weights &&
           !stochastic_rounding;
  }
  bool operator==(const StorageOptions&) const = default;
};

}  // namespace v1
}  // namespace simdoptim
