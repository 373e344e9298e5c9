#pragma once
// The pieces of the _simdoptim extension module, one binding function per file.
#include <pybind11/pybind11.h>

namespace simdoptim::python {

void bind_optimizer(pybind11::module_& m);
void bind_state_dict(pybind11::module_& m);
void bind_schedulers(pybind11::module_& m);

}  // namespace simdoptim::python
