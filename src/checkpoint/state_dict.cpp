// state_dict() and load_state_dict(): copying an optimizer's state out, and checking a state
// completely before writing any of it back.
#include <algorithm>
#include <exception>
#include <set>
#include <string_view>

#include "simdoptim/checkpoint.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

// Keys a group may carry besides its optimizer's options (as Optimizer::add_param_group).
constexpr std::string_view kExtraKeys[] = {"initial_lr", "lr_scale"};

std::vector<float> copy_tensor(const float* arena, const TensorInfo& t) {
  return std::vector<float>(arena + t.offset, arena + t.offset + t.numel);
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

// Where a state tensor goes: group and tensor index in the optimizer.
struct Target {
  std::size_t group;
  std::size_t tensor;
  const TensorStateDict* source;
  std::vector<Optimizer::SideArray> side = {};  // the optimizer's side arrays for the tensor
};

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

void check_tensor(Optimizer& optimizer, const Target& target, const LoadOptions& load) {
  const ParamGroup& group = optimizer.param_groups()[target.group];
  const TensorInfo& info = group.info(target.tensor);
  const TensorStateDict& t = *target.source;
  const std::string where = "tensor '" + t.name + "': ";
  if (t.shape != info.shape)
    mismatch(where + "shape " + shape_to_string(t.shape) + " in the state, " +
             shape_to_string(info.shape) + " in the optimizer");
  if (t.dtype != group.param_dtype())
    mismatch(where + "dtype " + dtype_name(t.dtype) + " in the state, " +
             dtype_name(group.param_dtype()) + " in the optimizer");
  if (t.step < 0) mismatch(where + "negative step " + std::to_string(t.step));
  if (!t.initialized && !t.arrays.empty())
    mismatch(where + "has state arrays but is not marked initialized");
  std::set<std::string_view> names;
  for (const StateArray& a : t.arrays) {
    if (a.name.empty()) mismatch(where + "state array with an empty name");
    if (!names.insert(a.name).second) mismatch(where + "state '" + a.name + "' appears twice");
    if (a.dtype != group.state_dtype())
      mismatch(where + "state '" + a.name + "' has dtype " + dtype_name(a.dtype) + ", expected " +
               dtype_name(group.state_dtype()));
    const auto* s = find_side(target.side, a.name);
    const std::size_t size = s ? s->data.size() : info.numel;
    if (a.data.size() != size)
      mismatch(where + "state '" + a.name + "' has " + std::to_string(a.data.size()) +
               " elements, expected " + std::to_string(size));
  }
  if (t.param && load.load_params && t.param->size() != info.numel)
    mismatch(where + "param has " + std::to_string(t.param->size()) + " elements, expected " +
             std::to_string(info.numel));
  std::vector<std::pair<std::string, double>> expected;
  optimizer.save_tensor_scalars(target.group, target.tensor, expected);
  const bool same_names =
      std::equal(expected.begin(), expected.end(), t.scalars.begin(), t.scalars.end(),
                 [](const auto& a, const auto& b) { return a.first == b.first; });
  if (!same_names) {
    std::string want, got;
    for (const auto& s : expected) want += (want.empty() ? "" : ", ") + s.first;
    for (const auto& s : t.scalars) got += (got.empty() ? "" : ", ") + s.first;
    mismatch(where + "scalar state {" + got + "} in the state, the optimizer keeps {" + want + "}");
  }
}

// Writes one tensor's state; everything has been checked.
void apply_tensor(Optimizer& optimizer, const Target& target, const LoadOptions& load) {
  ParamGroup& group = optimizer.param_groups()[target.group];
  const TensorInfo& info = group.info(target.tensor);
  const TensorStateDict& t = *target.source;
  TensorState& state = group.tensor_states()[target.tensor];
  state.step = t.step;
  state.initialized = t.initialized;
  auto copy_or_zero = [&](std::string_view name, std::span<float> to) {
    if (const StateArray* a = find_array(t, name))
      std::copy(a->data.begin(), a->data.end(), to.begin());
    else
      std::fill(to.begin(), to.end(), 0.0f);
  };
  for (const std::string& name : group.state_names())
    copy_or_zero(name, {group.state_arena(name) + info.offset, info.numel});
  for (const Optimizer::SideArray& s : target.side) copy_or_zero(s.name, s.data);
  if (t.param && load.load_params)
    std::copy(t.param->begin(), t.param->end(), group.param(target.tensor).data.begin());
  optimizer.load_tensor_scalars(target.group, target.tensor, t.scalars);
}

}  // namespace

OptimizerStateDict state_dict(Optimizer& optimizer, const StateDictOptions& options) {
  OptimizerStateDict out;
  out.optimizer = std::string(optimizer.name());
  auto& groups = optimizer.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ParamGroup& group = groups[g];
    GroupStateDict& gs = out.param_groups.emplace_back();
    gs.options = group.options();
    const auto names = group.state_names();
    for (std::size_t i = 0; i < group.size(); ++i) {
      const TensorInfo& info = group.info(i);
      const TensorState& st = group.tensor_states()[i];
      TensorStateDict& t = gs.tensors.emplace_back();
      t.name = info.name;
      t.shape = info.shape;
      t.dtype = group.param_dtype();
      t.step = st.step;
      t.initialized = st.initialized;
      if (st.initialized) {
        for (const std::string& name : names)
          t.arrays.push_back(
              {name, group.state_dtype(), copy_tensor(group.state_arena(name), info)});
        for (const Optimizer::SideArray& s : optimizer.side_arrays(g, i))
          t.arrays.push_back({s.name, group.state_dtype(), {s.data.begin(), s.data.end()}});
      }
      optimizer.save_tensor_scalars(g, i, t.scalars);
      if (options.include_params) t.param = copy_tensor(group.param_arena().data(), info);
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
  // The checks need the side arrays' sizes; getting them may allocate them (zero), which, as
  // below, changes no value the optimizer reads.
  for (Target& target : targets) target.side = optimizer.side_arrays(target.group, target.tensor);
  for (const Target& target : targets) check_tensor(optimizer, target, options);

  // Allocate every state array first: the only step that can still fail (out of memory), and
  // it changes no value the optimizer reads (a new array is zero and is the one it would
  // create itself).
  for (const Target& target : targets)
    for (const StateArray& a : target.source->arrays)
      if (!find_side(target.side, a.name)) groups[target.group].ensure_state_arena(a.name);
  for (std::size_t g = 0; g < shared_groups; ++g)
    groups[g].options() = state.param_groups[g].options;
  for (const Target& target : targets) apply_tensor(optimizer, target, options);
  return report;
}

}  // namespace v1
}  // namespace simdoptim
