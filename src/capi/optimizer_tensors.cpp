// Parameters and gradients: lookup, storage pointers, copies and presence.
#include <algorithm>
#include <span>
#include <string>

#include "capi/handles.hpp"
#include "kernels/half.hpp"

namespace capi = simdoptim::capi;

namespace {

// Throws SIMDOPTIM_ERROR_SIZE_MISMATCH unless `numel` equals the tensor's element count.
void check_numel(const simdoptim::TensorInfo& info, std::size_t numel) {
  if (numel != info.numel)
    throw capi::Error(SIMDOPTIM_ERROR_SIZE_MISMATCH, "parameter '" + info.name + "' has " +
                                                         std::to_string(info.numel) +
                                                         " elements, got " + std::to_string(numel));
}

enum class Storage { param, grad };

// The parameter's or gradient's view (the gradient view marks it present, as ParamGroup::grad).
simdoptim::TensorView view_of(simdoptim_optimizer* optimizer, std::size_t index, Storage which) {
  const auto [g, i] = capi::locate(optimizer, index);
  simdoptim::ParamGroup& group = optimizer->optimizer->param_groups()[g];
  return which == Storage::param ? group.param(i) : group.grad(i);
}

// Throws SIMDOPTIM_ERROR_UNSUPPORTED unless the view's elements are 16-bit (`half`) or fp32.
void require_dtype(const simdoptim::TensorView& v, bool half, const char* use) {
  if ((v.dtype != simdoptim::DType::f32) != half)
    throw capi::Error(SIMDOPTIM_ERROR_UNSUPPORTED, "parameter '" + std::string(v.name) + "' is " +
                                                       simdoptim::dtype_name(v.dtype) + ": use " +
                                                       use);
}

template <class T>
void storage(simdoptim_optimizer* optimizer, std::size_t index, Storage which, T** data,
             std::size_t* numel) {
  capi::locate(optimizer, index);
  capi::require(data, "data");
  capi::require(numel, "numel");
  constexpr bool half = sizeof(T) == 2;
  const char* use =
      which == Storage::param
          ? (half ? "simdoptim_optimizer_param_data" : "simdoptim_optimizer_param_data16")
          : (half ? "simdoptim_optimizer_grad_data" : "simdoptim_optimizer_grad_data16");
  const simdoptim::TensorView v = view_of(optimizer, index, which);
  require_dtype(v, half, use);
  if constexpr (half) {
    *data = v.data16.data();
    *numel = v.data16.size();
  } else {
    *data = v.data.data();
    *numel = v.data.size();
  }
}

void copy_in(simdoptim_optimizer* optimizer, std::size_t index, Storage which, const float* values,
             std::size_t numel) {
  const auto [g, i] = capi::locate(optimizer, index);
  simdoptim::ParamGroup& group = optimizer->optimizer->param_groups()[g];
  check_numel(group.info(i), numel);
  if (numel > 0) capi::require(values, "values");
  const simdoptim::TensorView v = view_of(optimizer, index, which);
  if (v.dtype == simdoptim::DType::f32) {
    std::copy_n(values, numel, v.data.begin());
    return;
  }
  for (std::size_t k = 0; k < numel; ++k)
    v.data16[k] = v.dtype == simdoptim::DType::bf16 ? simdoptim::detail::bf16_from_f32(values[k])
                                                    : simdoptim::detail::f16_from_f32(values[k]);
  if (which == Storage::param && group.storage().master_weights)
    std::copy_n(values, numel, group.master_param(i).data.begin());
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_optimizer_num_params(const simdoptim_optimizer* optimizer,
                                                size_t* count) {
  return capi::guard(__func__, [&] {
    capi::optimizer_of(optimizer);
    capi::require(count, "count");
    *count = optimizer->index.size();
  });
}

simdoptim_status simdoptim_optimizer_param_index(const simdoptim_optimizer* optimizer,
                                                 const char* name, size_t* index) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(name, "name");
    capi::require(index, "index");
    const auto [group, tensor] = opt.locate(name);  // std::out_of_range names it
    const auto it = std::find(optimizer->index.begin(), optimizer->index.end(),
                              std::pair<std::size_t, std::size_t>{group, tensor});
    *index = static_cast<std::size_t>(it - optimizer->index.begin());
  });
}

