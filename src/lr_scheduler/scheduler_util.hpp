#pragma once
// Helpers shared by the scheduler implementations: lr_scale-aware group access, argument checks
// with torch-like messages, and Python's integer division.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/optimizer.hpp"
#include "simdoptim/param_group.hpp"

namespace simdoptim::detail {

/// The group's lr without its lr_scale.
double unscaled_lr(const ParamGroup& group);
/// group.lr = value * lr_scale (value when the group has no lr_scale).
void write_lr(ParamGroup& group, double value);
/// torch's `group.setdefault('initial_lr', group['lr'])`; a newly recorded group with an
/// lr_scale also gets its lr scaled (from now on the group's lr includes the scale).
void record_initial_lr(ParamGroup& group);
/// Every group's `initial_lr`; throws std::invalid_argument naming the first group without one.
std::vector<double> initial_lrs(const Optimizer& optimizer, std::string_view scheduler);

/// Streams the pieces into one message.
template <typename... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream s;
  s.precision(17);
  (s << ... << parts);
  return s.str();
}

/// Throws std::invalid_argument("<scheduler>: <param> <requirement>, got <value>").
template <typename Value>
[[noreturn]] void invalid(std::string_view scheduler, std::string_view param,
                          std::string_view requirement, const Value& value) {
  throw std::invalid_argument(message(scheduler, ": ", param, " ", requirement, ", got ", value));
}

/// A per-group argument given as one value for all groups or one per group (torch's "float or
/// list"); throws std::invalid_argument on another length.
std::vector<double> per_group(std::string_view scheduler, std::string_view param,
                              const std::vector<double>& values, std::size_t groups);

/// Python's `a // b` and `a % b` for b > 0.
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  return a - floor_div(a, b) * b;
}

/// f(base_lr) for every base lr: the per-group closed forms all have this shape.
template <typename F>
std::vector<double> map_base(const std::vector<double>& base_lrs, F f) {
  std::vector<double> out;
  out.reserve(base_lrs.size());
  for (const double b : base_lrs) out.push_back(f(b));
  return out;
}

/// Every lr times `factor` (torch: `[group['lr'] * factor for group in param_groups]`).
inline std::vector<double> scaled(std::vector<double> lrs, double factor) {
  for (double& lr : lrs) lr *= factor;
  return lrs;
}

/// Checks that `state` is of `kind`.
void check_kind(std::string_view kind, std::string_view state_kind);

/// A double from a state value that must hold an integer.
std::int64_t to_int(double value);

}  // namespace simdoptim::detail
