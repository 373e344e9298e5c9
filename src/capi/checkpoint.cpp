// Optimizer and scheduler checkpoints (docs/checkpoint_format.md).
#include "simdoptim/checkpoint.hpp"

#include "capi/handles.hpp"

namespace capi = simdoptim::capi;

extern "C" {

simdoptim_status simdoptim_optimizer_save(simdoptim_optimizer* optimizer, const char* path) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(path, "path");
    simdoptim::save(opt, path);
  });
}

simdoptim_status simdoptim_optimizer_load(simdoptim_optimizer* optimizer, const char* path) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(path, "path");
    simdoptim::load(opt, path);
  });
}

simdoptim_status simdoptim_scheduler_save(const simdoptim_scheduler* scheduler, const char* path) {
  return capi::guard(__func__, [&] {
    const simdoptim::Scheduler& s = capi::scheduler_of(scheduler);
    capi::require(path, "path");
    simdoptim::save(s, path);
  });
}

simdoptim_status simdoptim_scheduler_load(simdoptim_scheduler* scheduler, const char* path) {
  return capi::guard(__func__, [&] {
    simdoptim::Scheduler& s = capi::scheduler_of(scheduler);
    capi::require(path, "path");
    simdoptim::load(s, path);
  });
}

}  // extern "C"
