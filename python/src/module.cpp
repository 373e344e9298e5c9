// _simdoptim: the native half of the simdoptim Python package (python/simdoptim/).
#include "module.hpp"

#include <pybind11/stl.h>

#include "capi/optimizer_registry.hpp"
#include "simdoptim/isa.hpp"
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
