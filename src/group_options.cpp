#include "simdoptim/group_options.hpp"

#include <algorithm>
#include <stdexcept>

namespace simdoptim {
inline namespace v1 {

GroupOptions::GroupOptions(std::initializer_list<Item> items) {
  for (const auto& [key, value] : items) set(key, value);
}

bool GroupOptions::contains(std::string_view key) const noexcept {
  return std::any_of(items_.begin(), items_.end(), [&](const Item& it) { return it.first == key; });
}

double GroupOptions::get(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  throw std::out_of_range("param group has no option '" + std::string(key) + "'");
}

double GroupOptions::get_or(std::string_view key, double fallback) const noexcept {
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  return fallback;
}

void GroupOptions::set(std::string_view key, double value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  items_.emplace_back(std::string(key), value);
}

bool GroupOptions::erase(std::string_view key) noexcept {
  auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Item& i) { return i.first == key; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

}  // namespace v1
}  // namespace simdoptim