simdoptim_status simdoptim_optimizer_param_info(const simdoptim_optimizer* optimizer, size_t index,
                                                const char** name, const int64_t** shape,
                                                size_t* ndim, size_t* group) {
  return capi::guard(__func__, [&] {
    const auto [g, i] = capi::locate(optimizer, index);
    const simdoptim::TensorInfo& info = optimizer->optimizer->param_groups()[g].info(i);
    if (name != nullptr) *name = info.name.c_str();
    if (shape != nullptr) *shape = info.shape.data();
    if (ndim != nullptr) *ndim = info.shape.size();
    if (group != nullptr) *group = g;
  });
}

simdoptim_status simdoptim_optimizer_param_data(simdoptim_optimizer* optimizer, size_t index,
                                                float** data, size_t* numel) {
  return capi::guard(__func__, [&] { storage(optimizer, index, Storage::param, data, numel); });
}

simdoptim_status simdoptim_optimizer_grad_data(simdoptim_optimizer* optimizer, size_t index,
                                               float** data, size_t* numel) {
  return capi::guard(__func__, [&] { storage(optimizer, index, Storage::grad, data, numel); });
}

simdoptim_status simdoptim_optimizer_param_dtype(const simdoptim_optimizer* optimizer, size_t index,
                                                 simdoptim_dtype* param, simdoptim_dtype* grad) {
  return capi::guard(__func__, [&] {
    const auto [g, i] = capi::locate(optimizer, index);
    const simdoptim::ParamGroup& group = optimizer->optimizer->param_groups()[g];
    if (param != nullptr) *param = static_cast<simdoptim_dtype>(group.param_dtype());
    if (grad != nullptr) *grad = static_cast<simdoptim_dtype>(group.grad_dtype());
  });
}

simdoptim_status simdoptim_optimizer_param_data16(simdoptim_optimizer* optimizer, size_t index,
                                                  uint16_t** data, size_t* numel) {
  return capi::guard(__func__, [&] { storage(optimizer, index, Storage::param, data, numel); });
}

simdoptim_status simdoptim_optimizer_grad_data16(simdoptim_optimizer* optimizer, size_t index,
                                                 uint16_t** data, size_t* numel) {
  return capi::guard(__func__, [&] { storage(optimizer, index, Storage::grad, data, numel); });
}

simdoptim_status simdoptim_optimizer_master_param_data(simdoptim_optimizer* optimizer, size_t index,
                                                       float** data, size_t* numel) {
  return capi::guard(__func__, [&] {
    const auto [g, i] = capi::locate(optimizer, index);
    capi::require(data, "data");
    capi::require(numel, "numel");
    simdoptim::ParamGroup& group = optimizer->optimizer->param_groups()[g];
    if (!group.storage().master_weights)
      throw capi::Error(SIMDOPTIM_ERROR_UNSUPPORTED,
                        "parameter '" + group.info(i).name + "' has no master weights");
    const std::span<float> master = group.master_param(i).data;
    *data = master.data();
    *numel = master.size();
  });
}

simdoptim_status simdoptim_optimizer_set_param(simdoptim_optimizer* optimizer, size_t index,
                                               const float* values, size_t numel) {
  return capi::guard(__func__, [&] { copy_in(optimizer, index, Storage::param, values, numel); });
}

simdoptim_status simdoptim_optimizer_set_grad(simdoptim_optimizer* optimizer, size_t index,
                                              const float* values, size_t numel) {
  return capi::guard(__func__, [&] { copy_in(optimizer, index, Storage::grad, values, numel); });
}

simdoptim_status simdoptim_optimizer_set_has_grad(simdoptim_optimizer* optimizer, size_t index,
                                                  int present) {
  return capi::guard(__func__, [&] {
    const auto [g, i] = capi::locate(optimizer, index);
    optimizer->optimizer->param_groups()[g].set_has_grad(i, present != 0);
  });
}

simdoptim_status simdoptim_optimizer_has_grad(const simdoptim_optimizer* optimizer, size_t index,
                                              int* present) {
  return capi::guard(__func__, [&] {
    const auto [g, i] = capi::locate(optimizer, index);
    capi::require(present, "present");
    *present = optimizer->optimizer->param_groups()[g].has_grad(i) ? 1 : 0;
  });
}

}  // extern "C"
