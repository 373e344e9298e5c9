#include "simdoptim/build_scheduler.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "config/text.hpp"
#include "lr_scheduler/scheduler_util.hpp"
#include "simdoptim/lr_scheduler.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

/// The recipe's lengths, in iterations (optimizer steps).
struct Iterations {
  std::int64_t per_epoch = 0;
  std::int64_t total = 0;                // num_steps
  std::int64_t warmup = 0;               // warmup_steps
  std::int64_t decay = 0;                // decay_steps
  std::vector<std::int64_t> milestones;  // multi_steps
};

std::int64_t epochs_to_steps(std::string_view key, int epochs, std::int64_t per_epoch) {
  std::int64_t steps = 0;
  if (__builtin_mul_overflow(static_cast<std::int64_t>(epochs), per_epoch, &steps)) {
    throw std::invalid_argument(
        "build_scheduler: config key " + std::string(key) + " = " + std::to_string(epochs) +
        " times steps_per_epoch = " + std::to_string(per_epoch) + " overflows a 64-bit step count");
  }
  return steps;
}

Iterations iterations(const Config& c, std::int64_t per_epoch) {
  if (per_epoch < 1) {
    throw std::invalid_argument("build_scheduler: steps_per_epoch = " + std::to_string(per_epoch) +
                                ": expected an integer >= 1 (optimizer steps per epoch)");
  }
  const LrSchedulerConfig& s = c.train.lr_scheduler;
  Iterations it;
  it.per_epoch = per_epoch;
  it.total = epochs_to_steps("TRAIN.EPOCHS", c.train.epochs, per_epoch);
  it.warmup = epochs_to_steps("TRAIN.WARMUP_EPOCHS", c.train.warmup_epochs, per_epoch);
  it.decay = epochs_to_steps("TRAIN.LR_SCHEDULER.DECAY_EPOCHS", s.decay_epochs, per_epoch);
  for (const int m : s.multisteps) {
    it.milestones.push_back(epochs_to_steps("TRAIN.LR_SCHEDULER.MULTISTEPS", m, per_epoch));
  }
  return it;
}

std::string epochs_list(const std::vector<int>& epochs) {
  std::vector<std::string> items;
  for (const int e : epochs) items.push_back(std::to_string(e));
  return "[" + detail::join(items) + "]";
}

/// The schedules whose decay runs after the warmup need EPOCHS > WARMUP_EPOCHS (otherwise
/// timm's t_initial or Swin's total_t is <= 0, a division by zero in the recipe).
void require_steps_after_warmup(const Config& c, std::string_view scheduler) {
  if (c.train.epochs > c.train.warmup_epochs) return;
  throw std::invalid_argument(
      "build_scheduler: config key TRAIN.EPOCHS = " + std::to_string(c.train.epochs) +
      ": expected more than TRAIN.WARMUP_EPOCHS = " + std::to_string(c.train.warmup_epochs) +
      " for scheduler '" + std::string(scheduler) + "' (its decay starts after the warmup)");
}

/// MULTISTEPS must be a non-empty, strictly increasing list of epochs (bisect needs it sorted).
void require_milestones(const Config& c, std::string_view scheduler) {
  const std::vector<int>& m = c.train.lr_scheduler.multisteps;
  const auto fail = [&](const std::string& expected) {
    throw std::invalid_argument(
        "build_scheduler: config key TRAIN.LR_SCHEDULER.MULTISTEPS = " + epochs_list(m) +
        ": expected " + expected + " for scheduler '" + std::string(scheduler) + "'");
  };
  if (m.empty()) fail("a non-empty list of epochs");
  if (std::adjacent_find(m.begin(), m.end(), std::greater_equal<>()) != m.end()) {
    fail("strictly increasing epochs");
  }
}

/// timm's Scheduler with the warmup of its Step/Cosine schedulers and a closed form of (base
/// value, t) after it: the shape of Swin's LinearLRScheduler and MultiStepLRScheduler and of
/// timm's StepLRScheduler. Updates count in iterations (t_in_epochs=False); step() is
/// step_update(t + 1).
class TimmLRScheduler final : public Scheduler {
 public:
  using Decay = std::function<double(double base_value, std::int64_t t)>;

  TimmLRScheduler(Optimizer& optimizer, std::string_view name, std::int64_t warmup_t,
                  double warmup_lr_init, Decay decay)
      : Scheduler(optimizer),
        name_(name),
        warmup_t_(warmup_t),
        warmup_lr_init_(warmup_lr_init),
        decay_(std::move(decay)) {
    for (ParamGroup& g : optimizer.param_groups()) {
      detail::record_initial_lr(g);  // timm: group.setdefault('initial_lr', group['lr'])
      base_values_.push_back(g.options().get("initial_lr"));
      // timm: warmup_steps = [(v - warmup_lr_init) / warmup_t for v in base_values]
      warmup_steps_.push_back(warmup_t > 0 ? (base_values_.back() - warmup_lr_init) /
                                                 static_cast<double>(warmup_t)
                                           : 1.0);
    }
    write(lr_at(0));
  }

