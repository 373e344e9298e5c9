// Optimizer.state_dict() / load_state_dict(): the library's checkpoint structure
// (simdoptim/checkpoint.hpp) as plain Python lists and dicts, which simdoptim.torch converts to
// and from torch's format.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "module.hpp"
#include "simdoptim/checkpoint.hpp"

namespace py = pybind11;

namespace simdoptim::python {
namespace {

py::list to_python(const OptimizerStateDict& state) {
  py::list groups;
  for (const GroupStateDict& g : state.param_groups) {
    py::dict options;
    for (const auto& [key, value] : g.options.items()) options[py::str(key)] = value;
    py::list tensors;
    for (const TensorStateDict& t : g.tensors) {
      py::dict arrays;
      for (const StateArray& a : t.arrays) {
        const std::vector<float> v = values(a);  // q8 dequantized, 16-bit widened
        py::array_t<float> copy(static_cast<py::ssize_t>(v.size()));
        std::copy(v.begin(), v.end(), copy.mutable_data());
        arrays[py::str(a.name)] = copy;
      }
      py::dict scalars;
      for (const auto& [name, value] : t.scalars) scalars[py::str(name)] = value;
      py::dict entry;
      entry["name"] = t.name;
      entry["shape"] = t.shape;
      entry["step"] = t.step;
      entry["initialized"] = t.initialized;
      entry["arrays"] = arrays;
      entry["scalars"] = scalars;
      tensors.append(entry);
    }
    py::dict group;
    group["options"] = options;
    group["tensors"] = tensors;
    groups.append(group);
  }
  return groups;
}

// The optimizer's own names, shapes and dtypes, with the state taken from `groups`.
OptimizerStateDict from_python(Optimizer& optimizer, const py::list& groups) {
  OptimizerStateDict state;
  state.optimizer = std::string(optimizer.name());
  if (groups.size() != optimizer.param_groups().size())
    throw std::invalid_argument("load_state_dict: " + std::to_string(groups.size()) +
                                " groups for an optimizer with " +
                                std::to_string(optimizer.param_groups().size()));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const ParamGroup& group = optimizer.param_groups()[g];
    const py::dict source = groups[g].cast<py::dict>();
    GroupStateDict out;
    for (const auto& [key, value] : source["options"].cast<py::dict>())
      out.options.set(key.cast<std::string>(), value.cast<double>());
    const py::list tensors = source["tensors"].cast<py::list>();
    if (tensors.size() != group.size())
      throw std::invalid_argument("load_state_dict: group " + std::to_string(g) + " has " +
                                  std::to_string(tensors.size()) + " tensors, the optimizer's " +
                                  std::to_string(group.size()));
    for (std::size_t i = 0; i < group.size(); ++i) {
      const py::dict t = tensors[i].cast<py::dict>();
      TensorStateDict entry;
      entry.name = group.info(i).name;
      entry.shape = group.info(i).shape;
      entry.step = t["step"].cast<std::int64_t>();
      entry.initialized = t["initialized"].cast<bool>();
      for (const auto& [name, values] : t["arrays"].cast<py::dict>()) {
        const auto a =
            py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(values);
        if (!a) throw std::invalid_argument("load_state_dict: state array is not numeric");
        StateArray array;
        array.name = name.cast<std::string>();
        array.data.assign(a.data(), a.data() + a.size());
        entry.arrays.push_back(std::move(array));
      }
      for (const auto& [name, value] : t["scalars"].cast<py::dict>())
        entry.scalars.emplace_back(name.cast<std::string>(), value.cast<double>());
      out.tensors.push_back(std::move(entry));
    }
    state.param_groups.push_back(std::move(out));
  }
  return state;
}

}  // namespace

void bind_state_dict(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Optimizer>>(m.attr("Optimizer"));
  cls.def(
      "state_dict",
      [](Optimizer& o) {
        StateDictOptions options;
        options.include_params = false;  // torch's optimizer state_dict has no parameters
        return to_python(state_dict(o, options));
      },
      "[{'options': {...}, 'tensors': [{'name', 'shape', 'step', 'initialized', 'arrays': "
      "{name: float32 array}, 'scalars': {name: float}}]}] per group (copies).");
  cls.def(
      "load_state_dict",
      [](Optimizer& o, const py::list& groups) {
        LoadOptions options;
        options.load_params = false;
        load_state_dict(o, from_python(o, groups), options);
      },
      py::arg("groups"),
      "Restores what state_dict() returned (same structure); checks everything first and "
      "leaves the optimizer unchanged on a mismatch.");
  cls.def(
      "tensor_scalars",
      [](const Optimizer& o, std::size_t g, std::size_t i) {
        if (g >= o.param_groups().size() || i >= o.param_groups()[g].size())
          throw py::index_error("tensor (" + std::to_string(g) + ", " + std::to_string(i) +
                                ") out of range");
        std::vector<std::pair<std::string, double>> scalars;
        o.save_tensor_scalars(g, i, scalars);
        py::dict out;
        for (const auto& [name, value] : scalars) out[py::str(name)] = value;
        return out;
      },
      py::arg("group"), py::arg("index"),
      "The per-tensor scalar state of one tensor as {name: value} (torch's 0-d state tensors, "
      "e.g. NAdam's mu_product).");
  cls.def(
      "tensor_scalar_names",
      [](const Optimizer& o) {
        std::vector<std::string> names;
        if (o.param_groups().empty() || o.param_groups().front().size() == 0) return names;
        std::vector<std::pair<std::string, double>> scalars;
        o.save_tensor_scalars(0, 0, scalars);
        for (auto& s : scalars) names.push_back(std::move(s.first));
        return names;
      },
      "Names of the per-tensor scalar state (torch's 0-d state tensors, e.g. NAdam's "
      "mu_product).");
}

}  // namespace simdoptim::python
