// Creating and driving schedulers.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>

#include "capi/handles.hpp"
#include "capi/scheduler_args.hpp"
#include "simdoptim/build_scheduler.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/lr_scheduler.hpp"

namespace capi = simdoptim::capi;
using simdoptim::Optimizer;
using simdoptim::Scheduler;

namespace {

using Make = std::unique_ptr<Scheduler> (*)(Optimizer&, capi::SchedulerArgs&);

struct Kind {
  std::string_view name;
  Make make;
};

// One row per kind; each reads its arguments with torch's names and defaults.
constexpr Kind kKinds[] = {
    {"StepLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const auto step_size = a.required_integer("step_size");
       const double gamma = a.number("gamma", 0.1);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::StepLR>(o, step_size, gamma, last_epoch);
     }},
    {"MultiStepLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       std::vector<std::int64_t> milestones;
       for (const double m : a.list("milestones")) {
         // Range first: casting a double beyond int64 (or NaN) is undefined.
         if (!(std::fabs(m) <= 9007199254740992.0) || m != std::floor(m))
           throw std::invalid_argument("MultiStepLR: milestone " + std::to_string(m) +
                                       " is not a whole number");
         milestones.push_back(static_cast<std::int64_t>(m));
       }
       if (milestones.empty())
         throw std::invalid_argument("MultiStepLR: argument 'milestones' is required");
       const double gamma = a.number("gamma", 0.1);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::MultiStepLR>(o, std::move(milestones), gamma, last_epoch);
     }},
    {"ExponentialLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const double gamma = a.required_number("gamma");
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::ExponentialLR>(o, gamma, last_epoch);
     }},
    {"CosineAnnealingLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const auto t_max = a.required_integer("T_max");
       const double eta_min = a.number("eta_min", 0.0);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::CosineAnnealingLR>(o, t_max, eta_min, last_epoch);
     }},
    {"CosineAnnealingWarmRestarts",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const auto t0 = a.required_integer("T_0");
       const auto t_mult = a.integer("T_mult", 1);
       const double eta_min = a.number("eta_min", 0.0);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::CosineAnnealingWarmRestarts>(o, t0, t_mult, eta_min,
                                                                       last_epoch);
     }},
    {"ConstantLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const double factor = a.number("factor", 1.0 / 3);
       const auto total_iters = a.integer("total_iters", 5);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::ConstantLR>(o, factor, total_iters, last_epoch);
     }},
    {"LinearLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const double start = a.number("start_factor", 1.0 / 3);
       const double end = a.number("end_factor", 1.0);
       const auto total_iters = a.integer("total_iters", 5);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::LinearLR>(o, start, end, total_iters, last_epoch);
     }},
    {"PolynomialLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       const auto total_iters = a.integer("total_iters", 5);
       const double power = a.number("power", 1.0);
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::PolynomialLR>(o, total_iters, power, last_epoch);
     }},
    {"OneCycleLR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       simdoptim::OneCycleLROptions opts;
       opts.max_lr = a.list("max_lr");
       if (opts.max_lr.empty())
         throw std::invalid_argument("OneCycleLR: argument 'max_lr' is required");
       opts.total_steps = a.integer("total_steps");
       opts.epochs = a.integer("epochs");
       opts.steps_per_epoch = a.integer("steps_per_epoch");
       opts.pct_start = a.number("pct_start", opts.pct_start);
       opts.anneal_strategy = a.flag("anneal_linear", false) ? "linear" : "cos";
       opts.cycle_momentum = a.flag("cycle_momentum", opts.cycle_momentum);
       if (auto v = a.list("base_momentum"); !v.empty()) opts.base_momentum = v;
       if (auto v = a.list("max_momentum"); !v.empty()) opts.max_momentum = v;
       opts.div_factor = a.number("div_factor", opts.div_factor);
       opts.final_div_factor = a.number("final_div_factor", opts.final_div_factor);
       opts.three_phase = a.flag("three_phase", opts.three_phase);
       opts.last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::OneCycleLR>(o, std::move(opts));
     }},
    {"SWALR",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       std::vector<double> swa_lr = a.list("swa_lr");
       if (swa_lr.empty()) throw std::invalid_argument("SWALR: argument 'swa_lr' is required");
       const auto anneal_epochs = a.integer("anneal_epochs", 10);
       const char* strategy = a.flag("anneal_linear", false) ? "linear" : "cos";
       const auto last_epoch = a.integer("last_epoch", -1);
       a.check_all_used();
       return std::make_unique<simdoptim::SWALR>(o, std::move(swa_lr), anneal_epochs, strategy,
                                                 last_epoch);
     }},
    {"CosineLRScheduler",
     [](Optimizer& o, capi::SchedulerArgs& a) -> std::unique_ptr<Scheduler> {
       simdoptim::CosineLROptions opts;
       opts.t_initial = a.required_integer("t_initial");
       opts.lr_min = a.number("lr_min", opts.lr_min);
       opts.cycle_mul = a.number("cycle_mul", opts.cycle_mul);
       opts.cycle_decay = a.number("cycle_decay", opts.cycle_decay);
       opts.cycle_limit = a.integer("cycle_limit", opts.cycle_limit);
       opts.warmup_t = a.integer("warmup_t", opts.warmup_t);
       opts.warmup_lr_init = a.number("warmup_lr_init", opts.warmup_lr_init);
       opts.warmup_prefix = a.flag("warmup_prefix", opts.warmup_prefix);
       opts.t_in_epochs = a.flag("t_in_epochs", opts.t_in_epochs);
       opts.k_decay = a.number("k_decay", opts.k_decay);
       a.check_all_used();
       return std::make_unique<simdoptim::CosineLRScheduler>(o, opts);
     }},
};

