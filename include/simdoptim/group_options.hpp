#pragma once
/// The options of one param group, as torch's param_group dict (without 'params').
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace simdoptim {
inline namespace v1 {

/// An ordered name -> value dictionary of a group's hyper-parameters. Flags are stored as 0/1
/// and torch's `betas` tuple as `beta1` and `beta2`. Schedulers read and write it (`lr`,
/// `initial_lr`, `momentum`, `beta1`) exactly as torch's schedulers write the group dict.
class GroupOptions {
 public:
  using Item = std::pair<std::string, double>;

  GroupOptions() = default;
  GroupOptions(std::initializer_list<Item> items);

  /// True when `key` is present.
  bool contains(std::string_view key) const noexcept;
  /// The value of `key`; throws std::out_of_range naming the key when absent.
  double get(std::string_view key) const;
  /// The value of `key`, or `fallback` when absent.
  double get_or(std::string_view key, double fallback) const noexcept;
  /// A flag stored as 0/1.
  bool flag(std::string_view key) const { return get(key) != 0.0; }
  /// Inserts or assigns `key`.
  void set(std::string_view key, double value);
  /// Removes `key`; returns whether it was present.
  bool erase(std::string_view key) noexcept;
  /// All items in insertion order.
  std::span<const Item> items() const noexcept { return items_; }

  bool operator==(const GroupOptions&) const = default;

 private:
  std::vector<Item> items_;
};

}  // namespace v1
}  // namespace simdoptim
