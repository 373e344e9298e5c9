// state_dict() and load_state_dict(): copying an optimizer's state out, and checking a state
// completely before writing any of it back.
#include <algorithm>
#include <deque>
#include <exception>
#include <set>
#include <string_view>

#include "aligned_buffer.hpp"
#include "kernels/quant8.hpp"
#include "optim/registration.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/dtype_convert.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

// Keys a group may carry besides its optimizer's options (as Optimizer::add_param_group).
constexpr std::string_view kExtraKeys[] = {"initial_lr", "lr_scale"};

// Tensor t's elements of an arena of `dtype`, as fp32 (16-bit elements widened, exactly).
std::vector<float> copy_tensor(const float* arena, const TensorInfo& t, DType dtype = DType::f32) {
  if (dtype == DType::f32) return std::vector<float>(arena + t.offset, arena + t.offset + t.numel);
  const auto* bits = reinterpret_cast<const std::uint16_t*>(arena) + t.offset;
  std::vector<float> out(t.numel);
  for (std::size_t k = 0; k < t.numel; ++k) out[k] = from_bits16(dtype, bits[k]);
  return out;
}

// Tensor i's state array `name` as the group stores it: q8 codes and scales, 16-bit bits.
StateArray stored_state(ParamGroup& group, std::size_t i, const std::string& name) {
  const TensorView v = group.state(i, name);
  StateArray a{name, v.dtype, {}};
  if (v.dtype == DType::f32)
    a.data.assign(v.data.begin(), v.data.end());
  else if (v.dtype == DType::q8) {
    a.codes.assign(v.data8.begin(), v.data8.end());
    a.scales.assign(v.scales.begin(), v.scales.end());
    a.non_negative = v.non_negative;
  } else
    a.bits16.assign(v.data16.begin(), v.data16.end());
  return a;
}

// Whether the optimizer's state array `name` holds only values >= 0 (q8 stores those companded).
bool non_negative_state(const Optimizer& optimizer, std::string_view name) {
  const detail::Registration* r = detail::find_registration(optimizer.name());
  if (r == nullptr) return false;
  return std::any_of(r->states.begin(), r->states.end(),
                     [&](const detail::StateSpec& s) { return s.name == name && s.non_negative; });
}

// The parameter values as fp32: fp32 parameters or master weights, 16-bit parameters widened.
std::vector<float> param_values(ParamGroup& group, std::size_t i) {
  const TensorInfo& info = group.info(i);
  if (!group.param_arena().empty()) return copy_tensor(group.param_arena().data(), info);
  return copy_tensor(reinterpret_cast<float*>(group.param16_arena().data()), info,
                     group.param_dtype());
}

const Optimizer::SideArray* find_side(const std::vector<Optimizer::SideArray>& side,
                                      std::string_view name) {
  auto it = std::find_if(side.begin(), side.end(), [&](const auto& s) { return s.name == name; });
  return it == side.end() ? nullptr : &*it;
}

const StateArray* find_array(const TensorStateDict& t, std::string_view name) {
  auto it = std::find_if(t.arrays.begin(), t.arrays.end(),
                         [&](const StateArray& a) { return a.name == name; });
  return it == t.arrays.end() ? nullptr : &*it;
}

// Where one array of a loaded tensor goes, and what it holds (nullptr: zeros), already in the
// destination's dtype: fp32 `to`, 16-bit `to16`, or q8 codes `to8` and their blocks' `scales`.
struct Copy {
  std::span<float> to;
  const StateArray* from;
  std::span<std::uint16_t> to16 = {};
  std::span<std::uint8_t> to8 = {};
  float* scales = nullptr;
};

// Where a state tensor goes: group and tensor index in the optimizer.
struct Target {
  std::size_t group;
  std::size_t tensor;
  const TensorStateDict* source;
  std::vector<Optimizer::SideArray> side = {};  // the optimizer's side arrays for the tensor
  std::vector<std::pair<std::string, double>> scalars = {};  // what load_tensor_scalars gets
  std::vector<Copy> copies = {};
  // Arrays converted to the optimizer's dtypes (a deque: Copy::from points into it).
  std::deque<StateArray> converted = {};
  // The parameter in the optimizer's storage: fp32 values (parameters or master weights) or
  // 16-bit bits; null when not loaded. Point into `source` or `converted_param*`.
  const std::vector<float>* param = nullptr;
  const std::vector<std::uint16_t>* param16 = nullptr;
  std::vector<float> converted_param = {};
  std::vector<std::uint16_t> converted_param16 = {};
};

