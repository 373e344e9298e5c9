#include "capi/scheduler_args.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "capi/handles.hpp"

namespace simdoptim::capi {
namespace {

std::string format(double v) {
  std::string s = std::to_string(v);
  return s;
}

}  // namespace

SchedulerArgs::SchedulerArgs(std::string kind, const simdoptim_option* options, std::size_t count)
    : kind_(std::move(kind)) {
  if (count > 0) require(options, "options");
  for (std::size_t k = 0; k < count; ++k) {
    require(options[k].key, ("options[" + std::to_string(k) + "].key").c_str());
    items_.emplace_back(options[k].key, options[k].value);
  }
  used_.assign(items_.size(), false);
}

std::vector<double> SchedulerArgs::take(std::string_view key) {
  asked_.emplace_back(key);
  std::vector<double> values;
  for (std::size_t k = 0; k < items_.size(); ++k) {
    if (items_[k].first != key) continue;
    used_[k] = true;
    values.push_back(items_[k].second);
  }
  return values;
}

std::optional<double> SchedulerArgs::number(std::string_view key) {
  const std::vector<double> values = take(key);
  if (values.empty()) return std::nullopt;
  if (values.size() > 1)
    throw std::invalid_argument(kind_ + ": argument '" + std::string(key) + "' given " +
                                std::to_string(values.size()) + " times; it takes one value");
  return values.front();
}

double SchedulerArgs::required_number(std::string_view key) {
  const std::optional<double> v = number(key);
  if (!v) throw std::invalid_argument(kind_ + ": argument '" + std::string(key) + "' is required");
  return *v;
}

std::optional<std::int64_t> SchedulerArgs::integer(std::string_view key) {
  const std::optional<double> v = number(key);
  if (!v) return std::nullopt;
  // 2^53: beyond it doubles are not all integers; well past any step count.
  if (!(std::fabs(*v) <= 9007199254740992.0) || *v != std::floor(*v))
    throw std::invalid_argument(kind_ + ": argument '" + std::string(key) + "' = " + format(*v) +
                                ": expected a whole number");
  return static_cast<std::int64_t>(*v);
}

std::int64_t SchedulerArgs::required_integer(std::string_view key) {
  const std::optional<std::int64_t> v = integer(key);
  if (!v) throw std::invalid_argument(kind_ + ": argument '" + std::string(key) + "' is required");
  return *v;
}

bool SchedulerArgs::flag(std::string_view key, bool fallback) {
  const std::optional<double> v = number(key);
  if (!v) return fallback;
  if (*v != 0.0 && *v != 1.0)
    throw std::invalid_argument(kind_ + ": argument '" + std::string(key) + "' = " + format(*v) +
                                ": expected 0 or 1");
  return *v == 1.0;
}

std::vector<double> SchedulerArgs::list(std::string_view key) {
  return take(key);
}

void SchedulerArgs::check_all_used() const {
  const auto unused = std::find(used_.begin(), used_.end(), false);
  if (unused == used_.end()) return;
  std::string valid;
  for (const std::string& k : asked_) valid += (valid.empty() ? "" : ", ") + k;
  throw std::invalid_argument(kind_ + ": unknown argument '" +
                              items_[static_cast<std::size_t>(unused - used_.begin())].first +
                              "' (valid: " + valid + ")");
}

}  // namespace simdoptim::capi
