#pragma once
/// L-BFGS, as torch.optim.LBFGS.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// LBFGS options with torch's defaults. torch's `line_search_fn="strong_wolfe"` is
/// `strong_wolfe = true` (stored as the 0/1 option `strong_wolfe`); an absent `max_eval` is
/// max_iter * 5 / 4, as torch computes it, also when add_param_group overrides max_iter alone.
struct LbfgsOptions {
  double lr = 1.0;
  std::int64_t max_iter = 20;
  std::optional<std::int64_t> max_eval = std::nullopt;
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  std::int64_t history_size = 100;
  bool strong_wolfe = false;
  /// As a group dict: lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size,
  /// strong_wolfe.
  GroupOptions to_group_options() const;
};

/// torch.optim.LBFGS (1.13 semantics, after minFunc): up to max_iter iterations per step(closure),
/// each a two-loop L-BFGS direction from the last history_size curvature pairs, then a fixed step
/// lr (the first iteration ever: min(1, 1 / ||g||_1) * lr) or a strong-Wolfe line search (cubic
/// interpolation, c1 = 1e-4, c2 = 0.9, at most 25 evaluations). Stops on max_iter, max_eval
/// evaluations, max|g| <= tolerance_grad, or changes of the step or loss below
/// tolerance_change (the line search's zoom stops at torch's 1e-9 whatever tolerance_change
/// is, as torch 1.13, which does not pass it on). One param group, as torch's ("LBFGS doesn't
/// support per-parameter options"): add_param_group refuses a second one. All its tensors form one
/// flat vector (the arena, padding included, where padding stays zero); a tensor without a gradient
/// counts as a zero gradient. On flat vectors up to 4096 elements, dot products accumulate in float
/// in index order and y += a * x is a fused multiply-add, as torch's CPU kernels compute them;
/// longer vectors use parallel kernels with fixed lanes (the same bits on every build and thread
/// count). Scalars follow torch's types: where torch holds a float32 tensor (dot products, gtd, the
/// step length once it went through a tensor) the value is rounded to float, so that iteration
/// and evaluation counts match torch's. Only step(closure) steps; step() throws.
class Lbfgs final : public Optimizer {
 public:
  /// An optimizer with its one group, holding `params` (torch: LBFGS(params, ...)).
  explicit Lbfgs(std::vector<ParamSpec> params, LbfgsOptions options = {},
                 RuntimeOptions runtime = {});
  /// An optimizer with no group yet; add its one group with add_param_group.
  explicit Lbfgs(LbfgsOptions options = {}, RuntimeOptions runtime = {});
  ~Lbfgs() override;
  std::string_view name() const noexcept override { return "lbfgs"; }
  void validate(const GroupOptions& options) const override;

  using Optimizer::step;
  /// Runs up to max_iter L-BFGS iterations; `closure` zeroes and recomputes the gradients (write
  /// them through grad()) and returns the loss. Returns the loss of the first evaluation (torch:
  /// orig_loss). Throws std::logic_error when the optimizer has no param group yet.
  double step(const std::function<double()>& closure) override;

  /// torch's state['n_iter']: iterations over all steps.
  std::int64_t n_iter() const noexcept;
  /// torch's state['func_evals']: closure evaluations over all steps.
  std::int64_t func_evals() const noexcept;

 private:
  struct State;
  void step_group(ParamGroup& group) override;
  void prepare_param_group(GroupOptions& options, const GroupOptions& overrides) const override;
  std::unique_ptr<State> state_;
  // The options left max_eval to torch's rule, so a group's max_iter override moves it too.
  bool max_eval_follows_max_iter_ = true;
};

}  // namespace v1
}  // namespace simdoptim
