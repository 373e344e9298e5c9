// zero_grad, step, step with a closure or with the engine's gradients, and gradient clipping.
#include <functional>
#include <span>
#include <stdexcept>

#include "capi/handles.hpp"
#include "simdoptim/clip_grad.hpp"

namespace capi = simdoptim::capi;

namespace {

// The engine's pointers of a C call (gradients, parameter outputs): none (NULL, 0) or one per
// parameter, which Optimizer::step checks.
template <class T>
std::span<T* const> engine_pointers(T* const* pointers, std::size_t count, const char* what) {
  if (count == 0) return {};
  capi::require(pointers, what);
  return {pointers, count};
}

std::span<const float* const> engine_grads(const float* const* grads, std::size_t count) {
  return engine_pointers(grads, count, "grads");
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_optimizer_zero_grad(simdoptim_optimizer* optimizer, int set_to_none) {
  return capi::guard(__func__, [&] { capi::optimizer_of(optimizer).zero_grad(set_to_none != 0); });
}

simdoptim_status simdoptim_optimizer_step(simdoptim_optimizer* optimizer) {
  return capi::guard(__func__, [&] { capi::optimizer_of(optimizer).step(); });
}

simdoptim_status simdoptim_optimizer_step_closure(simdoptim_optimizer* optimizer,
                                                  simdoptim_closure closure, void* user_data,
                                                  double* loss) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(closure, "closure");
    int calls = 0;
    const std::function<double()> call = [&]() {
      double value = 0.0;
      ++calls;
      if (const int rc = closure(user_data, &value); rc != 0)
        throw capi::Error(SIMDOPTIM_ERROR_CALLBACK, "the closure returned " + std::to_string(rc) +
                                                        " on call " + std::to_string(calls) +
                                                        "; the step stopped there");
      return value;
    };
    const double first = opt.step(call);
    if (loss != nullptr) *loss = first;
  });
}

simdoptim_status simdoptim_clip_grad_norm(simdoptim_optimizer* optimizer, double max_norm,
                                          double norm_type, int error_if_nonfinite,
                                          double* total_norm) {
  return capi::guard(__func__, [&] {
    const double norm = simdoptim::clip_grad_norm_(capi::optimizer_of(optimizer), max_norm,
                                                   norm_type, error_if_nonfinite != 0);
    if (total_norm != nullptr) *total_norm = norm;
  });
}

simdoptim_status simdoptim_optimizer_step_grads(simdoptim_optimizer* optimizer,
                                                const float* const* grads, size_t count,
                                                float grad_scale) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    opt.step(simdoptim::StepGrads{engine_grads(grads, count), grad_scale});
  });
}

simdoptim_status simdoptim_optimizer_step_grads16(simdoptim_optimizer* optimizer,
                                                  const uint16_t* const* grads, size_t count,
                                                  simdoptim_dtype grad_dtype, float grad_scale,
                                                  uint16_t* const* params_out, size_t out_count) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    if (grad_dtype != SIMDOPTIM_BF16 && grad_dtype != SIMDOPTIM_F16)
      throw std::invalid_argument(
          "step_grads16: grad_dtype must be SIMDOPTIM_BF16 or SIMDOPTIM_F16");
    simdoptim::StepGrads step;
    step.scale = grad_scale;
    step.external16 = engine_pointers(grads, count, "grads");
    step.external16_dtype = static_cast<simdoptim::DType>(grad_dtype);
    step.param_out = engine_pointers(params_out, out_count, "params_out");
    opt.step(step);
  });
}

simdoptim_status simdoptim_clip_grad_norm_and_step(simdoptim_optimizer* optimizer, double max_norm,
                                                   double norm_type, int error_if_nonfinite,
                                                   const float* const* grads, size_t count,
                                                   double* total_norm) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    const double norm = simdoptim::clip_grad_norm_and_step(
        opt, max_norm, norm_type, error_if_nonfinite != 0, engine_grads(grads, count));
    if (total_norm != nullptr) *total_norm = norm;
  });
}

simdoptim_status simdoptim_clip_grad_value(simdoptim_optimizer* optimizer, double clip_value) {
  return capi::guard(
      __func__, [&] { simdoptim::clip_grad_value_(capi::optimizer_of(optimizer), clip_value); });
}

}  // extern "C"
