#include "lr_scheduler/momentum_key.hpp"

#include <stdexcept>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim::detail {

std::string momentum_key(std::string_view scheduler, const Optimizer& optimizer) {
  if (optimizer.defaults().contains("beta1")) return "beta1";
  if (optimizer.defaults().contains("momentum")) return "momentum";
  throw std::invalid_argument(message(scheduler, ": optimizer '", optimizer.name(),
                                      "' must support momentum (or beta1) with cycle_momentum "
                                      "enabled"));
}

}  // namespace simdoptim::detail
