#pragma once
// What the opaque C handles hold, and the checks every entry point shares.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"
#include "simdoptim/optimizer.hpp"
#include "simdoptim/simdoptim.h"

struct simdoptim_optimizer {
  // Shared with every scheduler created on it, so that either may be destroyed first.
  std::shared_ptr<simdoptim::Optimizer> optimizer;
  // Flat parameter index -> (group, tensor), in group order.
  std::vector<std::pair<std::size_t, std::size_t>> index;

  // Appends the tensors of groups [first_group, end) to `index`.
  void index_groups(std::size_t first_group);
};

struct simdoptim_scheduler {
  std::shared_ptr<simdoptim::Optimizer> optimizer;
  std::unique_ptr<simdoptim::Scheduler> scheduler;
};

namespace simdoptim::capi {

// An error with its C status; thrown inside entry points, turned into the status by guard().
class Error : public std::exception {
 public:
  Error(simdoptim_status status, std::string message)
      : status_(status), message_(std::move(message)) {}
  simdoptim_status status() const noexcept { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  simdoptim_status status_;
  std::string message_;
};

// Throws SIMDOPTIM_ERROR_NULL_POINTER naming `what` when `p` is null.
template <class T>
T* require(T* p, const char* what) {
  if (p == nullptr) throw Error(SIMDOPTIM_ERROR_NULL_POINTER, std::string(what) + " is NULL");
  return p;
}

// The live optimizer of a handle; throws when either is null.
Optimizer& optimizer_of(const simdoptim_optimizer* handle);

// The live scheduler of a handle; throws when either is null.
Scheduler& scheduler_of(const simdoptim_scheduler* handle);

// (group, tensor) of flat parameter `index`; throws SIMDOPTIM_ERROR_OUT_OF_RANGE.
std::pair<std::size_t, std::size_t> locate(const simdoptim_optimizer* handle, std::size_t index);

// The group `group`; throws SIMDOPTIM_ERROR_OUT_OF_RANGE.
ParamGroup& group_of(const simdoptim_optimizer* handle, std::size_t group);

// Converts C param specs into the C++ ones, leaving out frozen params; checks names and shapes.
std::vector<ParamSpec> to_param_specs(const simdoptim_param_spec* params, std::size_t count);

// Converts C options into a GroupOptions, checking keys.
GroupOptions to_group_options(const simdoptim_option* options, std::size_t count);

// Converts a simdoptim_runtime (may be null) into RuntimeOptions.
RuntimeOptions to_runtime(const simdoptim_runtime* runtime);

// Records `message` as this thread's last error and returns `status`.
simdoptim_status fail(simdoptim_status status, const char* message) noexcept;

// Runs `body` (returning void); maps every exception to a status and the last-error message.
template <class Body>
simdoptim_status guard(const char* function, Body&& body) noexcept;

}  // namespace simdoptim::capi

#include "capi/guard.hpp"
