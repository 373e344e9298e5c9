#include "nonfinite.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "external_grads.hpp"
#include "optim/storage_args.hpp"

namespace simdoptim::detail {

bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  const CheckedGrads& checked, float scale, ToolScratch& scratch) {
  std::vector<double>& maxima = scratch.per_tensor;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    const auto states = group.tensor_states();
    const std::span<const float* const> grads = group_grads(groups, checked.external, g);
    const std::span<const std::uint16_t* const> grads16 =
        group_grads(groups, checked.external16, g);
    auto present = [&](std::size_t i) {
      if (!grads16.empty()) return grads16[i] != nullptr;
      return grads.empty() ? states[i].has_grad : grads[i] != nullptr;
    };
    maxima.resize(group.size());
    // 16-bit gradients are read scaled as the step reads them: by the scale rounded to their
    // format, the product rounded to it (which may overflow to Inf).
    const Storage format = !grads16.empty() ? storage_of(checked.external16_dtype)
                           : grads.empty()  ? storage_of(group.grad_dtype())
                                            : Storage::f32;
    if (!grads16.empty())
      scratch.reducer.run(executor, isa, group, grads16, format, Reduction::abs_max, present,
                          maxima);
    else if (format != Storage::f32)
      scratch.reducer.run(executor, isa, group, group.grad16_arena().data(), format,
                          Reduction::abs_max, present, maxima);
    else if (grads.empty())
      scratch.reducer.run(executor, isa, group, group.grad_arena().data(), Reduction::abs_max,
                          present, maxima);
    else
      scratch.reducer.run(executor, isa, group, grads, Reduction::abs_max, present, maxima);
    // Rounding is monotonic, so the largest |g * scale| is the largest |g| times |scale|.
    const float s = round_to(format, scale);
    for (std::size_t i = 0; i < group.size(); ++i)
      if (present(i) && group.info(i).numel > 0 &&
          !std::isfinite(round_to(format, static_cast<float>(maxima[i]) * s)))
        return false;
  }
  return true;
}

}  // namespace simdoptim::detail
