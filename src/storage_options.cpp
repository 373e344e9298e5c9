#include "simdoptim/storage_options.hpp"

#include <stdexcept>
#include <string>

namespace simdoptim {
inline namespace v1 {

void StorageOptions::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("storage: " + what); };
  auto known = [](DType d) { return d == DType::f32 || d == DType::bf16 || d == DType::f16; };
  if (!known(param) || !known(grad) || !(known(state) || state == DType::q8))
    fail(param == DType::q8 || grad == DType::q8
             ? "q8 is a state dtype only (parameters and gradients: f32, bf16 or f16)"
             : "unknown dtype");
  if (state == DType::f16)
    fail(
        "state dtype f16 is not supported (f32, bf16 or q8: fp16's range cannot hold "
        "exp_avg_sq)");
  if (master_weights && param == DType::f32)
    fail("master_weights needs bf16 or f16 parameters (fp32 parameters are their own master)");
  if (stochastic_rounding && (param != DType::bf16 || master_weights))
    fail("stochastic_rounding needs bf16 parameters without master weights");
}

}  // namespace v1
}  // namespace simdoptim