  std::string_view name() const noexcept override { return name_; }

  void step() override {
    ++t_;
    write(lr_at(t_));
  }

  SchedulerState state_dict() const override {
    SchedulerState s = Scheduler::state_dict();
    s.set("t", static_cast<double>(t_));
    s.set("base_values", base_values_);
    return s;
  }

  void load_state_dict(const SchedulerState& state) override {
    Scheduler::load_state_dict(state);
    t_ = detail::to_int(state.scalar("t"));
    base_values_ = state.list("base_values");
  }

 private:
  /// timm's _get_lr(t).
  std::vector<double> lr_at(std::int64_t t) const {
    std::vector<double> out;
    for (std::size_t i = 0; i < base_values_.size(); ++i) {
      out.push_back(t < warmup_t_ ? warmup_lr_init_ + static_cast<double>(t) * warmup_steps_[i]
                                  : decay_(base_values_[i], t));
    }
    return out;
  }

  /// timm's update_groups: value * lr_scale.
  void write(const std::vector<double>& values) {
    auto& groups = optimizer().param_groups();
    for (std::size_t i = 0; i < values.size() && i < groups.size(); ++i) {
      detail::write_lr(groups[i], values[i]);
    }
    record_last_lr();
  }

  std::string_view name_;
  std::int64_t warmup_t_;
  double warmup_lr_init_;
  Decay decay_;
  std::vector<double> base_values_;
  std::vector<double> warmup_steps_;
  std::int64_t t_ = 0;
};

/// torch names: the torch schedule after a WarmupLR of the recipe's warmup (none when 0).
std::unique_ptr<Scheduler> after_warmup(std::unique_ptr<Scheduler> after, const Config& c,
                                        const Iterations& it) {
  if (it.warmup == 0) return after;
  return std::make_unique<WarmupLR>(std::move(after), it.warmup, c.train.warmup_lr);
}

std::unique_ptr<Scheduler> make_cosine(const Config& c, Optimizer& o, const Iterations& it) {
  const bool prefix = c.train.lr_scheduler.warmup_prefix;
  if (prefix) require_steps_after_warmup(c, "cosine");
  CosineLROptions options;
  options.t_initial = prefix ? it.total - it.warmup : it.total;
  options.lr_min = c.train.min_lr;
  options.cycle_mul = 1.0;
  options.warmup_lr_init = c.train.warmup_lr;
  options.warmup_t = it.warmup;
  options.cycle_limit = 1;
  options.t_in_epochs = false;
  options.warmup_prefix = prefix;
  return std::make_unique<CosineLRScheduler>(o, options);
}

std::unique_ptr<Scheduler> make_linear(const Config& c, Optimizer& o, const Iterations& it) {
  require_steps_after_warmup(c, "linear");
  constexpr double kLrMinRate = 0.01;  // Swin's lr_min_rate
  const std::int64_t warmup = it.warmup;
  const auto total_t = static_cast<double>(it.total - it.warmup);
  return std::make_unique<TimmLRScheduler>(
      o, "LinearLRScheduler", it.warmup, c.train.warmup_lr, [=](double v, std::int64_t t) {
        return v - ((v - v * kLrMinRate) * (static_cast<double>(t - warmup) / total_t));
      });
}

std::unique_ptr<Scheduler> make_step(const Config& c, Optimizer& o, const Iterations& it) {
  const std::int64_t decay_t = it.decay;
  const double decay_rate = c.train.lr_scheduler.decay_rate;
  return std::make_unique<TimmLRScheduler>(
      o, "StepLRScheduler", it.warmup, c.train.warmup_lr, [=](double v, std::int64_t t) {
        return v * std::pow(decay_rate, static_cast<double>(detail::floor_div(t, decay_t)));
      });
}

std::unique_ptr<Scheduler> make_multistep(const Config& c, Optimizer& o, const Iterations& it) {
  require_milestones(c, "multistep");
  if (it.milestones.front() < it.warmup) {
    throw std::invalid_argument(
        "build_scheduler: config key TRAIN.LR_SCHEDULER.MULTISTEPS = " +
        epochs_list(c.train.lr_scheduler.multisteps) +
        ": expected every milestone >= TRAIN.WARMUP_EPOCHS = " +
        std::to_string(c.train.warmup_epochs) +
        " for scheduler 'multistep' (the recipe asserts warmup_t <= min(milestones))");
  }
  const std::vector<std::int64_t> milestones = it.milestones;
  const double gamma = c.train.lr_scheduler.gamma;
  return std::make_unique<TimmLRScheduler>(
      o, "MultiStepLRScheduler", it.warmup, c.train.warmup_lr, [=](double v, std::int64_t t) {
        const auto passed = std::upper_bound(milestones.begin(), milestones.end(), t) -
                            milestones.begin();  // bisect.bisect_right(milestones, t)
        return v * std::pow(gamma, static_cast<double>(passed));
      });
}

