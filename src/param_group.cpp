#include "simdoptim/param_group.hpp"

#include <algorithm>
#include <stdexcept>

#include "aligned_buffer.hpp"
#include "kernels/half.hpp"

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
// The master weights' 16-bit copy, past any state array's stream.
constexpr std::size_t kParamCopyStream = 7;

// Floats of storage for `elements` elements of `dtype`; q8: a byte each and a float per block
// (elements is a multiple of the block).
std::size_t floats_for(std::size_t elements, DType dtype) {
  if (dtype == DType::q8) return elements / 4 + elements / ParamGroup::kQ8Align;
  return dtype == DType::f32 ? elements : (elements + 1) / 2;
}

std::uint16_t narrow(DType dtype, float x) {
  return dtype == DType::bf16 ? detail::bf16_from_f32(x) : detail::f16_from_f32(x);
}

float widen(DType dtype, std::uint16_t h) {
  return dtype == DType::bf16 ? detail::f32_from_bf16(h) : detail::f32_from_f16(h);
}

std::uint16_t* bits16(detail::AlignedBuffer& b) {
  return reinterpret_cast<std::uint16_t*>(b.data());
}

}  // namespace

ParamGroup::ParamGroup(std::vector<ParamSpec> params, GroupOptions options, StorageOptions storage)
    : options_(std::move(options)), storage_(storage) {
  storage_.validate();
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
    offset += round_up(n, tensor_align());
  }
  padded_numel_ = round_up(offset, std::max(kArenaAlign, tensor_align()));
  states_.resize(tensors_.size());
  const bool half = storage_.param != DType::f32;
  if (!half || storage_.master_weights)
    params_ = std::make_unique<detail::AlignedBuffer>(padded_numel_, kParamStream);
  if (half)
    params16_ = std::make_unique<detail::AlignedBuffer>(
        floats_for(padded_numel_, storage_.param),
        storage_.master_weights ? kParamCopyStream : kParamStream);
  grads_ = std::make_unique<detail::AlignedBuffer>(floats_for(padded_numel_, storage_.grad),
                                                   kGradStream);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& init = params[i].init;
    if (params_) std::copy(init.begin(), init.end(), params_->data() + tensors_[i].offset);
    if (params16_)
      std::transform(init.begin(), init.end(), bits16(*params16_) + tensors_[i].offset,
                     [&](float x) { return narrow(storage_.param, x); });
  }
}

ParamGroup::~ParamGroup() = default;

std::size_t ParamGroup::find(std::string_view name) const noexcept {
  auto it = std::find_if(tensors_.begin(), tensors_.end(),
                         [&](const TensorInfo& t) { return t.name == name; });
  return static_cast<std::size_t>(it - tensors_.begin());
}

namespace {

// Tensor t's elements of an arena of `dtype` starting at `arena`.
TensorView view_of(const TensorInfo& t, float* arena, DType dtype) {
  if (dtype == DType::f32) return {t.name, t.shape, {arena + t.offset, t.numel}, dtype};
  if (dtype == DType::q8) {
    TensorView v{t.name, t.shape, {}, dtype};
    v.data8 = {reinterpret_cast<std::uint8_t*>(arena) + t.offset, t.numel};
    return v;
  }
  return {
      t.name, t.shape, {}, dtype, {reinterpret_cast<std::uint16_t*>(arena) + t.offset, t.numel}};
}

}  // namespace

TensorView ParamGroup::param(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  return view_of(t, params16_ ? params16_->data() : params_->data(), storage_.param);
}

TensorView ParamGroup::master_param(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  if (!storage_.master_weights)
    throw std::logic_error("parameter '" + t.name + "' has no master weights");
  return view_of(t, params_->data(), DType::f32);
}

TensorView ParamGroup::grad(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  TensorView v = view_of(t, grads_->data(), storage_.grad);
  if (!states_[i].has_grad) {
    std::fill(v.data.begin(), v.data.end(), 0.0f);
    std::fill(v.data16.begin(), v.data16.end(), std::uint16_t{0});
    states_[i].has_grad = true;
  }
  return v;
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
  TensorView v = view_of(t, arena, storage_.state);
  if (storage_.state == DType::q8) {
    v.scales = {q8_scales(arena) + t.offset / kQ8Align, (t.numel + kQ8Align - 1) / kQ8Align};
    v.non_negative = state_non_negative(name);
  }
  return v;
}

std::span<float> ParamGroup::param_arena() noexcept {
  if (!params_) return {};
  return {params_->data(), padded_numel_};
}
std::span<std::uint16_t> ParamGroup::param16_arena() noexcept {
  if (!params16_) return {};
  return {bits16(*params16_), padded_numel_};
}
std::span<float> ParamGroup::grad_arena() noexcept {
  if (storage_.grad != DType::f32) return {};
  return {grads_->data(), padded_numel_};
}
std::span<std::uint16_t> ParamGroup::grad16_arena() noexcept {
  if (storage_.grad == DType::f32) return {};
  return {bits16(*grads_), padded_numel_};
}

TensorView ParamGroup::averaged_param(std::size_t i) {
  const TensorInfo& t = tensors_.at(i);
  if (averaged_ == nullptr)
    throw std::out_of_range("parameter '" + t.name + "' has no averaged copy");
  return view_of(t, averaged_->data(), averaged_dtype_);
}

float* ParamGroup::averaged_arena() noexcept {
  return averaged_ ? averaged_->data() : nullptr;
}

float* ParamGroup::reset_averaged_arena(DType dtype) {
  if (dtype != DType::f32 && dtype != DType::bf16 && dtype != DType::f16)
    throw std::invalid_argument(std::string("the average is stored as f32, bf16 or f16, not ") +
                                dtype_name(dtype));
  if (averaged_ == nullptr || averaged_dtype_ != dtype)
    averaged_ =
        std::make_unique<detail::AlignedBuffer>(floats_for(padded_numel_, dtype), kAveragedStream);
  averaged_dtype_ = dtype;
  // The parameters as stored (fp32, master weights, or 16-bit widened), as the average reads
  // them at every update.
  const std::uint16_t* half = params_ ? nullptr : bits16(*params16_);
  for (std::size_t k = 0; k < padded_numel_; ++k) {
    const float x = half == nullptr ? params_->data()[k] : widen(storage_.param, half[k]);
    if (dtype == DType::f32)
      averaged_->data()[k] = x;
    else
      bits16(*averaged_)[k] = narrow(dtype, x);
  }
  return averaged_->data();
}

void ParamGroup::round_master_weights() noexcept {
  if (!storage_.master_weights) return;
  std::transform(params_->data(), params_->data() + padded_numel_, bits16(*params16_),
                 [&](float x) { return narrow(storage_.param, x); });
}

float* ParamGroup::state_arena(std::string_view name) noexcept {
  for (auto& a : state_arrays_)
    if (a.name == name) return a.buffer->data();
  return nullptr;
}

float* ParamGroup::ensure_state_arena(std::string_view name, bool non_negative) {
  if (float* existing = state_arena(name)) return existing;
  const std::size_t stream = kFirstStateStream + state_arrays_.size();
  state_arrays_.push_back(
      {std::string(name),
       std::make_unique<detail::AlignedBuffer>(floats_for(padded_numel_, storage_.state), stream),
       non_negative});
  return state_arrays_.back().buffer->data();
}

bool ParamGroup::state_non_negative(std::string_view name) const noexcept {
  for (const auto& a : state_arrays_)
    if (a.name == name) return a.non_negative;
  return false;
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
    made.push_back({name, std::make_unique<detail::AlignedBuffer>(
                              floats_for(padded_numel_, storage_.state), stream)});
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
