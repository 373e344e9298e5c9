#include "bench/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/machine.hpp"
#include "bench/memory_reference.hpp"
#include "simdoptim/dtype_convert.hpp"

namespace simdoptim::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Gradients get a small non-zero value so no kernel meets only zeros (and every page is
// written, none is the kernel's shared zero page).
void fill(const TensorView& v, float value) {
  std::fill(v.data.begin(), v.data.end(), value);
  if (!v.data16.empty()) std::fill(v.data16.begin(), v.data16.end(), to_bits16(v.dtype, value));
}

void fill_tensors(Optimizer& optimizer) {
  for (ParamGroup& group : optimizer.param_groups()) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      fill(group.grad(i), 1e-3f);
      fill(group.param(i), 1e-2f);
      if (group.storage().master_weights) fill(group.master_param(i), 1e-2f);
    }
  }
}

// First step (allocates the state arrays), then, for a decayed workload, the state late training
// leaves behind.
void first_step(Optimizer& optimizer, const Workload& workload) {
  fill_tensors(optimizer);
  optimizer.step();
  if (!workload.decayed) return;
  for (ParamGroup& group : optimizer.param_groups()) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const TensorView g = group.grad(i);
      for (std::size_t k = 0; k < g.data.size(); ++k) g.data[k] = k % 100 == 0 ? 1e-3f : 0.0f;
      for (std::size_t k = 0; k < g.data16.size(); ++k)
        g.data16[k] = to_bits16(g.dtype, k % 100 == 0 ? 1e-3f : 0.0f);
      for (const std::string& name : group.state_names()) fill(group.state(i, name), 1e-39f);
    }
  }
}

struct Subject {
  Series* series;
  std::function<void()> step;
  int reps;
};

double time_steps(const Subject& s, std::size_t steps) {
  const auto start = Clock::now();
  for (std::size_t i = 0; i < steps; ++i) s.step();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

// Data that moves more than this per step cannot stay in any cache of this class of machine.
constexpr double kStreamingBytes = 64.0 * (1 << 20);

// Samples are taken in rounds, each giving every subject its share, so a slow phase of the
// shared machine hits the optimizer and its references alike. Streaming workloads interleave
// every sample; cache-sized ones take blocks, each after the first opened by one untimed sample
// that brings back what the other subjects evicted. Returns the number of rounds.
int measure(std::vector<Subject>& subjects, const TimingSettings& settings, std::size_t numel,
            bool streaming) {
  int rounds = settings.rounds;
  for (Subject& s : subjects) {
    for (int i = 1; i < settings.warmup; ++i) s.step();
    const double one = std::max(time_steps(s, 1), 1.0);
    s.series->steps_per_sample = static_cast<std::size_t>(
        std::clamp(std::ceil(settings.min_sample_ms * 1e6 / one), 1.0, 1e7));
    if (settings.rounds == 0) rounds = std::max(rounds, streaming ? s.reps : 2);
  }
  for (int r = 0; r < rounds; ++r) {
    for (Subject& s : subjects) {
      const int reps = (r + 1) * s.reps / rounds - r * s.reps / rounds;  // spread evenly
      if (reps == 0) continue;
      const std::size_t steps = s.series->steps_per_sample;
      if (r > 0 && !streaming) time_steps(s, steps);
      for (int i = 0; i < reps; ++i)
        s.series->ns_per_element.push_back(time_steps(s, steps) /
                                           static_cast<double>(steps * numel));
    }
  }
  for (Subject& s : subjects) s.series->summary = summarize(s.series->ns_per_element);
  return rounds;
}

// Refuses a configuration that cannot fit rather than letting the OOM killer end the run. The
// estimate assumes up to two state arrays (Adam) for every subject.
void check_memory(const Workload& workload, const TimingSettings& settings, Isa isa) {
  const std::size_t subjects = settings.scalar_reference && isa != Isa::scalar ? 3 : 2;
  const std::size_t need = workload.numel() * sizeof(float) * 4 * subjects;
  const auto available = available_memory_bytes();
  if (available && need > *available)
    throw std::runtime_error(workload.name + " needs about " + std::to_string(need >> 20) +
                             " MiB (" + std::to_string(subjects) +
                             " copies of 4 arrays) but only " + std::to_string(*available >> 20) +
                             " MiB are available; use a smaller --numel or --no-scalar");
}

}  // namespace

double Result::fraction_of_memory_limit() const {
  const double mem = memory.summary.median * bytes_per_element / memory_bytes_per_element;
  return simdoptim.summary.median > 0 ? mem / simdoptim.summary.median : 0;
}

std::optional<double> Result::speedup_vs_scalar() const {
  if (!scalar || simdoptim.summary.median <= 0) return std::nullopt;
  return scalar->summary.median / simdoptim.summary.median;
}

Result run_benchmark(const Workload& workload, const OptimizerRecipe& recipe, Isa isa, int threads,
                     const TimingSettings& settings) {
  check_memory(workload, settings, isa);
  Result r;
  r.workload = workload.name;
  r.workload_kind = workload.kind;
  r.workload_source = workload.source;
  r.decayed_state = workload.decayed;
  r.numel = workload.numel();
  r.config_path = recipe.config_path;
  r.isa = isa;
  r.threads = threads;

  std::unique_ptr<Optimizer> optimizer = make_optimizer(recipe, workload, {isa, threads});
  r.optimizer = optimizer->name();
  for (const ParamGroup& group : optimizer->param_groups()) {
    GroupInfo info{group.options(), {}, 0, group.padded_numel()};
    for (std::size_t i = 0; i < group.size(); ++i) {
      info.shapes.push_back(group.info(i).shape);
      info.numel += group.info(i).numel;
    }
    r.padded_numel += info.padded_numel;
    r.tensors += group.size();
    r.groups.push_back(std::move(info));
  }
  first_step(*optimizer,
             workload);  // allocates the state arrays, which the memory reference mirrors
  r.state_arrays = optimizer->param_groups().front().state_names();
  ParamGroup& front = optimizer->param_groups().front();
  r.bytes_per_element = fused_bytes_per_element(r.state_arrays.size(), front.storage());
  r.huge_page_fraction = huge_page_fraction(
      front.param_arena().empty() ? static_cast<const void*>(front.param16_arena().data())
                                  : static_cast<const void*>(front.param_arena().data()));

  MemoryReference memory(*optimizer, isa, threads);
  r.huge_pages_requested = memory.huge_pages_requested();
  r.memory_exact = memory.exact();
  r.memory_bytes_per_element = memory.bytes_per_element();
  r.simdoptim.kernel = r.optimizer;
  r.memory.kernel = memory.kernel_name();

  std::vector<Subject> subjects;
  subjects.push_back({&r.simdoptim, [&] { optimizer->step(); }, settings.reps});
  subjects.push_back({&r.memory, [&] { memory.step(); }, settings.reps});
  std::unique_ptr<Optimizer> scalar;
  if (settings.scalar_reference && isa != Isa::scalar) {
    scalar = make_optimizer(recipe, workload, {Isa::scalar, threads});
    first_step(*scalar, workload);
    r.scalar = Series{r.optimizer + " (scalar build)", 1, {}, {}};
    subjects.push_back({&*r.scalar, [&] { scalar->step(); }, settings.scalar_reps});
  }
  const bool streaming =
      static_cast<double>(r.padded_numel) * r.bytes_per_element > kStreamingBytes;
  r.rounds = measure(subjects, settings, r.numel, streaming);
  return r;
}

}  // namespace simdoptim::bench