// The state arrays a tensor of `optimizer` may have and those it must have once initialized,
// in a group with `options`: the side arrays when the optimizer keeps them, else the arrays
// its description declares (those of an unset option, as amsgrad's, may be there or not).
struct ArraySchema {
  std::vector<std::string> allowed, required;
};

ArraySchema array_schema(const Optimizer& optimizer, const ParamGroup& group,
                         const GroupOptions& options,
                         const std::vector<Optimizer::SideArray>& side) {
  ArraySchema schema;
  for (const Optimizer::SideArray& s : side) {
    schema.allowed.push_back(s.name);
    schema.required.push_back(s.name);
  }
  if (!side.empty()) return schema;
  const detail::Registration* reg = detail::find_registration(optimizer.name());
  if (reg == nullptr) {
    // An optimizer defined outside the library declares nothing: what it has allocated.
    schema.allowed = group.state_names();
    return schema;
  }
  for (const detail::StateSpec& spec : reg->states) {
    schema.allowed.emplace_back(spec.name);
    if (spec.when.empty() || options.get_or(spec.when, 0.0) != 0.0)
      schema.required.emplace_back(spec.name);
  }
  return schema;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

[[noreturn]] void mismatch(const std::string& why) {
  throw CheckpointError("cannot load optimizer state: " + why);
}

void check_options(const Optimizer& optimizer, const GroupOptions& options, std::size_t g) {
  const std::string where = "group " + std::to_string(g) + ": ";
  for (const auto& [key, value] : options.items()) {
    const bool extra =
        std::find(std::begin(kExtraKeys), std::end(kExtraKeys), key) != std::end(kExtraKeys);
    if (!extra && !optimizer.defaults().contains(key))
      mismatch(where + "unknown option '" + key + "' for optimizer '" +
               std::string(optimizer.name()) + "'");
  }
  for (const auto& [key, value] : optimizer.defaults().items())
    if (!options.contains(key)) mismatch(where + "option '" + key + "' is missing");
  try {
    optimizer.validate(options);
  } catch (const std::exception& e) {
    mismatch(where + e.what());
  }
}

// A tensor's scalar state must name what the optimizer keeps, in any order (a torch state
// dict has its own). A tensor never stepped may leave it out, as torch keeps no state for it;
// it then starts from the initial values.
void check_scalars(Optimizer& optimizer, Target& target, const std::string& where) {
  const TensorStateDict& t = *target.source;
  std::vector<std::pair<std::string, double>> expected;
  optimizer.save_tensor_scalars(target.group, target.tensor, expected);
  const detail::Registration* reg = detail::find_registration(optimizer.name());
  if (!t.initialized && t.scalars.empty() && !expected.empty() && reg != nullptr) {
    for (const detail::TensorScalarSpec& spec : reg->tensor_scalars)
      target.scalars.emplace_back(std::string(spec.name), spec.initial);
    return;
  }
  const bool same_names =
      expected.size() == t.scalars.size() &&
      std::all_of(expected.begin(), expected.end(), [&](const auto& e) {
        return std::count_if(t.scalars.begin(), t.scalars.end(),
                             [&](const auto& s) { return s.first == e.first; }) == 1;
      });
  if (!same_names) {
    std::string want, got;
    for (const auto& s : expected) want += (want.empty() ? "" : ", ") + s.first;
    for (const auto& s : t.scalars) got += (got.empty() ? "" : ", ") + s.first;
    mismatch(where + "scalar state {" + got + "} in the state, the optimizer keeps {" + want + "}");
  }
  target.scalars = t.scalars;
}

void check_tensor(Optimizer& optimizer, Target& target, const GroupOptions& group_options,
                  const LoadOptions& load) {
  const ParamGroup& group = optimizer.param_groups()[target.group];
  const TensorInfo& info = group.info(target.tensor);
  const TensorStateDict& t = *target.source;
  const std::string where = "tensor '" + t.name + "': ";
  if (t.shape != info.shape)
    mismatch(where + "shape " + shape_to_string(t.shape) + " in the state, " +
             shape_to_string(info.shape) + " in the optimizer");
  // Parameters of another dtype are converted (plan_params).
  if (t.dtype == DType::q8) mismatch(where + "dtype q8 is not a parameter dtype");
  if (t.param16 && t.dtype == DType::f32) mismatch(where + "has 16-bit param bits but dtype f32");
  if (t.step < 0) mismatch(where + "negative step " + std::to_string(t.step));
  if (t.step > TensorState::kMaxStep)
    mismatch(where + "step " + std::to_string(t.step) + " exceeds " +
             std::to_string(TensorState::kMaxStep));
  if (!t.initialized && !t.arrays.empty())
    mismatch(where + "has state arrays but is not marked initialized");
  const ArraySchema schema = array_schema(optimizer, group, group_options, target.side);
  std::set<std::string_view> names;
  for (const StateArray& a : t.arrays) {
    if (a.name.empty()) mismatch(where + "state array with an empty name");
    if (!contains(schema.allowed, a.name))
      mismatch(where + "unknown state array '" + a.name + "' (optimizer '" +
               std::string(optimizer.name()) + "' keeps " + joined(schema.allowed) + ")");
    if (!names.insert(a.name).second) mismatch(where + "state '" + a.name + "' appears twice");
    // An array of another dtype than the optimizer's is converted (plan_copies).
    const auto* s = find_side(target.side, a.name);
    const std::size_t size = s ? s->data.size() : info.numel;
    if (element_count(a) != size)
      mismatch(where + "state '" + a.name + "' has " + std::to_string(element_count(a)) +
               " elements, expected " + std::to_string(size));
    const std::size_t blocks = (size + detail::kQuantBlock - 1) / detail::kQuantBlock;
    if (a.dtype == DType::q8 && a.scales.size() != blocks)
      mismatch(where + "state '" + a.name + "' has " + std::to_string(a.scales.size()) +
               " scales for " + std::to_string(size) + " codes, expected " +
               std::to_string(blocks));
  }
  if (t.initialized)
    for (const std::string& name : schema.required)
      if (!find_array(t, name)) mismatch(where + "state array '" + name + "' is missing");
  if (t.averaged && optimizer.averaging().mode == AveragingOptions::Mode::none)
    mismatch(where + "has an averaged param but the optimizer does not average (set_averaging)");
  if (t.averaged && t.averaged->size() != info.numel)
    mismatch(where + "averaged param has " + std::to_string(t.averaged->size()) +
             " elements, expected " + std::to_string(info.numel));
  const std::size_t params = t.param ? t.param->size() : t.param16 ? t.param16->size() : 0;
  if ((t.param || t.param16) && load.load_params && params != info.numel)
    mismatch(where + "param has " + std::to_string(params) + " elements, expected " +
             std::to_string(info.numel));
  check_scalars(optimizer, target, where);
}

// The array `a` in `dtype` (companded when `non_negative`): itself when it already is, else a
// converted copy kept in the target.
const StateArray* in_dtype(Target& target, const StateArray* a, DType dtype, bool non_negative) {
  if (a == nullptr) return nullptr;
  if (a->dtype == dtype && (dtype != DType::q8 || a->non_negative == non_negative)) return a;
  return &target.converted.emplace_back(convert(*a, dtype, non_negative));
}

// Where each array of the tensor goes once `arenas` (new arrays of its group) are added, each
// converted to the group's state dtype. May allocate (conversions); changes nothing.
void plan_copies(ParamGroup& group, const std::vector<ParamGroup::NewStateArena>& arenas,
                 Target& target) {
  const TensorInfo& info = group.info(target.tensor);
  const DType dtype = group.state_dtype();
  auto add = [&](std::string_view name, float* arena, bool non_negative) {
    const StateArray* a = in_dtype(target, find_array(*target.source, name), dtype, non_negative);
    Copy c{{}, a};
    if (dtype == DType::f32) {
      c.to = {arena + info.offset, info.numel};
    } else if (dtype == DType::q8) {
      c.to8 = {reinterpret_cast<std::uint8_t*>(arena) + info.offset, info.numel};
      c.scales = group.q8_scales(arena) + info.offset / detail::kQuantBlock;
    } else {
      c.to16 = {reinterpret_cast<std::uint16_t*>(arena) + info.offset, info.numel};
    }
    target.copies.push_back(c);
  };
  for (const std::string& name : group.state_names())
    add(name, group.state_arena(name), group.state_non_negative(name));
  for (const ParamGroup::NewStateArena& a : arenas) add(a.name, a.buffer->data(), a.non_negative);
  for (const Optimizer::SideArray& s : target.side) {
    const StateArray* a = in_dtype(target, find_array(*target.source, s.name), DType::f32, false);
    target.copies.push_back({s.data, a});
  }
}

// The parameter converted to the group's storage: fp32 values for fp32 parameters and master
// weights (16-bit ones widened), else bits of the group's dtype (rounded to nearest-even).
void plan_params(const ParamGroup& group, Target& target, const LoadOptions& load) {
  const TensorStateDict& t = *target.source;
  if (!load.load_params || (!t.param && !t.param16)) return;
  const bool fp32 = group.param_dtype() == DType::f32 || group.storage().master_weights;
  if (fp32 && t.param) {
    target.param = &*t.param;
  } else if (fp32) {
    target.converted_param.resize(t.param16->size());
    for (std::size_t k = 0; k < t.param16->size(); ++k)
      target.converted_param[k] = from_bits16(t.dtype, (*t.param16)[k]);
    target.param = &target.converted_param;
  } else if (t.param16 && t.dtype == group.param_dtype()) {
    target.param16 = &*t.param16;
  } else {
    const std::size_t n = t.param ? t.param->size() : t.param16->size();
    target.converted_param16.resize(n);
    for (std::size_t k = 0; k < n; ++k)
      target.converted_param16[k] = to_bits16(
          group.param_dtype(), t.param ? (*t.param)[k] : from_bits16(t.dtype, (*t.param16)[k]));
    target.param16 = &target.converted_param16;
  }
}

// Writes one tensor's state; everything has been checked and allocated, nothing here fails.
void apply_tensor(Optimizer& optimizer, const Target& target) noexcept {
  ParamGroup& group = optimizer.param_groups()[target.group];
  const TensorStateDict& t = *target.source;
  TensorState& state = group.tensor_states()[target.tensor];
  state.step = t.step;
  state.initialized = t.initialized;
  for (const Copy& c : target.copies) {
    if (!c.to8.empty()) {
      // Absent: zero codes and scales (what quantizing zeros gives).
      const std::size_t blocks = (c.to8.size() + detail::kQuantBlock - 1) / detail::kQuantBlock;
      if (c.from) {
        std::copy(c.from->codes.begin(), c.from->codes.end(), c.to8.begin());
        std::copy(c.from->scales.begin(), c.from->scales.end(), c.scales);
      } else {
        std::fill(c.to8.begin(), c.to8.end(), std::uint8_t{0});
        std::fill(c.scales, c.scales + blocks, 0.0f);
      }
    } else if (!c.to16.empty()) {
      if (c.from)
        std::copy(c.from->bits16.begin(), c.from->bits16.end(), c.to16.begin());
      else
        std::fill(c.to16.begin(), c.to16.end(), std::uint16_t{0});
    } else if (c.from) {
      std::copy(c.from->data.begin(), c.from->data.end(), c.to.begin());
    } else {
      std::fill(c.to.begin(), c.to.end(), 0.0f);
    }
  }
  if (target.param16) {
    const TensorView p = group.param(target.tensor);
    std::copy(target.param16->begin(), target.param16->end(), p.data16.begin());
  } else if (target.param) {
    const std::vector<float>& v = *target.param;
    const TensorView p = group.param(target.tensor);
    if (p.dtype == DType::f32)
      std::copy(v.begin(), v.end(), p.data.begin());
    else  // the 16-bit copy of the master weights
      for (std::size_t k = 0; k < p.data16.size(); ++k) p.data16[k] = to_bits16(p.dtype, v[k]);
    if (group.storage().master_weights)
      std::copy(v.begin(), v.end(), group.master_param(target.tensor).data.begin());
  }
  if (t.averaged) {
    const TensorView a = group.averaged_param(target.tensor);
    if (a.dtype == DType::f32)
      std::copy(t.averaged->begin(), t.averaged->end(), a.data.begin());
    else
      for (std::size_t k = 0; k < a.data16.size(); ++k)
        a.data16[k] = to_bits16(a.dtype, (*t.averaged)[k]);
  }
  optimizer.load_tensor_scalars(target.group, target.tensor, target.scalars);
}

}  // namespace