const Kind& find_kind(std::string_view name) {
  for (const Kind& k : kKinds)
    if (k.name == name) return k;
  std::string list;
  for (const Kind& k : kKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
  throw std::invalid_argument("unknown scheduler kind '" + std::string(name) + "' (valid: " + list +
                              ")");
}

// A scheduler handle on `handle`'s optimizer from `make(optimizer)`. Construction writes
// initial_lr and lr into the groups; a constructor that then refuses its arguments must leave
// the optimizer as it was.
template <class Make>
simdoptim_scheduler* create_restoring(simdoptim_optimizer* handle, Make&& make) {
  Optimizer& opt = *handle->optimizer;
  std::vector<simdoptim::GroupOptions> before;
  for (const simdoptim::ParamGroup& g : opt.param_groups()) before.push_back(g.options());
  auto result = std::make_unique<simdoptim_scheduler>();
  result->optimizer = handle->optimizer;
  try {
    result->scheduler = make(opt);
  } catch (...) {
    for (std::size_t g = 0; g < before.size(); ++g)
      opt.param_groups()[g].options() = std::move(before[g]);
    throw;
  }
  return result.release();
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_scheduler_create(simdoptim_optimizer* optimizer, const char* kind,
                                            const simdoptim_option* options, size_t num_options,
                                            simdoptim_scheduler** out) {
  return capi::guard(__func__, [&] {
    capi::optimizer_of(optimizer);
    capi::require(kind, "kind");
    capi::require(out, "out");
    const Kind& k = find_kind(kind);
    capi::SchedulerArgs args(kind, options, num_options);
    *out = create_restoring(optimizer, [&](Optimizer& o) { return k.make(o, args); });
  });
}

simdoptim_status simdoptim_scheduler_create_from_config(simdoptim_optimizer* optimizer,
                                                        const char* yaml_config,
                                                        int64_t steps_per_epoch,
                                                        simdoptim_scheduler** out) {
  return capi::guard(__func__, [&] {
    capi::optimizer_of(optimizer);
    capi::require(yaml_config, "yaml_config");
    capi::require(out, "out");
    const simdoptim::Config config = simdoptim::parse_config(yaml_config, "<yaml_config>");
    *out = create_restoring(optimizer, [&](Optimizer& o) {
      return simdoptim::build_scheduler(config, o, steps_per_epoch);
    });
  });
}

simdoptim_status simdoptim_scheduler_destroy(simdoptim_scheduler* scheduler) {
  std::unique_ptr<simdoptim_scheduler> owned(scheduler);
  return SIMDOPTIM_OK;
}

simdoptim_status simdoptim_scheduler_kind(const simdoptim_scheduler* scheduler, const char** kind) {
  return capi::guard(__func__, [&] {
    const Scheduler& s = capi::scheduler_of(scheduler);
    capi::require(kind, "kind");
    // Scheduler::name() views a string literal.
    *kind = s.name().data();
  });
}

simdoptim_status simdoptim_scheduler_step(simdoptim_scheduler* scheduler) {
  return capi::guard(__func__, [&] { capi::scheduler_of(scheduler).step(); });
}

simdoptim_status simdoptim_scheduler_get_last_lr(const simdoptim_scheduler* scheduler, double* lrs,
                                                 size_t capacity, size_t* count) {
  return capi::guard(__func__, [&] {
    const std::vector<double>& last = capi::scheduler_of(scheduler).get_last_lr();
    capi::require(count, "count");
    *count = last.size();
    if (lrs == nullptr) return;
    std::copy_n(last.begin(), std::min(capacity, last.size()), lrs);
    if (capacity < last.size())
      throw capi::Error(SIMDOPTIM_ERROR_SIZE_MISMATCH, "capacity " + std::to_string(capacity) +
                                                           " is less than the " +
                                                           std::to_string(last.size()) + " groups");
  });
}

}  // extern "C"
