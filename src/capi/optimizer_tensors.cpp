// Parameters and gradients: lookup, storage pointers, copies and presence.
#include <algorithm>
#include <span>
#include <string>

#include "capi/handles.hpp"

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

// The parameter's or gradient's span (the gradient view marks it present, as ParamGroup::grad).
std::span<float> span_of(simdoptim_optimizer* optimizer, std::size_t index, Storage which) {
  const auto [g, i] = capi::locate(optimizer, index);
  simdoptim::ParamGroup& group = optimizer->optimizer->param_groups()[g];
  return (which == Storage::param ? group.param(i) : group.grad(i)).data;
}

void storage(simdoptim_optimizer* optimizer, std::size_t index, Storage which, float** data,
             std::size_t* numel) {
  capi::locate(optimizer, index);
  capi::require(data, "data");
  capi::require(numel, "numel");
  const std::span<float> values = span_of(optimizer, index, which);
  *data = values.data();
  *numel = values.size();
}

void copy_in(simdoptim_optimizer* optimizer, std::size_t index, Storage which, const float* values,
             std::size_t numel) {
  const auto [g, i] = capi::locate(optimizer, index);
  check_numel(optimizer->optimizer->param_groups()[g].info(i), numel);
  if (numel > 0) capi::require(values, "values");
  std::copy_n(values, numel, span_of(optimizer, index, which).begin());
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
