// The one driver of every elementwise description: option checks from the description's table,
// state arrays and their initial values, per-tensor scalars, runs of neighbouring tensors that
// share a kernel call, chunking and threads (step_plan.hpp), and the instruction set.
#include "simdoptim/elementwise_optimizer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/half.hpp"
#include "optim/elementwise_rule.hpp"
#include "optim/option_table.hpp"
#include "optim/storage_args.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"

namespace simdoptim {
namespace detail {

struct ElementwiseScratch {
  StepPlan<ElementwiseArgs> plan;
};

namespace {

bool state_exists(const GroupOptions& o, const StateSpec& s) {
  return s.when.empty() || o.get(s.when) != 0.0;
}

}  // namespace
}  // namespace detail

inline namespace v1 {
namespace {

// An elementwise optimizer by description alone (make_optimizer), without its typed C++ class.
class DescribedOptimizer final : public ElementwiseOptimizer {
 public:
  DescribedOptimizer(const detail::ElementwiseRule& rule, RuntimeOptions runtime)
      : ElementwiseOptimizer(rule, detail::defaults_of(rule.options), runtime) {}
};

}  // namespace

ElementwiseOptimizer::ElementwiseOptimizer(const detail::ElementwiseRule& rule,
                                           GroupOptions defaults, RuntimeOptions runtime,
                                           std::vector<ParamSpec> params)
    : Optimizer(std::move(defaults), runtime),
      rule_(rule),
      scratch_(std::make_unique<detail::ElementwiseScratch>()) {
  validate(this->defaults());
  if (rule_.validate_new_group != nullptr) rule_.validate_new_group(this->defaults());
  if (!params.empty()) add_param_group(std::move(params));
}

ElementwiseOptimizer::~ElementwiseOptimizer() = default;

std::string_view ElementwiseOptimizer::name() const noexcept {
  return rule_.name;
}

void ElementwiseOptimizer::validate(const GroupOptions& o) const {
  detail::validate_options(rule_.options, o);
  if (rule_.validate != nullptr) rule_.validate(o);
}

void ElementwiseOptimizer::prepare_param_group(GroupOptions& options, const GroupOptions&) const {
  if (rule_.validate_new_group != nullptr) rule_.validate_new_group(options);
}

std::span<double> ElementwiseOptimizer::scalars_of(std::size_t group, std::size_t tensor) {
  const std::size_t count = rule_.tensor_scalars.size();
  if (tensor_scalars_.size() <= group) tensor_scalars_.resize(group + 1);
  std::vector<double>& row = tensor_scalars_[group];
  const std::size_t tensors = param_groups()[group].size();
  while (row.size() < tensors * count)
    for (const detail::TensorScalarSpec& s : rule_.tensor_scalars) row.push_back(s.initial);
  return {row.data() + tensor * count, count};
}

double ElementwiseOptimizer::tensor_scalar(std::size_t group, std::size_t tensor,
                                           std::string_view name) const {
  if (group >= param_groups().size() || tensor >= param_groups()[group].size())
    throw std::out_of_range("no tensor " + std::to_string(tensor) + " in group " +
                            std::to_string(group));
  const std::size_t count = rule_.tensor_scalars.size();
  for (std::size_t k = 0; k < count; ++k) {
    if (rule_.tensor_scalars[k].name != name) continue;
    const std::size_t at = tensor * count + k;
    return group < tensor_scalars_.size() && at < tensor_scalars_[group].size()
               ? tensor_scalars_[group][at]
               : rule_.tensor_scalars[k].initial;
  }
  throw std::out_of_range(std::string(rule_.name) + " keeps no per-tensor scalar '" +
                          std::string(name) + "'");
}

void ElementwiseOptimizer::save_tensor_scalars(
    std::size_t group, std::size_t tensor, std::vector<std::pair<std::string, double>>& out) const {
  for (const detail::TensorScalarSpec& s : rule_.tensor_scalars)
    out.emplace_back(std::string(s.name), tensor_scalar(group, tensor, s.name));
}

void ElementwiseOptimizer::load_tensor_scalars(
    std::size_t group, std::size_t tensor, std::span<const std::pair<std::string, double>> values) {
  // Checkpoint loading has checked the names against save_tensor_scalars' and reserved the
  // storage; the values may come in another order (a torch state dict's).
  const std::span<double> scalars = scalars_of(group, tensor);
  for (std::size_t k = 0; k < scalars.size(); ++k)
    for (const auto& [name, value] : values)
      if (name == rule_.tensor_scalars[k].name) scalars[k] = value;
}

void ElementwiseOptimizer::reserve_tensor_scalars(std::size_t group) {
  const std::size_t tensors = param_groups().at(group).size();
  if (!rule_.tensor_scalars.empty() && tensors > 0) scalars_of(group, tensors - 1);
}

void ElementwiseOptimizer::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const std::size_t g = detail::group_index(param_groups(), group);
  const auto states = group.tensor_states();

  detail::ElementwiseArgs base = detail::storage_args(group);
  const std::span<const float* const> external = external_grads(group);
  const std::span<const std::uint16_t* const> external16 = external_grads16(group);
  // 16-bit gradients are scaled as clip_grad_norm_ scales them in place: by the scale rounded to
  // their format (torch's mul_ of a bf16 tensor by a float32 scalar tensor), the product rounded.
  const DType grad_dtype = !external16.empty() ? external16_dtype()
                           : !external.empty() ? DType::f32
                                               : group.grad_dtype();
  base.grad_scale = detail::round_to(detail::storage_of(grad_dtype), grad_scale());
  const std::span<std::uint16_t* const> out = param_out(group);
  base.state_floor = flush_subnormal_state() ? std::numeric_limits<float>::min() : 0.0f;
  if (const AveragingCall& avg = averaging_call(); avg.fused && group.fuses_averaging()) {
    base.averaged = group.averaged_arena();
    base.averaging = avg.kind;
    base.average_w0 = avg.w0;
    base.average_w1 = avg.w1;
  }
  const bool state8 = group.state_dtype() == DType::q8;
  const bool state16 = !state8 && group.state_dtype() != DType::f32;
  bool has_arrays = false;
  for (std::size_t k = 0; k < rule_.states.size(); ++k) {
    const detail::StateSpec& spec = rule_.states[k];
    if (!detail::state_exists(o, spec)) continue;
    float* array = group.ensure_state_arena(spec.name, spec.non_negative);
    if (state8) {
      base.state8[k] = reinterpret_cast<std::uint8_t*>(array);
      base.state8_scales[k] = group.q8_scales(array);
      if (spec.non_negative) base.state8_non_negative |= 1U << k;
    } else if (state16)
      base.state16[k] = reinterpret_cast<std::uint16_t*>(array);
    else
      base.state[k] = array;
    has_arrays = true;
  }
  // State is created as torch creates it: at a tensor's first step, or for every tensor at
  // once. Arrays that start at zero are zero already (new, or zeroed by a state load).
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (states[i].initialized || !(states[i].has_grad || rule_.eager_state)) continue;
    for (std::size_t k = 0; k < rule_.states.size(); ++k) {
      if (rule_.states[k].init.empty()) continue;
      const float value = detail::f32(o.get(rule_.states[k].init));
      if (base.state[k] != nullptr) detail::fill_tensor(group, base.state[k], i, value);
      if (base.state16[k] != nullptr)
        detail::fill_tensor16(group, base.state16[k], i, detail::bf16_from_f32(value));
      if (base.state8[k] != nullptr)
        detail::fill_tensor_q8(group, reinterpret_cast<float*>(base.state8[k]), i, value,
                               rule_.states[k].non_negative);
    }
    if (rule_.eager_state) states[i].initialized = true;
  }

