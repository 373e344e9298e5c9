#include "simdoptim/param_group.hpp"

#include <algorithm>
#include <stdexcept>

#include "aligned_buffer.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// Stream indices of the arenas, for their cache stagger: params, grads, the average, then state
// arrays.
constexpr std::size_t kParamStream = 0;
constexpr std::size_t kGradStream = 1;
constexpr std::size_t kAveragedStream = 2;
constexpr std::size_t kFirstStateStream = 3;

}  // namespace

ParamGroup::ParamGroup(std::vector<ParamSpec> params, GroupOptions options)
    : options_(std::move(options)) {
  tensors_.reserve(params.size());
  std::size_t offset = 0;
  for (auto& spec : params) {
    const std::size_t n = numel_of(spec.shape);
    if (!spec.init.empty() && spec.init.size() != n)
      throw std::invalid_argument("parameter '" + spec.name + "' of shape " +
                                  shape_to_string(spec.shape) + " has " + std::to_string(n) +
                                  " elements but init has " + std::to_string(spec.init.size()));
    if (find(spec.name) != tensors_.size())
      throw std::invalid_argument("parameter name '" + spec.name + "' appears twice");
    tensors_.push_back(TensorInfo{spec.name, spec.shape, offset, n});
    offset += round_up(n, kTensorAlign);
  }
  padded_numel_ = round_up(offset, kArenaAlign);
  states_.resize(tensors_.size());
  params_ = std::make_unique<detail::AlignedBuffer>(padded_numel_, kParamStream);
  grads_ = std::make_unique<detail::AlignedBuffer>(padded_numel_, kGradStream);
  for (std::size_t i = 0; i < params.size(); ++i)
    std::copy(params[i].init.begin(), params[i].init.end(), params_->data() + tensors_[i].offset);
}

ParamGroup::~ParamGroup() = default;

std::size_t ParamGroup::find(std::string_view name) const noexcept {
  auto it = std::find_if(tensors_.begin(), tensors_.end(),
                         [&](const TensorInfo& t) { return t.name == name; });
  return static_cast<std::size_t>(it - tensors_.begin());
}

TensorView ParamGroup::param(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  return {t.name, t.shape, {params_->data() + t.offset, t.numel}, param_dtype()};
}

TensorView ParamGroup::grad(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  float* data = grads_->data() + t.offset;
  if (!states_[i].has_grad) {
    std::fill(data, data + t.numel, 0.0f);
    states_[i].has_grad = true;
  }
  return {t.name, t.shape, {data, t.numel}, grad_dtype()};
}

std::vector<std::string> ParamGroup::state_names() const {
  std::vector<std::string> names;
  for (const auto& a : state_arrays_) names.push_back(a.name);
  return names;
}

TensorView ParamGroup::state(std::size_t i, std::string_view name) {
  const TensorInfo& t = tensors_.at(i);
  float* arena = state_arena(name);
  if (arena == nullptr || !states_[i].initialized)
    throw std::out_of_range("parameter '" + t.name + "' has no state '" + std::string(name) + "'");
  return {t.name, t.shape, {arena + t.offset, t.numel}, state_dtype()};
}

std::span<float> ParamGroup::param_arena() noexcept {
  return {params_->data(), padded_numel_};
}
std::span<float> ParamGroup::grad_arena() noexcept {
  return {grads_->data(), padded_numel_};
}

TensorView ParamGroup::averaged_param(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  if (averaged_ == nullptr)
    throw std::out_of_range("parameter '" + t.name + "' has no averaged copy");
  return {t.name, t.shape, {averaged_->data() + t.offset, t.numel}, param_dtype()};
}

float* ParamGroup::averaged_arena() noexcept {
  return averaged_ ? averaged_->data() : nullptr;
}

float* ParamGroup::reset_averaged_arena() {
  if (averaged_ == nullptr)
    averaged_ = std::make_unique<detail::AlignedBuffer>(padded_numel_, kAveragedStream);
  std::copy(params_->data(), params_->data() + padded_numel_, averaged_->data());
  return averaged_->data();
}

float* ParamGroup::state_arena(std::string_view name) noexcept {
  for (auto& a : state_arrays_)
    if (a.name == name) return a.buffer->data();
  return nullptr;
}

float* ParamGroup::ensure_state_arena(std::string_view name) {
  if (float* existing = state_arena(name)) return existing;
  const std::size_t stream = kFirstStateStream + state_arrays_.size();
  state_arrays_.push_back(
      {std::string(name), std::make_unique<detail::AlignedBuffer>(padded_numel_, stream)});
  return state_arrays_.back().buffer->data();
}

std::vector<ParamGroup::NewStateArena> ParamGroup::make_state_arenas(
    std::span<const std::string> names) const {
  std::vector<NewStateArena> made;
  for (const std::string& name : names) {
    const bool known = std::any_of(state_arrays_.begin(), state_arrays_.end(),
                                   [&](const NewStateArena& a) { return a.name == name; }) ||
                       std::any_of(made.begin(), made.end(),
                                   [&](const NewStateArena& a) { return a.name == name; });
    if (known) continue;
    const std::size_t stream = kFirstStateStream + state_arrays_.size() + made.size();
    made.push_back({name, std::make_unique<detail::AlignedBuffer>(padded_numel_, stream)});
  }
  state_arrays_.reserve(state_arrays_.size() + made.size());
  return made;
}

void ParamGroup::add_state_arenas(std::vector<NewStateArena>& arenas) noexcept {
  // make_state_arenas reserved the room: moving the arrays in does not allocate.
  for (NewStateArena& a : arenas) state_arrays_.push_back(std::move(a));
  arenas.clear();
}

}  // namespace v1
}  // namespace simdoptim
