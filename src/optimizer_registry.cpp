#include "simdoptim/optimizer_registry.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "optim/registration.hpp"

// The registrations of every optimizer file of src/optim, listed by src/CMakeLists.txt.
#define SIMDOPTIM_OPTIMIZER_FILE(file) std::span<const Registration> registrations_##file();
namespace simdoptim::detail {
#include "optimizer_files.inc"
}  // namespace simdoptim::detail
#undef SIMDOPTIM_OPTIMIZER_FILE

namespace simdoptim {
inline namespace v1 {
namespace {

// Every registration, sorted by name.
const std::vector<detail::Registration>& registrations() {
  static const std::vector<detail::Registration> all = [] {
    std::vector<detail::Registration> v;
#define SIMDOPTIM_OPTIMIZER_FILE(file) \
  for (const detail::Registration& r : detail::registrations_##file()) v.push_back(r);
#include "optimizer_files.inc"
#undef SIMDOPTIM_OPTIMIZER_FILE
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return v;
  }();
  return all;
}

const detail::Registration& find(std::string_view name) {
  if (const detail::Registration* r = detail::find_registration(name)) return *r;
  throw std::invalid_argument("unknown optimizer '" + std::string(name) + "' (valid: " + [] {
    std::string valid;
    for (const auto& r : registrations())
      valid += (valid.empty() ? "" : ", ") + std::string(r.name);
    return valid;
  }() + ")");
}

}  // namespace
}  // namespace v1

const detail::Registration* detail::find_registration(std::string_view name) {
  for (const detail::Registration& r : registrations())
    if (r.name == name) return &r;
  return nullptr;
}

inline namespace v1 {

std::vector<std::string> registered_optimizers() {
  std::vector<std::string> names;
  for (const detail::Registration& r : registrations()) names.emplace_back(r.name);
  return names;
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, RuntimeOptions runtime) {
  return find(name).make(runtime);
}

std::vector<OptionInfo> optimizer_options(std::string_view name) {
  std::vector<OptionInfo> out;
  for (const detail::OptionSpec& o : find(name).options)
    out.push_back(
        {std::string(o.name), o.default_value, std::string(o.doc), o.check == detail::Check::flag});
  return out;
}

std::vector<std::string> optimizer_state_names(std::string_view name) {
  std::vector<std::string> out;
  for (const detail::StateSpec& s : find(name).states) out.emplace_back(s.name);
  return out;
}

std::vector<std::string> optimizer_tensor_scalar_names(std::string_view name) {
  std::vector<std::string> out;
  for (const detail::TensorScalarSpec& s : find(name).tensor_scalars) out.emplace_back(s.name);
  return out;
}

bool optimizer_torch_step(std::string_view name) {
  return find(name).torch_step;
}

std::string optimizer_torch_signature(std::string_view name) {
  return std::string(find(name).torch_signature);
}

}  // namespace v1
}  // namespace simdoptim
