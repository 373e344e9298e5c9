// The thread-local last-error message and the status names.
#include <cstring>
#include <string>

#include "capi/handles.hpp"

namespace simdoptim::capi {
namespace {

// A fixed buffer: recording an error must not allocate (it also reports out-of-memory).
constexpr std::size_t kMessageCapacity = 1024;
thread_local char last_error[kMessageCapacity] = "";

}  // namespace

simdoptim_status fail(simdoptim_status status, const char* message) noexcept {
  std::strncpy(last_error, message, kMessageCapacity - 1);
  last_error[kMessageCapacity - 1] = '\0';
  return status;
}

}  // namespace simdoptim::capi

extern "C" {

const char* simdoptim_last_error(void) {
  return simdoptim::capi::last_error;
}

const char* simdoptim_status_name(simdoptim_status status) {
  switch (status) {
    case SIMDOPTIM_OK:
      return "SIMDOPTIM_OK";
    case SIMDOPTIM_ERROR_NULL_POINTER:
      return "SIMDOPTIM_ERROR_NULL_POINTER";
    case SIMDOPTIM_ERROR_INVALID_ARGUMENT:
      return "SIMDOPTIM_ERROR_INVALID_ARGUMENT";
    case SIMDOPTIM_ERROR_OUT_OF_RANGE:
      return "SIMDOPTIM_ERROR_OUT_OF_RANGE";
    case SIMDOPTIM_ERROR_SIZE_MISMATCH:
      return "SIMDOPTIM_ERROR_SIZE_MISMATCH";
    case SIMDOPTIM_ERROR_UNSUPPORTED:
      return "SIMDOPTIM_ERROR_UNSUPPORTED";
    case SIMDOPTIM_ERROR_CHECKPOINT:
      return "SIMDOPTIM_ERROR_CHECKPOINT";
    case SIMDOPTIM_ERROR_RUNTIME:
      return "SIMDOPTIM_ERROR_RUNTIME";
    case SIMDOPTIM_ERROR_CALLBACK:
      return "SIMDOPTIM_ERROR_CALLBACK";
    case SIMDOPTIM_ERROR_OUT_OF_MEMORY:
      return "SIMDOPTIM_ERROR_OUT_OF_MEMORY";
    case SIMDOPTIM_ERROR_INTERNAL:
      return "SIMDOPTIM_ERROR_INTERNAL";
  }
  return "SIMDOPTIM_ERROR_UNKNOWN_STATUS";
}

}  // extern "C"