  // Tensors with other step counts, another first step or other per-tensor scalars (skipped on
  // earlier steps) get other coefficients, hence a kernel call of their own.
  const std::size_t count = rule_.tensor_scalars.size();
  if (count > 0) scalars_of(g, group.size() - 1);
  auto same_call = [&](std::size_t a, std::size_t b) {
    return states[a].step == states[b].step && states[a].initialized == states[b].initialized &&
           (count == 0 || std::memcmp(&tensor_scalars_[g][a * count],
                                      &tensor_scalars_[g][b * count], count * sizeof(double)) == 0);
  };
  auto& plan = scratch_->plan;
  plan.clear();
  detail::for_each_run(group, same_call, [&](const detail::Segment& s) {
    const detail::StepInfo step{detail::next_step(states[s.first].step),
                                !states[s.first].initialized};
    detail::ElementwiseArgs args = base;
    const std::span<double> scalars =
        count > 0 ? std::span<double>(&tensor_scalars_[g][s.first * count], count)
                  : std::span<double>();
    rule_.prepare(o, step, scalars, args);
    if (args.stochastic_rounding)
      args.rounding_key =
          detail::rounding_key(group.storage().seed, static_cast<std::uint64_t>(step.step));
    for (std::size_t i = s.first; i < s.last; ++i) {
      if (count > 0 && i != s.first)
        std::copy(scalars.begin(), scalars.end(), tensor_scalars_[g].begin() + i * count);
      states[i].step = detail::next_step(states[i].step);
      if (has_arrays || count > 0) states[i].initialized = true;
    }
    if (external.empty() && external16.empty() && out.empty()) {
      plan.add(args, s.begin, s.end);
      return;
    }
    // Each tensor's gradient (or parameter output) is in a buffer of its own: one call per
    // tensor.
    for (std::size_t i = s.first; i < s.last; ++i) {
      const TensorInfo& t = group.info(i);
      if (!external.empty() || !external16.empty()) {
        args.grad = external.empty() ? nullptr : external[i];
        args.grad16 = {external16.empty() ? nullptr : external16[i],
                       detail::storage_of(external16_dtype())};
        args.grad_base = t.offset;
        args.grad_count = t.numel;
      }
      if (!out.empty() && out[i] != nullptr) {
        args.param_copy.data = out[i];
        args.param_copy_base = t.offset;
        args.param_copy_count = t.numel;
      } else {
        args.param_copy = base.param_copy;
        args.param_copy_base = 0;
        args.param_copy_count = SIZE_MAX;
      }
      plan.add(args, t.offset, i + 1 < group.size() ? group.info(i + 1).offset : s.end);
    }
  });
  plan.run(executor(), rule_.kernel(isa()));

