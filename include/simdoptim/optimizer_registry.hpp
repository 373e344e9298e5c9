#pragma once
/// Every optimizer of the library by its lower-case name, for tools, bindings and configs.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// The lower-case names of every optimizer, sorted ("adadelta", ..., "sgd").
std::vector<std::string> registered_optimizers();

/// One option of an optimizer: its group-dict key, torch's default, a one-line description,
/// and whether it is a flag (0 or 1).
struct OptionInfo {
  std::string name;
  double default_value = 0.0;
  std::string doc;
  bool flag = false;
};

/// The options of optimizer `name` in the order of its group dict. Throws std::invalid_argument
/// for an unknown name.
std::vector<OptionInfo> optimizer_options(std::string_view name);

/// The state arrays optimizer `name` may keep per tensor (torch's state[p] keys other than
/// 'step' and per-tensor scalars). Throws std::invalid_argument for an unknown name.
std::vector<std::string> optimizer_state_names(std::string_view name);

/// The scalars optimizer `name` keeps per tensor (torch's 0-d state tensors other than 'step',
/// e.g. NAdam's "mu_product"). Throws std::invalid_argument for an unknown name.
std::vector<std::string> optimizer_tensor_scalar_names(std::string_view name);

/// Whether torch's state[p] of optimizer `name` has 'step' (false for SGD). Throws
/// std::invalid_argument for an unknown name.
bool optimizer_torch_step(std::string_view name);

/// torch's constructor signature of optimizer `name`, names only (the defaults are the options'):
/// the class name, then the parameters of inspect.signature(torch.optim.<Class>.__init__) in
/// order with `*` before the keyword-only ones, e.g.
/// "Adam(params, lr, betas, eps, weight_decay, amsgrad, *, foreach, maximize, capturable,
/// differentiable, fused)". `betas`, `etas` and `step_sizes` stand for the option pairs (beta1,
/// beta2), (etaminus, etaplus) and (step_size_min, step_size_max); `foreach`, `capturable`,
/// `differentiable` and `fused` are torch's implementation switches (foreach defaults to None,
/// the others to False; no option); `lr=required` marks an argument torch requires. Options it
/// does not name are simdoptim's additions. Empty for an optimizer without one. Throws
/// std::invalid_argument for an unknown name.
std::string optimizer_torch_signature(std::string_view name);

/// A new optimizer with torch's defaults (as `torch.optim.<Name>(params)`), without groups;
/// options go in per group through add_param_group's overrides. Throws std::invalid_argument
/// listing the valid names for an unknown one.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, RuntimeOptions runtime = {});

}  // namespace v1
}  // namespace simdoptim
