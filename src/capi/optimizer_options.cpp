// Optimizer properties, param groups and their options.
#include <string>

#include "capi/handles.hpp"
#include "simdoptim/isa.hpp"

namespace capi = simdoptim::capi;

extern "C" {

simdoptim_status simdoptim_optimizer_name(const simdoptim_optimizer* optimizer, const char** name) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(name, "name");
    // Optimizer::name() returns a view of a string literal, so it is NUL-terminated.
    *name = opt.name().data();
  });
}

simdoptim_status simdoptim_optimizer_isa(const simdoptim_optimizer* optimizer, const char** isa) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(isa, "isa");
    *isa = simdoptim::isa_name(opt.isa());
  });
}

simdoptim_status simdoptim_optimizer_num_threads(const simdoptim_optimizer* optimizer,
                                                 int* num_threads) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(num_threads, "num_threads");
    *num_threads = opt.num_threads();
  });
}

simdoptim_status simdoptim_optimizer_set_flush_subnormal_state(simdoptim_optimizer* optimizer,
                                                               int on) {
  return capi::guard(__func__,
                     [&] { capi::optimizer_of(optimizer).set_flush_subnormal_state(on); });
}

simdoptim_status simdoptim_optimizer_flush_subnormal_state(const simdoptim_optimizer* optimizer,
                                                           int* on) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(on, "on");
    *on = opt.flush_subnormal_state() ? 1 : 0;
  });
}

simdoptim_status simdoptim_optimizer_set_skip_if_nonfinite(simdoptim_optimizer* optimizer, int on) {
  return capi::guard(__func__,
                     [&] { capi::optimizer_of(optimizer).set_skip_if_nonfinite(on != 0); });
}

simdoptim_status simdoptim_optimizer_last_step_skipped(const simdoptim_optimizer* optimizer,
                                                       int* skipped) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(skipped, "skipped");
    *skipped = opt.last_step_skipped() ? 1 : 0;
  });
}

simdoptim_status simdoptim_optimizer_num_groups(const simdoptim_optimizer* optimizer,
                                                size_t* count) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(count, "count");
    *count = opt.param_groups().size();
  });
}

simdoptim_status simdoptim_optimizer_group_size(const simdoptim_optimizer* optimizer, size_t group,
                                                size_t* count) {
  return capi::guard(__func__, [&] {
    const simdoptim::ParamGroup& g = capi::group_of(optimizer, group);
    capi::require(count, "count");
    *count = g.size();
  });
}

simdoptim_status simdoptim_optimizer_get_option(const simdoptim_optimizer* optimizer, size_t group,
                                                const char* key, double* value) {
  return capi::guard(__func__, [&] {
    const simdoptim::ParamGroup& g = capi::group_of(optimizer, group);
    capi::require(key, "key");
    capi::require(value, "value");
    if (!g.options().contains(key))
      throw capi::Error(SIMDOPTIM_ERROR_INVALID_ARGUMENT,
                        "group " + std::to_string(group) + " has no option '" + key + "'");
    *value = g.options().get(key);
  });
}

simdoptim_status simdoptim_optimizer_set_option(simdoptim_optimizer* optimizer, size_t group,
                                                const char* key, double value) {
  return capi::guard(__func__, [&] {
    simdoptim::ParamGroup& g = capi::group_of(optimizer, group);
    capi::require(key, "key");
    const std::string k = key;
    const simdoptim::Optimizer& opt = *optimizer->optimizer;
    if (!opt.defaults().contains(k) && k != "initial_lr" && k != "lr_scale")
      throw capi::Error(
          SIMDOPTIM_ERROR_INVALID_ARGUMENT,
          "unknown option '" + k + "' for optimizer '" + std::string(opt.name()) + "'");
    simdoptim::GroupOptions options = g.options();
    options.set(k, value);
    opt.validate(options);
    g.options() = std::move(options);
  });
}

}  // extern "C"
