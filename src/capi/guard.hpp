#pragma once
// guard(): the exception firewall of every C entry point.
#include <new>
#include <stdexcept>
#include <string>

#include "simdoptim/checkpoint.hpp"

namespace simdoptim::capi {

template <class Body>
simdoptim_status guard(const char* function, Body&& body) noexcept {
  // Building the message may itself throw bad_alloc; fail() then keeps a fixed message.
  const auto report = [function](simdoptim_status status, const char* what) noexcept {
    try {
      const std::string message = std::string(function) + ": " + what;
      return fail(status, message.c_str());
    } catch (...) {
      return fail(status, what);
    }
  };
  try {
    body();
    return SIMDOPTIM_OK;
  } catch (const Error& e) {
    return report(e.status(), e.what());
  } catch (const CheckpointError& e) {
    return report(SIMDOPTIM_ERROR_CHECKPOINT, e.what());
  } catch (const std::invalid_argument& e) {
    return report(SIMDOPTIM_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::out_of_range& e) {
    return report(SIMDOPTIM_ERROR_OUT_OF_RANGE, e.what());
  } catch (const std::logic_error& e) {
    return report(SIMDOPTIM_ERROR_UNSUPPORTED, e.what());
  } catch (const std::bad_alloc&) {
    return report(SIMDOPTIM_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return report(SIMDOPTIM_ERROR_RUNTIME, e.what());
  } catch (...) {
    return report(SIMDOPTIM_ERROR_INTERNAL, "unknown exception");
  }
}

}  // namespace simdoptim::capi
