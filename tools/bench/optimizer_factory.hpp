#pragma once
// The optimizers the tool can run, by name, and how one is built for a workload: either with
// the library's defaults plus command-line overrides in a single param group, or through
// build_optimizer from a training config (the trainer's groups).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/workload.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/group_options.hpp"
#include "simdoptim/optimizer.hpp"
#include "simdoptim/storage_options.hpp"

namespace simdoptim::bench {

// Lower-case names accepted by --opt, sorted.
std::vector<std::string> bench_optimizer_names();

// The defaults of optimizer `name` (its option keys); throws as check_optimizer_name.
GroupOptions optimizer_defaults(const std::string& name);

// Throws std::invalid_argument listing bench_optimizer_names() when `name` is not one of them.
void check_optimizer_name(const std::string& name);

// What to build: an optimizer name with option overrides (one param group holding every
// trainable tensor), or a config for build_optimizer.
struct OptimizerRecipe {
  std::string name;
  GroupOptions overrides;
  std::optional<Config> config;
  std::string config_path;
  // Keep subnormal state values (torch's arithmetic) instead of flushing them to zero.
  bool keep_subnormal_state = false;
  // How the param group stores its arrays (--param-dtype, ...; a config's keys otherwise).
  StorageOptions storage = {};
};

// Builds the optimizer over `workload`. Option errors surface as the library's
// std::invalid_argument (naming the option and value).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerRecipe& recipe, const Workload& workload,
                                          RuntimeOptions runtime);

}  // namespace simdoptim::bench