OptimizerStateDict state_dict(Optimizer& optimizer, const StateDictOptions& options) {
  OptimizerStateDict out;
  out.optimizer = std::string(optimizer.name());
  const bool averaging = optimizer.averaging().mode != AveragingOptions::Mode::none;
  if (averaging)
    out.averaging = AveragingCounts{optimizer.averaging_step(), optimizer.n_averaged()};
  auto& groups = optimizer.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    GroupStateDict& gs = out.param_groups.emplace_back();
    gs.options = group.options();
    if (!group.storage().is_default()) gs.storage = group.storage();
    const auto names = group.state_names();
    for (std::size_t i = 0; i < group.size(); ++i) {
      const TensorInfo& info = group.info(i);
      const TensorState& st = group.tensor_states()[i];
      TensorStateDict& t = gs.tensors.emplace_back();
      t.name = info.name;
      t.shape = info.shape;
      t.dtype = options.as_stored ? group.param_dtype() : DType::f32;
      t.step = st.step;
      t.initialized = st.initialized;
      if (st.initialized) {
        const auto side = optimizer.side_arrays(g, i);
        for (const std::string& name : names) {
          StateArray a = stored_state(group, i, name);
          t.arrays.push_back(options.as_stored ? std::move(a) : convert(a, DType::f32));
        }
        for (const Optimizer::SideArray& s : side)
          t.arrays.push_back({s.name, DType::f32, {s.data.begin(), s.data.end()}});
        // An array the options call for that no step has made yet (the option was set after
        // the tensor's last step) is zero, as the next step makes it: the state dict is
        // complete, so a load can insist on every array.
        for (const std::string& name :
             array_schema(optimizer, group, group.options(), side).required)
          if (!find_array(t, name))
            t.arrays.push_back(convert(
                {name, DType::f32, std::vector<float>(info.numel, 0.0f)},
                find_side(side, name) || !options.as_stored ? DType::f32 : group.state_dtype(),
                non_negative_state(optimizer, name)));
      }
      optimizer.save_tensor_scalars(g, i, t.scalars);
      // fp32 parameters or master weights, else the 16-bit parameters as they are.
      if (options.include_params && (!options.as_stored || !group.param_arena().empty()))
        t.param = param_values(group, i);
      else if (options.include_params)
        t.param16.emplace(group.param16_arena().begin() + info.offset,
                          group.param16_arena().begin() + info.offset + info.numel);
      // A group added since set_averaging starts its average from its parameters.
      if (averaging)
        t.averaged = group.averaged_arena()
                         ? copy_tensor(group.averaged_arena(), info, group.averaged_dtype())
                         : param_values(group, i);
    }
  }
  return out;
}

