// Version queries and the list of optimizer names.
#include <string>
#include <vector>

#include "capi/handles.hpp"
#include "capi/optimizer_registry.hpp"
// Included after simdoptim.h: the same macros with different values would not compile
// warning-free, which keeps the C and C++ version numbers equal.
#include "simdoptim/version.hpp"

namespace {

const std::vector<std::string>& names() {
  static const std::vector<std::string> list = simdoptim::embed::registered_optimizers();
  return list;
}

}  // namespace

extern "C" {

const char* simdoptim_version(void) {
  return simdoptim::version();
}

int simdoptim_version_number(void) {
  return SIMDOPTIM_VERSION_NUMBER;
}

simdoptim_status simdoptim_optimizer_name_count(size_t* count) {
  return simdoptim::capi::guard(__func__, [&] {
    simdoptim::capi::require(count, "count");
    *count = names().size();
  });
}

simdoptim_status simdoptim_optimizer_name_at(size_t index, const char** name) {
  return simdoptim::capi::guard(__func__, [&] {
    simdoptim::capi::require(name, "name");
    if (index >= names().size())
      throw simdoptim::capi::Error(SIMDOPTIM_ERROR_OUT_OF_RANGE,
                                   "index " + std::to_string(index) + " out of range (there are " +
                                       std::to_string(names().size()) + " optimizers)");
    *name = names()[index].c_str();
  });
}

}  // extern "C"
