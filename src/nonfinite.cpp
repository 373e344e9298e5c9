#include "nonfinite.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "external_grads.hpp"

namespace simdoptim::detail {

bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  std::span<const float* const> external, float scale, ToolScratch& scratch) {
  std::vector<double>& maxima = scratch.per_tensor;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    const auto states = group.tensor_states();
    const std::span<const float* const> grads = group_grads(groups, external, g);
    auto present = [&](std::size_t i) {
      return grads.empty() ? states[i].has_grad : grads[i] != nullptr;
    };
    maxima.resize(group.size());
    if (grads.empty() && group.grad_dtype() != DType::f32)
      throw std::invalid_argument("skip_if_nonfinite: 16-bit gradients are not supported yet");
    if (grads.empty())
      scratch.reducer.run(executor, isa, group, group.grad_arena().data(), Reduction::abs_max,
                          present, maxima);
    else
      scratch.reducer.run(executor, isa, group, grads, Reduction::abs_max, present, maxima);
    // Rounding is monotonic, so the largest |g * scale| is the largest |g| times |scale|.
    for (std::size_t i = 0; i < group.size(); ++i)
      if (present(i) && group.info(i).numel > 0 &&
          !std::isfinite(static_cast<float>(maxima[i]) * scale))
        return false;
  }
  return true;
}

}  // namespace simdoptim::detail
