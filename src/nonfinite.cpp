#include "nonfinite.hpp"

#include <cmath>
#include <vector>

namespace simdoptim::detail {

bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  ToolScratch& scratch) {
  std::vector<double>& maxima = scratch.per_tensor;
  for (ParamGroup& group : groups) {
    const auto states = group.tensor_states();
    maxima.resize(group.size());
    scratch.reducer.run(
        executor, isa, group, group.grad_arena().data(), Reduction::abs_max,
        [&](std::size_t i) { return states[i].has_grad; }, maxima);
    for (double m : maxima)
      if (!std::isfinite(m)) return false;
  }
  return true;
}

}  // namespace simdoptim::detail
