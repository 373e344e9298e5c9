// Creating and destroying optimizers, and adding param groups.
#include <memory>
#include <stdexcept>
#include <string>

#include "capi/handles.hpp"
#include "capi/optimizer_registry.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/model_spec.hpp"

namespace capi = simdoptim::capi;

namespace {

// Wraps a new optimizer in a handle; the handle owns it from here on.
simdoptim_optimizer* wrap(std::unique_ptr<simdoptim::Optimizer> optimizer) {
  auto handle = std::make_unique<simdoptim_optimizer>();
  handle->optimizer = std::move(optimizer);
  handle->index_groups(0);
  return handle.release();
}

}  // namespace

namespace {

simdoptim::StorageOptions storage_of(const simdoptim_storage* storage) {
  simdoptim::StorageOptions s;
  if (storage == nullptr) return s;
  auto dtype = [](simdoptim_dtype d, const char* field) {
    if (d != SIMDOPTIM_F32 && d != SIMDOPTIM_BF16 && d != SIMDOPTIM_F16 && d != SIMDOPTIM_Q8)
      throw std::invalid_argument(std::string("storage: unknown dtype in ") + field);
    return static_cast<simdoptim::DType>(d);
  };
  s.param = dtype(storage->param, "param");
  s.grad = dtype(storage->grad, "grad");
  s.state = dtype(storage->state, "state");
  s.master_weights = storage->master_weights != 0;
  s.stochastic_rounding = storage->stochastic_rounding != 0;
  s.seed = storage->seed;
  return s;
}

void add_group(simdoptim_optimizer* optimizer, const simdoptim_param_spec* params,
               std::size_t num_params, const simdoptim_option* options, std::size_t num_options,
               const simdoptim_storage* storage) {
  simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
  const std::size_t first = opt.param_groups().size();
  // Reserve first: once the group exists, indexing it must not fail half-way.
  optimizer->index.reserve(optimizer->index.size() + num_params);
  opt.add_param_group(capi::to_param_specs(params, num_params),
                      capi::to_group_options(options, num_options), storage_of(storage));
  optimizer->index_groups(first);
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_optimizer_create(const char* name, const simdoptim_option* options,
                                            size_t num_options, const simdoptim_param_spec* params,
                                            size_t num_params, const simdoptim_runtime* runtime,
                                            simdoptim_optimizer** out) {
  return capi::guard(__func__, [&] {
    capi::require(name, "name");
    capi::require(out, "out");
    auto specs = capi::to_param_specs(params, num_params);
    // As torch's "optimizer got an empty parameter list": an optimizer with nothing to train is
    // a mistake, most often a requires_grad left at 0.
    if (specs.empty())
      throw capi::Error(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                        "optimizer got an empty parameter list: " +
                            (num_params == 0 ? std::string("num_params is 0")
                                             : "none of the " + std::to_string(num_params) +
                                                   " params has requires_grad != 0"));
    auto optimizer = simdoptim::embed::make_registered(name, std::move(specs),
                                                       capi::to_group_options(options, num_options),
                                                       capi::to_runtime(runtime));
    *out = wrap(std::move(optimizer));
  });
}

simdoptim_status simdoptim_optimizer_create_from_config(const char* yaml_config,
                                                        const simdoptim_param_spec* params,
                                                        size_t num_params,
                                                        const simdoptim_runtime* runtime,
                                                        simdoptim_optimizer** out) {
  return capi::guard(__func__, [&] {
    capi::require(yaml_config, "yaml_config");
    capi::require(out, "out");
    if (num_params > 0) capi::require(params, "params");
    const simdoptim::Config config = simdoptim::parse_config(yaml_config, "<yaml_config>");
    simdoptim::ModelSpec model;
    for (std::size_t k = 0; k < num_params; ++k) {
      const std::string where = "params[" + std::to_string(k) + "]";
      capi::require(params[k].name, (where + ".name").c_str());
      if (params[k].ndim > 0) capi::require(params[k].shape, (where + ".shape").c_str());
      model.add(params[k].name, simdoptim::Shape(params[k].shape, params[k].shape + params[k].ndim),
                params[k].requires_grad != 0);
    }
    *out = wrap(simdoptim::build_optimizer(config, model, capi::to_runtime(runtime)));
  });
}

simdoptim_status simdoptim_optimizer_add_param_group(simdoptim_optimizer* optimizer,
                                                     const simdoptim_param_spec* params,
                                                     size_t num_params,
                                                     const simdoptim_option* options,
                                                     size_t num_options) {
  return capi::guard(
      __func__, [&] { add_group(optimizer, params, num_params, options, num_options, nullptr); });
}

simdoptim_status simdoptim_optimizer_add_param_group_storage(
    simdoptim_optimizer* optimizer, const simdoptim_param_spec* params, size_t num_params,
    const simdoptim_option* options, size_t num_options, const simdoptim_storage* storage) {
  return capi::guard(
      __func__, [&] { add_group(optimizer, params, num_params, options, num_options, storage); });
}

simdoptim_status simdoptim_optimizer_destroy(simdoptim_optimizer* optimizer) {
  std::unique_ptr<simdoptim_optimizer> owned(optimizer);
  return SIMDOPTIM_OK;
}

}  // extern "C"
