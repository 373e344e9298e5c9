// Every elementwise optimizer of the registry against the physical limit of its access pattern,
// measured in the same binary: a memory-only kernel with exactly the optimizer's reads and
// writes, over arenas allocated the same way and split over threads the same way.
//
// Bytes per element (fp32, one step), from the state arrays the step keeps:
//   none (SGD without momentum): read p, g; write p                  = 12 B (triad)
//   one (SGD momentum, RMSprop, Adagrad, Lion): read p, g, s; write p, s
//                                                                    = 20 B (sgd_pattern)
//   two (Adam, AdamW, NAdam, RAdam, Adamax, Adadelta, Rprop, RMSprop momentum):
//                  read p, g, s1, s2; write p, s1, s2                = 28 B (adam_pattern)
//   ASGD before averaging starts (t0 = 1e6): read p, g; write p, ax  = 16 B (asgd_pattern)
//
// Adam with an EMA of the weights (Optimizer::set_averaging, docs/averaging.md):
//   adam_ema_fused: updated in the step's pass, Adam's 28 B + read and write the average = 36 B
//                   (adam_average_pattern)
//   adam_then_ema:  Adam, then a pass of its own: + read p, read and write the average = 40 B
//
// Workloads decayed_n:2^k hold state decayed to subnormal values with 99 % of the gradients zero
// (late training: dead units, unused embedding rows): <optimizer> flushes the state (the
// default), <optimizer>_kept_subnormal keeps torch's arithmetic, and <optimizer> on n:2^k is the
// normal-state step to compare with.
//
// Names: <optimizer or pattern>/<isa>/<workload>/threads:<t>. Counters: ns_per_elem, and
// bytes_per_second. For example, Adam and its pattern at 2^26:
//   build/benchmarks/bench_elementwise --benchmark_filter='^adam(_pattern)?/.*/n:2\^26/'
// and Adam with an EMA, fused and not, against its pattern:
//   build/benchmarks/bench_elementwise
//   --benchmark_filter='^adam(_ema_fused|_then_ema|_average_pattern)?/avx512/(n:2\^26|resnet50)/'
#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "executor.hpp"
#include "kernels/stream_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "step_plan.hpp"
#include "workloads/resnet50_shapes.hpp"

