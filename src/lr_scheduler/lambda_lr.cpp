#include "simdoptim/lr_scheduler/lambda_lr.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

std::vector<EpochFunction> checked_lambdas(std::string_view scheduler, const Optimizer& optimizer,
                                           std::vector<EpochFunction> lambdas) {
  if (lambdas.size() != optimizer.param_groups().size()) {
    throw std::invalid_argument(detail::message(scheduler, ": expected ",
                                                optimizer.param_groups().size(),
                                                " lr_lambdas, but got ", lambdas.size()));
  }
  for (std::size_t i = 0; i < lambdas.size(); ++i) {
    if (!lambdas[i]) detail::invalid(scheduler, "lr_lambda", "must be callable", "empty");
  }
  return lambdas;
}

std::vector<EpochFunction> broadcast(const Optimizer& optimizer, EpochFunction fn) {
  return std::vector<EpochFunction>(optimizer.param_groups().size(), std::move(fn));
}

}  // namespace

LambdaLR::LambdaLR(Optimizer& optimizer, EpochFunction lr_lambda, std::int64_t last_epoch)
    : LambdaLR(optimizer, broadcast(optimizer, std::move(lr_lambda)), last_epoch) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<EpochFunction> lr_lambdas,
                   std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch),
      lr_lambdas_(checked_lambdas(name(), optimizer, std::move(lr_lambdas))) {
  initial_step();
}

std::vector<double> LambdaLR::lr_at(std::int64_t epoch) const {
  std::vector<double> out;
  for (std::size_t i = 0; i < lr_lambdas_.size() && i < base_lrs_.size(); ++i) {
    out.push_back(base_lrs_[i] * lr_lambdas_[i](epoch));
  }
  return out;
}

MultiplicativeLR::MultiplicativeLR(Optimizer& optimizer, EpochFunction lr_lambda,
                                   std::int64_t last_epoch)
    : MultiplicativeLR(optimizer, broadcast(optimizer, std::move(lr_lambda)), last_epoch) {}

MultiplicativeLR::MultiplicativeLR(Optimizer& optimizer, std::vector<EpochFunction> lr_lambdas,
                                   std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch),
      lr_lambdas_(checked_lambdas(name(), optimizer, std::move(lr_lambdas))) {
  initial_step();
}

std::vector<double> MultiplicativeLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ > 0) {
    lrs.resize(std::min(lrs.size(), lr_lambdas_.size()));
    for (std::size_t i = 0; i < lrs.size(); ++i) lrs[i] *= lr_lambdas_[i](last_epoch_);
  }
  return lrs;
}

}  // namespace v1
}  // namespace simdoptim
