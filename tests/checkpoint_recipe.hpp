#pragma once
// A small deterministic training run shared by test_checkpoint_resume and its helper process
// (checkpoint_resume_helper): the same optimizer, scheduler and gradients in both, so that
// "N steps straight" and "k steps, save, new process, load, N - k steps" can be compared bit
// for bit.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler.hpp"
#include "simdoptim/simdoptim.hpp"

namespace checkpoint_recipe {

using namespace simdoptim;

// Every optimizer of the registry but L-BFGS (its closure-driven history is not checkpointed),
// Adafactor's factored statistics through Optimizer::side_arrays.
inline std::vector<std::string> optimizers() {
  std::vector<std::string> names;
  for (const std::string& n : registered_optimizers())
    if (n != "lbfgs") names.push_back(n);
  return names;
}

// The options both groups take (beyond torch's defaults): ones that create more state.
inline GroupOptions recipe_options(std::string_view name) {
  if (name == "sgd") return {{"lr", 0.05}, {"momentum", 0.9}, {"nesterov", 1.0}};
  if (name == "adam") return {{"lr", 0.01}, {"amsgrad", 1.0}};
  if (name == "asgd") return {{"t0", 3.0}};
  if (name == "lion") return {{"weight_decay", 0.1}};
  if (name == "lars") return {{"momentum", 0.9}, {"weight_decay", 1e-4}};
  if (name == "adafactor") return {{"weight_decay", 0.01}};
  return {};
}

// Deterministic pseudo-random value in [-1, 1) (no libm, no global state).
inline float noise(std::uint64_t step, std::uint64_t index) {
  std::uint64_t x = step * 0x9E3779B97F4A7C15ull ^ (index + 0x632BE59BD9B4E5ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return static_cast<float>(static_cast<double>(x >> 40) / double(1ull << 23) - 1.0);
}

// Two groups; one tensor is larger than a thread chunk, one has no gradient on odd steps.
inline void add_groups(Optimizer& opt) {
  auto spec = [](std::string name, Shape shape) {
    ParamSpec s{std::move(name), shape, {}};
    s.init.resize(numel_of(shape));
    for (std::size_t i = 0; i < s.init.size(); ++i)
      s.init[i] = 0.5f * noise(0, i + 7 * s.name.size());
    return s;
  };
  const GroupOptions first = recipe_options(opt.name());
  GroupOptions second = first;
  second.set("lr", first.get_or("lr", opt.defaults().get("lr")) * 0.5);
  opt.add_param_group({spec("w1", {37, 5}), spec("b1", {37}), spec("big", {70001})}, first);
  opt.add_param_group({spec("w2", {3, 37}), spec("b2", {1})}, second);
}

// Warmup then cosine, stepped once per optimizer step.
inline std::unique_ptr<Scheduler> make_scheduler(Optimizer& opt) {
  std::vector<std::unique_ptr<LRScheduler>> parts;
  parts.push_back(std::make_unique<LinearLR>(opt, 0.1, 1.0, 4));
  parts.push_back(std::make_unique<CosineAnnealingLR>(opt, 20, 1e-4));
  return std::make_unique<SequentialLR>(opt, std::move(parts), std::vector<std::int64_t>{4});
}

// Gradients of step `step`: a pull towards zero plus noise; "b1" has none on odd steps.
inline void write_grads(Optimizer& opt, std::int64_t step) {
  opt.zero_grad();
  const auto s = static_cast<std::uint64_t>(step);
  std::uint64_t base = 0;
  for (auto& group : opt.param_groups())
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (group.info(i).name == "b1" && step % 2 == 1) continue;
      const auto p = group.param(i).data;
      auto g = group.grad(i).data;
      for (std::size_t j = 0; j < g.size(); ++j) g[j] = 0.1f * p[j] + noise(s + 1, base + j);
      base += g.size();
    }
}

// Steps [from, to) of the run.
inline void train(Optimizer& opt, Scheduler& sched, std::int64_t from, std::int64_t to) {
  for (std::int64_t step = from; step < to; ++step) {
    write_grads(opt, step);
    opt.step();
    sched.step();
  }
}

}  // namespace checkpoint_recipe
