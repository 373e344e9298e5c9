// The argument checks and conversions every entry point shares.
#include "capi/handles.hpp"

#include <cmath>
#include <string>

#include "simdoptim/isa.hpp"

void simdoptim_optimizer::index_groups(std::size_t first_group) {
  auto& groups = optimizer->param_groups();
  for (std::size_t g = first_group; g < groups.size(); ++g)
    for (std::size_t i = 0; i < groups[g].size(); ++i) index.emplace_back(g, i);
}

namespace simdoptim::capi {

Optimizer& optimizer_of(const simdoptim_optimizer* handle) {
  require(handle, "optimizer");
  return *require(handle->optimizer.get(), "optimizer");
}

Scheduler& scheduler_of(const simdoptim_scheduler* handle) {
  require(handle, "scheduler");
  return *require(handle->scheduler.get(), "scheduler");
}

std::pair<std::size_t, std::size_t> locate(const simdoptim_optimizer* handle, std::size_t index) {
  optimizer_of(handle);
  if (index >= handle->index.size())
    throw Error(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                "parameter index " + std::to_string(index) + " out of range (the optimizer has " +
                    std::to_string(handle->index.size()) + " parameters)");
  return handle->index[index];
}

ParamGroup& group_of(const simdoptim_optimizer* handle, std::size_t group) {
  auto& groups = optimizer_of(handle).param_groups();
  if (group >= groups.size())
    throw Error(SIMDOPTIM_ERROR_OUT_OF_RANGE, "group index " + std::to_string(group) +
                                                  " out of range (the optimizer has " +
                                                  std::to_string(groups.size()) + " groups)");
  return groups[group];
}

std::vector<ParamSpec> to_param_specs(const simdoptim_param_spec* params, std::size_t count) {
  if (count > 0) require(params, "params");
  std::vector<ParamSpec> specs;
  for (std::size_t k = 0; k < count; ++k) {
    const simdoptim_param_spec& p = params[k];
    const std::string where = "params[" + std::to_string(k) + "]";
    require(p.name, (where + ".name").c_str());
    if (p.ndim > 0) require(p.shape, (where + ".shape").c_str());
    if (!p.requires_grad) continue;
    ParamSpec spec;
    spec.name = p.name;
    spec.shape.assign(p.shape, p.shape + p.ndim);
    specs.push_back(std::move(spec));
  }
  return specs;
}

GroupOptions to_group_options(const simdoptim_option* options, std::size_t count) {
  if (count > 0) require(options, "options");
  GroupOptions result;
  for (std::size_t k = 0; k < count; ++k) {
    const std::string where = "options[" + std::to_string(k) + "]";
    require(options[k].key, (where + ".key").c_str());
    if (result.contains(options[k].key))
      throw Error(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                  "option '" + std::string(options[k].key) + "' given twice");
    result.set(options[k].key, options[k].value);
  }
  return result;
}

RuntimeOptions to_runtime(const simdoptim_runtime* runtime) {
  RuntimeOptions result;
  if (runtime == nullptr) return result;
  if (runtime->isa != nullptr && runtime->isa[0] != '\0') {
    const Isa isa = parse_isa(runtime->isa);
    if (!isa_supported(isa))
      throw Error(
          SIMDOPTIM_ERROR_INVALID_ARGUMENT,
          "instruction set '" + std::string(runtime->isa) + "' is not supported on this machine");
    result.isa = isa;
  }
  if (runtime->num_threads < 0)
    throw Error(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                "num_threads = " + std::to_string(runtime->num_threads) + ": must be >= 0");
  result.num_threads = runtime->num_threads;
  return result;
}

}  // namespace simdoptim::capi
