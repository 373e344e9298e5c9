#pragma once
// Helpers of the config, model spec and build_optimizer tests.
#include <stdexcept>
#include <string>

namespace simdoptim::test {

/// The repository's tools/ folder (configs, specs).
inline const std::string kToolsDir = SIMDOPTIM_TEST_DATA_DIR "/../../tools/";

/// The message of the std::invalid_argument that `f()` throws, or "" when it throws nothing.
template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace simdoptim::test
