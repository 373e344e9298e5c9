#pragma once
/// The base of the optimizers whose update is one elementwise pass over the arenas.
#include <cstddef>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
namespace detail {
struct ElementwiseRule;
struct ElementwiseScratch;
}  // namespace detail

inline namespace v1 {

/// The base of every optimizer written as a description (src/optim/, docs/architecture.md): each
/// is a description (options, state arrays, per-step scalars, element update) stepped by this
/// one driver, one fused pass per run of neighbouring tensors.
class ElementwiseOptimizer : public Optimizer {
 public:
  ~ElementwiseOptimizer() override;
  std::string_view name() const noexcept override;
  void validate(const GroupOptions& options) const override;

  /// Scalar state torch keeps per tensor as a 0-d tensor (NAdam's mu_product, ASGD's eta and
  /// mu) of tensor `tensor` of group `group`; its initial value before the tensor's first step.
  /// Throws std::out_of_range for a name the optimizer does not keep or a bad index.
  double tensor_scalar(std::size_t group, std::size_t tensor, std::string_view name) const;

  void save_tensor_scalars(std::size_t group, std::size_t tensor,
                           std::vector<std::pair<std::string, double>>& out) const override;
  void load_tensor_scalars(std::size_t group, std::size_t tensor,
                           std::span<const std::pair<std::string, double>> values) override;
  void reserve_tensor_scalars(std::size_t group) override;

 protected:
  /// `rule` outlives the optimizer (a description's static table). Checks `defaults` and adds
  /// `params` as the first group unless empty.
  ElementwiseOptimizer(const detail::ElementwiseRule& rule, GroupOptions defaults,
                       RuntimeOptions runtime, std::vector<ParamSpec> params = {});

 private:
  void step_group(ParamGroup& group) override;
  bool reads_step_grads() const noexcept override { return true; }
  bool fuses_averaging() const noexcept override { return true; }
  bool supports_storage() const noexcept override { return true; }
  void prepare_param_group(GroupOptions& options, const GroupOptions& overrides) const override;
  std::span<double> scalars_of(std::size_t group, std::size_t tensor);

  const detail::ElementwiseRule& rule_;
  std::deque<std::vector<double>> tensor_scalars_;  // [group][tensor * count + k]
  std::unique_ptr<detail::ElementwiseScratch> scratch_;
};

}  // namespace v1
}  // namespace simdoptim
