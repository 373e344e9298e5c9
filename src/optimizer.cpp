#include "simdoptim/optimizer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "executor.hpp"
#include "external_grads.hpp"
#include "nonfinite.hpp"
#include "per_tensor_state.hpp"
#include "tool_scratch.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

// Keys a group may carry beyond its optimizer's options (torch lets schedulers and recipes
// store extra entries in the group dict).
constexpr std::string_view kExtraKeys[] = {"initial_lr", "lr_scale"};

std::string valid_keys(const GroupOptions& defaults) {
  std::string s;
  for (const auto& [k, v] : defaults.items()) s += (s.empty() ? "" : ", ") + k;
  for (auto k : kExtraKeys) s += ", " + std::string(k);
  return s;
}

}  // namespace

Optimizer::Optimizer(GroupOptions defaults, RuntimeOptions runtime)
    : defaults_(std::move(defaults)),
      isa_(runtime.isa ? *runtime.isa : default_isa()),
      executor_(std::make_unique<detail::Executor>(runtime.num_threads)),
      tools_scratch_(std::make_unique<detail::ToolScratch>()) {
  if (!isa_supported(isa_))
    throw std::invalid_argument(std::string("instruction set '") + isa_name(isa_) +
                                "' is not supported by this CPU or build");
}

Optimizer::~Optimizer() = default;

void Optimizer::prepare_param_group(GroupOptions&, const GroupOptions&) const {}

int Optimizer::num_threads() const noexcept {
  return executor_->num_threads();
}

ParamGroup& Optimizer::add_param_group(std::vector<ParamSpec> params,
                                       const GroupOptions& overrides) {
  return add_param_group(std::move(params), overrides, StorageOptions{});
}

ParamGroup& Optimizer::add_param_group(std::vector<ParamSpec> params, const GroupOptions& overrides,
                                       const StorageOptions& storage) {
  storage.validate();
  if (!storage.is_default() && !supports_storage())
    throw std::invalid_argument("storage: optimizer '" + std::string(name()) +
                                "' keeps fp32 arrays only (16-bit storage needs an elementwise "
                                "optimizer)");
  if (averaging_.mode == AveragingOptions::Mode::lookahead && storage.stochastic_rounding)
    throw std::invalid_argument(
        "storage: lookahead is on, and it does not support stochastic rounding of the "
        "parameters (it rounds the slow weights it writes back to nearest-even)");
  GroupOptions options = defaults_;
  for (const auto& [key, value] : overrides.items()) {
    const bool extra =
        std::find(std::begin(kExtraKeys), std::end(kExtraKeys), key) != std::end(kExtraKeys);
    if (!extra && !defaults_.contains(key))
      throw std::invalid_argument("unknown option '" + key + "' for optimizer '" +
                                  std::string(name()) + "' (valid: " + valid_keys(defaults_) + ")");
    options.set(key, value);
  }
  prepare_param_group(options, overrides);
  validate(options);
  for (const auto& p : params) {
    for (const auto& g : groups_)
      if (g.find(p.name) != g.size())
        throw std::invalid_argument("parameter '" + p.name + "' is already in another group");
  }
  return groups_.emplace_back(std::move(params), std::move(options), storage);
}

void Optimizer::zero_grad(bool set_to_none) noexcept {
  grads_known_finite_ = false;
  for (auto& group : groups_) {
    auto states = group.tensor_states();
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!states[i].has_grad) continue;
      if (set_to_none) {
        states[i].has_grad = false;
      } else {
        const TensorView g = group.grad(i);
        std::fill(g.data.begin(), g.data.end(), 0.0f);
        std::fill(g.data16.begin(), g.data16.end(), std::uint16_t{0});
      }
    }
  }
}

void Optimizer::note_grads_finite() noexcept {
  tools_scratch_->finite_external.clear();
  grads_known_finite_ = true;
}

void Optimizer::note_grads_finite(std::span<const float* const> external) {
  tools_scratch_->finite_external.assign(external.begin(), external.end());
  grads_known_finite_ = true;
}

void Optimizer::step() {
  if (!tools_scratch_->finite_external.empty()) grads_known_finite_ = false;  // not the arenas'
  run_step();
}

namespace {

// Throws unless `grads`' 16-bit gradients and parameter outputs fit `optimizer`'s groups.
void check_step_grads16(const Optimizer& optimizer, const StepGrads& grads, std::size_t tensors) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("step: " + what); };
  if (!grads.external16.empty()) {
    if (!grads.external.empty()) fail("give external or external16 gradients, not both");
    if (grads.external16.size() != tensors)
      fail(std::to_string(grads.external16.size()) + " gradient pointers for " +
           std::to_string(tensors) + " tensors (one per tensor, nullptr for none)");
    if (grads.external16_dtype != DType::bf16 && grads.external16_dtype != DType::f16)
      fail("external16_dtype must be bf16 or f16");
    if (!optimizer.supports_storage())
      fail("16-bit gradients need an elementwise optimizer, not '" + std::string(optimizer.name()) +
           "'");
  }
  if (grads.param_out.empty()) return;
  if (grads.param_out.size() != tensors)
    fail(std::to_string(grads.param_out.size()) + " parameter outputs for " +
         std::to_string(tensors) + " tensors (one per tensor, nullptr for the arena's)");
  std::size_t k = 0;
  for (const ParamGroup& g : optimizer.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i, ++k)
      if (grads.param_out[k] != nullptr && !g.storage().master_weights)
        fail("a parameter output for '" + g.info(i).name + "', which has no master weights");
}

}  // namespace

