#include "nonfinite.hpp"

#include <cmath>
#include <vector>

#include "tensor_reductions.hpp"

namespace simdoptim::detail {

bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups) {
  // Reused across steps so that, once grown, the check does not allocate.
  static thread_local TensorReducer reducer;
  static thread_local std::vector<double> maxima;
  for (ParamGroup& group : groups) {
    const auto states = group.tensor_states();
    maxima.resize(group.size());
    reducer.run(
        executor, isa, group, group.grad_arena().data(), Reduction::abs_max,
        [&](std::size_t i) { return states[i].has_grad; }, maxima);
    for (double m : maxima)
      if (!std::isfinite(m)) return false;
  }
  return true;
}

}  // namespace simdoptim::detail
