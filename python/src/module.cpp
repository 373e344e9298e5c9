// _simdoptim: the native half of the simdoptim Python package (python/simdoptim/).
#include "module.hpp"

#include <pybind11/stl.h>

#include "capi/optimizer_registry.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_simdoptim, m) {
  m.doc() = "simdoptim: SIMD CPU optimizers over flat arenas (native module)";
  m.def("version", &simdoptim::version, "The library version, e.g. '0.1.0'.");
  m.def("optimizer_names", &simdoptim::embed::registered_optimizers,
        "Every optimizer name Optimizer.create accepts, sorted.");
  m.def(
      "optimizer_defaults",
      [](const std::string& name) {
        py::dict d;
        const simdoptim::GroupOptions defaults = simdoptim::embed::registered_defaults(name);
        for (const auto& [key, value] : defaults.items()) d[py::str(key)] = value;
        return d;
      },
      py::arg("name"), "torch's default options of optimizer `name` (betas as beta1/beta2).");
  m.def(
      "optimizer_info",
      [](const std::string& name) {
        py::list options;
        for (const simdoptim::OptionInfo& o : simdoptim::optimizer_options(name))
          options.append(py::make_tuple(o.name, o.default_value, o.doc, o.flag));
        py::dict d;
        d["options"] = options;
        d["state_names"] = simdoptim::optimizer_state_names(name);
        d["tensor_scalars"] = simdoptim::optimizer_tensor_scalar_names(name);
        d["torch_step"] = simdoptim::optimizer_torch_step(name);
        d["torch_signature"] = simdoptim::optimizer_torch_signature(name);
        d["storage"] =
            simdoptim::make_optimizer(name, {simdoptim::Isa::scalar, 1})->supports_storage();
        return d;
      },
      py::arg("name"),
      "The registry's description of optimizer `name`: 'options' [(key, torch's default, doc, "
      "is_flag)] in group-dict order (empty for the optimizers without a table yet), "
      "'state_names' (torch's state arrays), 'tensor_scalars' (torch's 0-d state tensors), "
      "'torch_step' (whether torch's state has 'step') and 'torch_signature' (torch's "
      "constructor, names only, e.g. 'Adam(params, lr, betas, ..., *, foreach, ...)'; empty if "
      "none), 'storage' (whether its groups may store arrays in 16 bits).");
  m.def(
      "supported_isas",
      [] {
        std::vector<std::string> names;
        for (const simdoptim::Isa isa : simdoptim::supported_isas())
          names.emplace_back(simdoptim::isa_name(isa));
        return names;
      },
      "The instruction sets this machine runs, scalar first, best last.");
  m.def(
      "default_isa", [] { return std::string(simdoptim::isa_name(simdoptim::default_isa())); },
      "The instruction set new optimizers use (SIMDOPTIM_ISA or the best one).");
  simdoptim::python::bind_optimizer(m);
  simdoptim::python::bind_state_dict(m);
  simdoptim::python::bind_schedulers(m);
}