void Optimizer::step(const StepGrads& grads) {
  validate_groups();  // before the gradients are staged
  std::size_t tensors = 0;
  for (const ParamGroup& g : groups_) tensors += g.size();
  if (!grads.external.empty() && grads.external.size() != tensors)
    throw std::invalid_argument("step: " + std::to_string(grads.external.size()) +
                                " gradient pointers for " + std::to_string(tensors) +
                                " tensors (one per tensor, nullptr for none)");
  check_step_grads16(*this, grads, tensors);
  // A finite norm noted over other gradients than these tells nothing about them.
  if (!grads.external16.empty() ||
      !std::ranges::equal(grads.external, tools_scratch_->finite_external))
    grads_known_finite_ = false;
  // The presence of each gradient is the pointer's for this step only: the flags are set from
  // the pointers (the optimizers read them) and put back afterwards.
  std::vector<char>& saved = tools_scratch_->has_grad;
  saved.clear();
  const bool pointers = !grads.external.empty() || !grads.external16.empty();
  if (pointers) {
    std::size_t k = 0;
    for (ParamGroup& g : groups_)
      for (TensorState& s : g.tensor_states()) {
        saved.push_back(s.has_grad ? 1 : 0);
        s.has_grad =
            grads.external.empty() ? grads.external16[k] != nullptr : grads.external[k] != nullptr;
        ++k;
      }
  }
  struct Restore {
    Optimizer& o;
    ~Restore() {
      std::size_t k = 0;
      if (!o.tools_scratch_->has_grad.empty())
        for (ParamGroup& g : o.groups_)
          for (TensorState& s : g.tensor_states())
            s.has_grad = o.tools_scratch_->has_grad[k++] != 0;
      o.external_grads_ = {};
      o.external16_ = {};
      o.param_out_ = {};
      o.grad_scale_ = 1.0f;
    }
  } restore{*this};
  external_grads_ = grads.external;
  external16_ = grads.external16;
  external16_dtype_ = grads.external16_dtype;
  param_out_ = grads.param_out;
  grad_scale_ = grads.scale;
  if (!reads_step_grads() && (!external_grads_.empty() || grad_scale_ != 1.0f)) stage_step_grads();
  run_step();
}

// For the optimizers that read gradients in several passes: the arena gets the gradients
// step(const StepGrads&) names, times the scale (the product clip_grad_norm_ stores).
void Optimizer::stage_step_grads() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    ParamGroup& group = groups_[g];
    const std::span<const float* const> external = detail::group_grads(groups_, external_grads_, g);
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!group.has_grad(i)) continue;
      const TensorInfo& t = group.info(i);
      float* dst = group.grad_arena().data() + t.offset;
      const float* src = external.empty() ? dst : external[i];
      if (grad_scale_ == 1.0f) {
        if (src != dst) std::memcpy(dst, src, t.numel * sizeof(float));
      } else {
        for (std::size_t j = 0; j < t.numel; ++j) dst[j] = src[j] * grad_scale_;
      }
    }
  }
  external_grads_ = {};
  grad_scale_ = 1.0f;
}

std::span<const float* const> Optimizer::external_grads(const ParamGroup& group) const {
  return external_grads_.empty()
             ? std::span<const float* const>()
             : detail::group_grads(groups_, external_grads_, detail::group_index(groups_, group));
}

std::span<const std::uint16_t* const> Optimizer::external_grads16(const ParamGroup& group) const {
  return detail::group_grads(groups_, external16_, detail::group_index(groups_, group));
}

std::span<std::uint16_t* const> Optimizer::param_out(const ParamGroup& group) const {
  return detail::group_grads(groups_, param_out_, detail::group_index(groups_, group));
}

void Optimizer::validate_groups() const {
  // Options written directly since (group.set_lr(-1), options().set) are checked here, as the
  // C API and Python check them when set, before any group steps.
  for (const ParamGroup& group : groups_) validate(group.options());
}

void Optimizer::run_step() {
  validate_groups();
  last_step_skipped_ = false;
  const bool known_finite = std::exchange(grads_known_finite_, false);
  if (skip_if_nonfinite_ && !known_finite &&
      !detail::grads_finite(*executor_, isa_, groups_,
                            {external_grads_, external16_, external16_dtype_}, grad_scale_,
                            *tools_scratch_)) {
    last_step_skipped_ = true;
    return;
  }
  averaging_call_ = plan_averaging();
  struct Clear {
    AveragingCall& call;
    ~Clear() { call = {}; }
  } clear{averaging_call_};
  for (auto& group : groups_) {
    const auto states = group.tensor_states();
    if (std::any_of(states.begin(), states.end(), [](const TensorState& s) { return s.has_grad; }))
      step_group(group);
    average_rest(group);
  }
}

double Optimizer::step(const std::function<double()>& closure) {
  grads_known_finite_ = false;  // the closure writes new gradients
  const double loss = closure();
  run_step();
  return loss;
}

void Optimizer::save_tensor_scalars(std::size_t, std::size_t,
                                    std::vector<std::pair<std::string, double>>&) const {}

void Optimizer::load_tensor_scalars(std::size_t, std::size_t,
                                    std::span<const std::pair<std::string, double>>) {}

std::vector<Optimizer::SideArray> Optimizer::side_arrays(std::size_t, std::size_t) {
  return {};
}

std::pair<std::size_t, std::size_t> Optimizer::locate(std::string_view name) const {
  for (std::size_t g = 0; g < groups_.size(); ++g)
    if (std::size_t i = groups_[g].find(name); i != groups_[g].size()) return {g, i};
  throw std::out_of_range("no parameter named '" + std::string(name) + "'");
}

TensorView Optimizer::param(std::string_view name) {
  const auto [g, i] = locate(name);
  return groups_[g].param(i);
}

TensorView Optimizer::grad(std::string_view name) {
  const auto [g, i] = locate(name);
  return groups_[g].grad(i);
}

}  // namespace v1
}  // namespace simdoptim