LoadReport load_state_dict(Optimizer& optimizer, const OptimizerStateDict& state,
                           const LoadOptions& options) {
  if (state.optimizer != optimizer.name())
    mismatch("the state is for optimizer '" + state.optimizer + "', this optimizer is '" +
             std::string(optimizer.name()) + "'");
  auto& groups = optimizer.param_groups();
  if (state.averaging) {
    if (optimizer.averaging().mode == AveragingOptions::Mode::none)
      mismatch(
          "the state holds averaged parameters but the optimizer does not average "
          "(set_averaging before loading)");
    const AveragingCounts& c = *state.averaging;
    if (c.step < 0 || c.step > TensorState::kMaxStep || c.n_averaged < 0 || c.n_averaged > c.step)
      mismatch("averaging counts step " + std::to_string(c.step) + ", n_averaged " +
               std::to_string(c.n_averaged) + " are not 0 <= n_averaged <= step <= 2^53");
  }
  LoadReport report;
  std::vector<Target> targets;
  if (options.strict) {
    if (state.param_groups.size() != groups.size())
      mismatch("the state has " + std::to_string(state.param_groups.size()) +
               " param groups, the optimizer " + std::to_string(groups.size()));
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& tensors = state.param_groups[g].tensors;
      if (tensors.size() != groups[g].size())
        mismatch("group " + std::to_string(g) + " has " + std::to_string(tensors.size()) +
                 " tensors in the state, " + std::to_string(groups[g].size()) +
                 " in the optimizer");
      for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (tensors[i].name != groups[g].info(i).name)
          mismatch("group " + std::to_string(g) + " tensor " + std::to_string(i) + " is '" +
                   tensors[i].name + "' in the state, '" + groups[g].info(i).name +
                   "' in the optimizer");
        targets.push_back({g, i, &tensors[i]});
      }
    }
  } else {
    std::set<std::string_view> seen;
    for (const GroupStateDict& gs : state.param_groups)
      for (const TensorStateDict& t : gs.tensors) {
        if (!seen.insert(t.name).second) mismatch("tensor '" + t.name + "' appears twice");
        bool found = false;
        for (std::size_t g = 0; g < groups.size() && !found; ++g)
          if (std::size_t i = groups[g].find(t.name); i != groups[g].size()) {
            targets.push_back({g, i, &t});
            found = true;
          }
        if (!found) report.unexpected.push_back(t.name);
      }
    for (const ParamGroup& group : groups)
      for (std::size_t i = 0; i < group.size(); ++i)
        if (!seen.contains(group.info(i).name)) report.missing.push_back(group.info(i).name);
  }
  const std::size_t shared_groups = std::min(groups.size(), state.param_groups.size());
  for (std::size_t g = 0; g < shared_groups; ++g)
    check_options(optimizer, state.param_groups[g].options, g);
  // The options each group has once loaded, which decide the arrays a tensor must have.
  auto options_after = [&](std::size_t g) -> const GroupOptions& {
    return g < shared_groups ? state.param_groups[g].options : groups[g].options();
  };
  // The checks need the side arrays' sizes; getting them may allocate them (zero), which
  // changes no value the optimizer reads.
  for (Target& target : targets) target.side = optimizer.side_arrays(target.group, target.tensor);
  for (Target& target : targets)
    check_tensor(optimizer, target, options_after(target.group), options);

  // Everything that can fail (allocations) happens before anything changes: the new state
  // arrays (only declared ones passed the checks), scalar storage, copies of the options.
  std::vector<std::vector<ParamGroup::NewStateArena>> arenas(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::string> names;
    for (const Target& target : targets)
      if (target.group == g)
        for (const StateArray& a : target.source->arrays)
          if (!find_side(target.side, a.name) && !contains(names, a.name)) names.push_back(a.name);
    arenas[g] = groups[g].make_state_arenas(names);
    for (ParamGroup::NewStateArena& a : arenas[g])
      a.non_negative = non_negative_state(optimizer, a.name);
    // The average of a group added since set_averaging: its parameters, as its first step
    // would make it, before the loaded values overwrite them.
    const bool averaged = std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
      return t.group == g && t.source->averaged.has_value();
    });
    if (averaged && groups[g].averaged_arena() == nullptr)
      groups[g].reset_averaged_arena(optimizer.averaging().dtype);
    optimizer.reserve_tensor_scalars(g);
  }
  for (Target& target : targets) {
    plan_copies(groups[target.group], arenas[target.group], target);
    plan_params(groups[target.group], target, options);
  }
  std::vector<GroupOptions> new_options;
  for (std::size_t g = 0; g < shared_groups; ++g)
    new_options.push_back(state.param_groups[g].options);

  for (std::size_t g = 0; g < groups.size(); ++g) groups[g].add_state_arenas(arenas[g]);
  for (std::size_t g = 0; g < shared_groups; ++g) groups[g].options() = std::move(new_options[g]);
  for (const Target& target : targets) apply_tensor(optimizer, target);
  if (state.averaging)
    optimizer.set_averaging_counts(state.averaging->step, state.averaging->n_averaged);
  return report;
}

}  // namespace v1
}  // namespace simdoptim
