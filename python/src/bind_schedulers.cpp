// The library's schedulers (simdoptim/lr_scheduler.hpp) and build_scheduler, driving an
// Optimizer. Each keeps its optimizer alive. For torch.optim optimizers use torch's own
// schedulers: they work on simdoptim.torch optimizers unchanged.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "module.hpp"
#include "simdoptim/build_scheduler.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/lr_scheduler.hpp"

namespace py = pybind11;

namespace simdoptim::python {

void bind_schedulers(py::module_& m) {
  using py::arg;
  py::class_<Scheduler>(m, "Scheduler", "Base of the schedulers (torch: _LRScheduler).")
      .def_property_readonly("name", [](const Scheduler& s) { return std::string(s.name()); })
      .def("step", py::overload_cast<>(&Scheduler::step), "torch: scheduler.step().")
      .def("get_last_lr", &Scheduler::get_last_lr, "torch: get_last_lr().")
      .def(
          "save", [](const Scheduler& s, const std::string& path) { save(s, path); }, arg("path"))
      .def(
          "load", [](Scheduler& s, const std::string& path) { load(s, path); }, arg("path"));
  py::class_<LRScheduler, Scheduler>(m, "LRScheduler")
      .def_property_readonly("last_epoch", &LRScheduler::last_epoch)
      .def_property_readonly("base_lrs", &LRScheduler::base_lrs);

  const auto keep = py::keep_alive<1, 2>();  // the scheduler keeps its optimizer alive
  py::class_<StepLR, LRScheduler>(m, "StepLR")
      .def(py::init<Optimizer&, std::int64_t, double, std::int64_t>(), arg("optimizer"),
           arg("step_size"), arg("gamma") = 0.1, arg("last_epoch") = -1, keep);
  py::class_<MultiStepLR, LRScheduler>(m, "MultiStepLR")
      .def(py::init<Optimizer&, std::vector<std::int64_t>, double, std::int64_t>(),
           arg("optimizer"), arg("milestones"), arg("gamma") = 0.1, arg("last_epoch") = -1, keep);
  py::class_<ExponentialLR, LRScheduler>(m, "ExponentialLR")
      .def(py::init<Optimizer&, double, std::int64_t>(), arg("optimizer"), arg("gamma"),
           arg("last_epoch") = -1, keep);
  py::class_<CosineAnnealingLR, LRScheduler>(m, "CosineAnnealingLR")
      .def(py::init<Optimizer&, std::int64_t, double, std::int64_t>(), arg("optimizer"),
           arg("T_max"), arg("eta_min") = 0.0, arg("last_epoch") = -1, keep);
  py::class_<CosineAnnealingWarmRestarts, LRScheduler>(m, "CosineAnnealingWarmRestarts")
      .def(py::init<Optimizer&, std::int64_t, std::int64_t, double, std::int64_t>(),
           arg("optimizer"), arg("T_0"), arg("T_mult") = 1, arg("eta_min") = 0.0,
           arg("last_epoch") = -1, keep);
  py::class_<SWALR, LRScheduler>(m, "SWALR")
      .def(py::init([](Optimizer& o, const py::object& swa_lr, std::int64_t anneal_epochs,
                       const std::string& anneal_strategy, std::int64_t last_epoch) {
             std::vector<double> lrs;
             if (py::isinstance<py::sequence>(swa_lr))
               lrs = swa_lr.cast<std::vector<double>>();
             else
               lrs.push_back(swa_lr.cast<double>());
             return std::make_unique<SWALR>(o, std::move(lrs), anneal_epochs, anneal_strategy,
                                            last_epoch);
           }),
           arg("optimizer"), arg("swa_lr"), arg("anneal_epochs") = 10,
           arg("anneal_strategy") = "cos", arg("last_epoch") = -1, keep)
      .def_property_readonly("swa_lrs", &SWALR::swa_lrs);
  py::class_<ConstantLR, LRScheduler>(m, "ConstantLR")
      .def(py::init<Optimizer&, double, std::int64_t, std::int64_t>(), arg("optimizer"),
           arg("factor") = 1.0 / 3, arg("total_iters") = 5, arg("last_epoch") = -1, keep);
  py::class_<LinearLR, LRScheduler>(m, "LinearLR")
      .def(py::init<Optimizer&, double, double, std::int64_t, std::int64_t>(), arg("optimizer"),
           arg("start_factor") = 1.0 / 3, arg("end_factor") = 1.0, arg("total_iters") = 5,
           arg("last_epoch") = -1, keep);
  py::class_<PolynomialLR, LRScheduler>(m, "PolynomialLR")
      .def(py::init<Optimizer&, std::int64_t, double, std::int64_t>(), arg("optimizer"),
           arg("total_iters") = 5, arg("power") = 1.0, arg("last_epoch") = -1, keep);
  py::class_<LambdaLR, LRScheduler>(m, "LambdaLR")
      .def(py::init<Optimizer&, EpochFunction, std::int64_t>(), arg("optimizer"), arg("lr_lambda"),
           arg("last_epoch") = -1, keep);
  py::class_<OneCycleLR, LRScheduler>(m, "OneCycleLR")
      .def(py::init([](Optimizer& o, std::vector<double> max_lr,
                       std::optional<std::int64_t> total_steps, std::optional<std::int64_t> epochs,
                       std::optional<std::int64_t> steps_per_epoch, double pct_start,
                       std::string anneal_strategy, bool cycle_momentum, double base_momentum,
                       double max_momentum, double div_factor, double final_div_factor,
                       bool three_phase, std::int64_t last_epoch) {
             OneCycleLROptions opts;
             opts.max_lr = std::move(max_lr);
             opts.total_steps = total_steps;
             opts.epochs = epochs;
             opts.steps_per_epoch = steps_per_epoch;
             opts.pct_start = pct_start;
             opts.anneal_strategy = std::move(anneal_strategy);
             opts.cycle_momentum = cycle_momentum;
             opts.base_momentum = {base_momentum};
             opts.max_momentum = {max_momentum};
             opts.div_factor = div_factor;
             opts.final_div_factor = final_div_factor;
             opts.three_phase = three_phase;
             opts.last_epoch = last_epoch;
             return std::make_unique<OneCycleLR>(o, std::move(opts));
           }),
           arg("optimizer"), arg("max_lr"), arg("total_steps") = py::none(),
           arg("epochs") = py::none(), arg("steps_per_epoch") = py::none(), arg("pct_start") = 0.3,
           arg("anneal_strategy") = "cos", arg("cycle_momentum") = true,
           arg("base_momentum") = 0.85, arg("max_momentum") = 0.95, arg("div_factor") = 25.0,
           arg("final_div_factor") = 1e4, arg("three_phase") = false, arg("last_epoch") = -1, keep);
  py::class_<CosineLRScheduler, Scheduler>(m, "CosineLRScheduler",
                                           "timm.scheduler.CosineLRScheduler.")
      .def(
          py::init([](Optimizer& o, std::int64_t t_initial, double lr_min, double cycle_mul,
                      double cycle_decay, std::int64_t cycle_limit, std::int64_t warmup_t,
                      double warmup_lr_init, bool warmup_prefix, bool t_in_epochs, double k_decay) {
            return std::make_unique<CosineLRScheduler>(
                o, CosineLROptions{t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t,
                                   warmup_lr_init, warmup_prefix, t_in_epochs, k_decay});
          }),
          arg("optimizer"), arg("t_initial"), arg("lr_min") = 0.0, arg("cycle_mul") = 1.0,
          arg("cycle_decay") = 1.0, arg("cycle_limit") = 1, arg("warmup_t") = 0,
          arg("warmup_lr_init") = 0.0, arg("warmup_prefix") = false, arg("t_in_epochs") = true,
          arg("k_decay") = 1.0, keep)
      .def("step_update", &CosineLRScheduler::step_update, arg("num_updates"));

  m.def("scheduler_names", &scheduler_names, "The names build_scheduler accepts.");
  m.def(
      "build_scheduler",
      [](const std::string& config_yaml, Optimizer& optimizer, std::int64_t steps_per_epoch) {
        return build_scheduler(parse_config(config_yaml, "<config>"), optimizer, steps_per_epoch);
      },
      arg("config"), arg("optimizer"), arg("steps_per_epoch"), py::keep_alive<0, 2>(),
      "The recipe's per-iteration scheduler of a YAML training config (docs/lr_scheduler.md); "
      "call step() after every optimizer step.");
}

}  // namespace simdoptim::python