  // The kernels ran over whole padded tensors; the padding stays zero whatever a rule computes
  // there (0 / 0 with eps = 0, |0| + eps, a clamped step size), as reductions read it.
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!states[i].has_grad) continue;
    const std::size_t begin = group.info(i).offset + group.info(i).numel;
    const std::size_t end = i + 1 < group.size() ? group.info(i + 1).offset : group.padded_numel();
    if (base.param != nullptr) std::fill(base.param + begin, base.param + end, 0.0f);
    for (std::uint16_t* array : {base.param16.data, base.param_copy.data})
      if (array != nullptr) std::fill(array + begin, array + end, std::uint16_t{0});
    if (base.averaged != nullptr) std::fill(base.averaged + begin, base.averaged + end, 0.0f);
    for (float* array : base.state)
      if (array != nullptr) std::fill(array + begin, array + end, 0.0f);
    for (std::uint16_t* array : base.state16)
      if (array != nullptr) std::fill(array + begin, array + end, std::uint16_t{0});
    for (std::uint8_t* array : base.state8)
      if (array != nullptr) std::fill(array + begin, array + end, std::uint8_t{0});
  }
}

}  // namespace v1

std::unique_ptr<Optimizer> detail::make_elementwise(const ElementwiseRule& rule,
                                                    RuntimeOptions runtime) {
  return std::make_unique<DescribedOptimizer>(rule, runtime);
}

}  // namespace simdoptim