namespace {

using namespace simdoptim;

struct Workload {
  std::string name;
  std::function<std::vector<ParamSpec>()> params;
  // Late training: state decayed to subnormal values (1e-39) and 99 % of the gradients zero.
  bool decayed = false;
};

std::vector<ParamSpec> flat(std::size_t n) {
  return {{"w", {static_cast<std::int64_t>(n)}, {}}};
}

std::size_t total_numel(const Optimizer& opt) {
  std::size_t n = 0;
  for (const auto& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) n += g.info(i).numel;
  return n;
}

void set_counters(benchmark::State& st, std::size_t numel, double bytes_per_element) {
  const auto n = static_cast<double>(numel);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(n * bytes_per_element));
  st.counters["ns_per_elem"] = benchmark::Counter(
      n * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The benchmarked configurations: each elementwise optimizer at torch's defaults, SGD with
// momentum (plain SGD is the triad), and RMSprop with momentum as well.
struct Config {
  std::string label;
  std::string optimizer;
  GroupOptions options;
};

std::vector<Config> configs() {
  std::vector<Config> out;
  for (const std::string& name : registered_optimizers()) {
    if (dynamic_cast<ElementwiseOptimizer*>(make_optimizer(name).get()) == nullptr) continue;
    if (name == "sgd") {
      out.push_back({"sgd_momentum", name, {{"lr", 0.01}, {"momentum", 0.9}}});
      continue;
    }
    out.push_back({name, name, {}});
    if (name == "rmsprop") out.push_back({"rmsprop_momentum", name, {{"momentum", 0.9}}});
  }
  return out;
}

// Bytes per element of a step that keeps `arrays` state arrays (ASGD's ax is written only).
double step_bytes(const std::string& optimizer, std::size_t arrays) {
  if (optimizer == "asgd") return 16;
  return 12 + 8 * static_cast<double>(arrays);
}

void bench_optimizer(benchmark::State& st, const Config& c, const Workload& w, Isa isa, int threads,
                     bool flush = true) {
  auto opt = make_optimizer(c.optimizer, RuntimeOptions{isa, threads});
  opt->set_flush_subnormal_state(flush);
  opt->add_param_group(w.params(), c.options);
  for (auto& g : opt->param_groups())
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = 1e-3f;
  opt->step();  // allocates and first-touches the state
  if (w.decayed) {
    for (auto& g : opt->param_groups())
      for (std::size_t i = 0; i < g.size(); ++i) {
        auto grad = g.grad(i).data;
        for (std::size_t k = 0; k < grad.size(); ++k) grad[k] = k % 100 == 0 ? 1e-3f : 0.0f;
        for (const auto& name : g.state_names())
          for (float& x : g.state(i, name).data) x = 1e-39f;
      }
  }
  for (auto _ : st) opt->step();
  const std::size_t arrays = opt->param_groups().front().state_names().size();
  set_counters(st, total_numel(*opt), step_bytes(c.optimizer, arrays));
}

// Adam (torch's defaults) with an EMA of the weights, fused into the step or as a pass of its own.
void bench_adam_ema(benchmark::State& st, const Workload& w, Isa isa, int threads, bool fused) {
  auto opt = make_optimizer("adam", RuntimeOptions{isa, threads});
  opt->add_param_group(w.params());
  for (auto& g : opt->param_groups())
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = 1e-3f;
  AveragingOptions a;
  a.mode = AveragingOptions::Mode::ema;
  a.fused = fused;
  opt->set_averaging(a);
  opt->step();  // allocates and first-touches the state
  for (auto _ : st) opt->step();
  set_counters(st, total_numel(*opt), fused ? 36 : 40);
}

// The memory-only reference: the pattern's streams over one group's arenas, same chunking;
// `average` adds the averaged-parameter array (e).
void bench_pattern(benchmark::State& st, detail::KernelFn<detail::StreamArgs> (*pick)(Isa),
                   int state_arrays, double bytes, const Workload& w, Isa isa, int threads,
                   bool average = false) {
  ParamGroup g(w.params(), {});
  detail::StreamArgs args{g.param_arena().data(), g.grad_arena().data(), nullptr, nullptr, 0.5f};
  args.c = g.ensure_state_arena("c");
  if (state_arrays > 1) args.d = g.ensure_state_arena("d");
  if (average) args.e = g.reset_averaged_arena();
  detail::Executor executor(threads);
  detail::StepPlan<detail::StreamArgs> plan;
  const auto kernel = pick(isa);
  auto run = [&] {
    plan.clear();
    plan.add(args, 0, g.padded_numel());
    plan.run(executor, kernel);
  };
  run();
  for (auto _ : st) run();
  std::size_t n = 0;
  for (std::size_t i = 0; i < g.size(); ++i) n += g.info(i).numel;
  set_counters(st, n, bytes);
}

void register_all() {
  std::vector<Workload> workloads;
  for (int log2 : {16, 20, 24, 26})
    workloads.push_back(
        {"n:2^" + std::to_string(log2), [log2] { return flat(std::size_t{1} << log2); }});
  workloads.push_back({"resnet50", [] { return workloads::resnet50_params(); }});
  workloads.push_back({"flat_resnet50_size", [] { return flat(25557032); }});
  for (int log2 : {16, 20, 26})
    workloads.push_back({"decayed_n:2^" + std::to_string(log2),
                         [log2] { return flat(std::size_t{1} << log2); }, true});

  const std::vector<Config> all = configs();
  for (const Workload& w : workloads)
    for (Isa isa : supported_isas())
      for (int threads : {1, 2}) {
        const std::string suffix =
            "/" + std::string(isa_name(isa)) + "/" + w.name + "/threads:" + std::to_string(threads);
        auto add = [&](const std::string& name, auto fn) {
          benchmark::RegisterBenchmark((name + suffix).c_str(), fn)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        };
        for (const Config& c : all) {
          add(c.label, [=](benchmark::State& st) { bench_optimizer(st, c, w, isa, threads); });
          // The same step with torch's arithmetic, its state left to turn subnormal.
          if (w.decayed)
            add(c.label + "_kept_subnormal",
                [=](benchmark::State& st) { bench_optimizer(st, c, w, isa, threads, false); });
        }
        add("adam_pattern", [=](benchmark::State& st) {
          bench_pattern(st, detail::adam_pattern_kernel, 2, 28, w, isa, threads);
        });
        if (!w.decayed) {
          add("adam_ema_fused",
              [=](benchmark::State& st) { bench_adam_ema(st, w, isa, threads, true); });
          add("adam_then_ema",
              [=](benchmark::State& st) { bench_adam_ema(st, w, isa, threads, false); });
          add("adam_average_pattern", [=](benchmark::State& st) {
            bench_pattern(st, detail::adam_average_pattern_kernel, 2, 36, w, isa, threads, true);
          });
        }
        add("sgd_pattern", [=](benchmark::State& st) {
          bench_pattern(st, detail::sgd_pattern_kernel, 1, 20, w, isa, threads);
        });
        add("asgd_pattern", [=](benchmark::State& st) {
          bench_pattern(st, detail::asgd_pattern_kernel, 1, 16, w, isa, threads);
        });
        add("triad", [=](benchmark::State& st) {
          bench_pattern(st, detail::triad_kernel, 1, 12, w, isa, threads);
        });
      }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