std::unique_ptr<Scheduler> make_step_lr(const Config& c, Optimizer& o, const Iterations& it) {
  return after_warmup(std::make_unique<StepLR>(o, it.decay, c.train.lr_scheduler.decay_rate), c,
                      it);
}

std::unique_ptr<Scheduler> make_multistep_lr(const Config& c, Optimizer& o, const Iterations& it) {
  require_milestones(c, "MultiStepLR");
  return after_warmup(std::make_unique<MultiStepLR>(o, it.milestones, c.train.lr_scheduler.gamma),
                      c, it);
}

std::unique_ptr<Scheduler> make_exponential_lr(const Config& c, Optimizer& o,
                                               const Iterations& it) {
  // GAMMA is per epoch; stepped per iteration, gamma^(1/steps_per_epoch) gives it per epoch.
  const double gamma =
      std::pow(c.train.lr_scheduler.gamma, 1.0 / static_cast<double>(it.per_epoch));
  return after_warmup(std::make_unique<ExponentialLR>(o, gamma), c, it);
}

std::unique_ptr<Scheduler> make_cosine_annealing_lr(const Config& c, Optimizer& o,
                                                    const Iterations& it) {
  require_steps_after_warmup(c, "CosineAnnealingLR");
  return after_warmup(std::make_unique<CosineAnnealingLR>(o, it.total - it.warmup, c.train.min_lr),
                      c, it);
}

std::unique_ptr<Scheduler> make_one_cycle_lr(const Config& c, Optimizer& o, const Iterations& it) {
  require_steps_after_warmup(c, "OneCycleLR");
  const auto require_positive = [](std::string_view key, double value) {
    if (value > 0.0) return;
    throw std::invalid_argument("build_scheduler: config key " + std::string(key) + " = " +
                                detail::format_number(value) +
                                ": expected a number > 0 for scheduler 'OneCycleLR'");
  };
  if (c.train.warmup_epochs < 1) {
    throw std::invalid_argument("build_scheduler: config key TRAIN.WARMUP_EPOCHS = " +
                                std::to_string(c.train.warmup_epochs) +
                                ": expected an integer >= 1 for scheduler 'OneCycleLR' (its "
                                "increasing phase, pct_start = WARMUP_EPOCHS / EPOCHS)");
  }
  require_positive("TRAIN.BASE_LR", c.train.base_lr);
  require_positive("TRAIN.WARMUP_LR", c.train.warmup_lr);
  require_positive("TRAIN.MIN_LR", c.train.min_lr);
  OneCycleLROptions options;
  for (const ParamGroup& g : o.param_groups()) {
    options.max_lr.push_back(g.options().get_or("initial_lr", g.lr()));
  }
  options.total_steps = it.total;
  options.pct_start = static_cast<double>(it.warmup) / static_cast<double>(it.total);
  options.div_factor = c.train.base_lr / c.train.warmup_lr;
  options.final_div_factor = c.train.warmup_lr / c.train.min_lr;
  options.cycle_momentum = false;  // keep the configured MOMENTUM / BETAS
  try {
    return std::make_unique<OneCycleLR>(o, std::move(options));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("build_scheduler: OneCycleLR from the config: ") +
                                e.what());
  }
}

/// One row per name; adding a scheduler is one row (and a line in docs/lr_scheduler.md).
struct SchedulerEntry {
  std::string_view name;
  std::unique_ptr<Scheduler> (*make)(const Config&, Optimizer&, const Iterations&);
};

constexpr std::array<SchedulerEntry, 9> kSchedulers = {{
    {"cosine", &make_cosine},
    {"linear", &make_linear},
    {"step", &make_step},
    {"multistep", &make_multistep},
    {"StepLR", &make_step_lr},
    {"MultiStepLR", &make_multistep_lr},
    {"ExponentialLR", &make_exponential_lr},
    {"CosineAnnealingLR", &make_cosine_annealing_lr},
    {"OneCycleLR", &make_one_cycle_lr},
}};

}  // namespace

std::vector<std::string> scheduler_names() {
  std::vector<std::string> names;
  for (const SchedulerEntry& e : kSchedulers) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<Scheduler> build_scheduler(const Config& config, Optimizer& optimizer,
                                           std::int64_t steps_per_epoch) {
  const std::string name = detail::to_lower(config.train.lr_scheduler.name);
  const auto entry = std::find_if(kSchedulers.begin(), kSchedulers.end(),
                                  [&](const auto& e) { return detail::to_lower(e.name) == name; });
  if (entry == kSchedulers.end()) {
    throw std::invalid_argument(
        "build_scheduler: unknown scheduler '" + config.train.lr_scheduler.name +
        "' (config key TRAIN.LR_SCHEDULER.NAME); valid names: " + detail::join(scheduler_names()) +
        " (case-insensitive)");
  }
  validate_config(config);
  const Iterations it = iterations(config, steps_per_epoch);
  if (optimizer.param_groups().empty()) {
    throw std::invalid_argument("build_scheduler: the optimizer has no param groups");
  }
  return entry->make(config, optimizer, it);
}

}  // namespace v1
}  // namespace simdoptim
