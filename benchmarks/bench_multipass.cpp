// The multi-pass optimizers (LAMB, LARS, Adafactor) and Lion against the physical limit of their
// access pattern,
// measured in the same binary: memory-only kernels with exactly the optimizer's reads and writes,
// including the extra reduction passes of the per-tensor quantities, over arenas allocated and
// split over threads the same way.
//
// Bytes per element (fp32), optimizer and its reference alike:
//   Lion:      read p, g, m; write p, m                                    = 20 B (sgd_pattern)
//   LAMB:      pass 1 read p, g, m, v, write m, v, u (28 B; adam_pattern); ||p|| and ||u|| read
//              p, u (8 B; two sum_squares); pass 2 read p, u, write p (12 B; triad) = 48 B
//   LARS:      ||p||, ||g|| read p, g (8 B); then SGD-momentum read p, g, buf, write p, buf
//              (20 B; sgd_pattern)                                          = 28 B
//   Adafactor: a square matrix; ||p|| reads p, row/column statistics read g, ||U|| reads g
//              (12 B; three sum_squares); apply reads p, g, writes p (12 B; triad) = 24 B
//              (its factored state is O(rows + columns) and is not counted)
// Lion's and LARS's references are bench_elementwise's patterns; LAMB's and Adafactor's are
// sequences of the same building blocks, one parallel pass each, as the optimizer runs them.
//
// Names: <kernel>/<isa>/n:2^<k>/threads:<t>. Counters: ns_per_elem and bytes_per_second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "executor.hpp"
#include "kernels/reduce_kernel.hpp"
#include "kernels/stream_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"

namespace {

using namespace simdoptim;

void set_counters(benchmark::State& st, std::size_t numel, double bytes_per_element) {
  const auto n = static_cast<double>(numel);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(n * bytes_per_element));
  st.counters["ns_per_elem"] = benchmark::Counter(
      n * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// 2^k elements: a vector, or for Adafactor a 2^(k/2) x 2^(k - k/2) matrix.
std::vector<ParamSpec> params(int log2, bool matrix) {
  if (!matrix) return {{"w", {std::int64_t{1} << log2}, {}}};
  return {{"w", {std::int64_t{1} << (log2 / 2), std::int64_t{1} << (log2 - log2 / 2)}, {}}};
}

using Make = std::function<std::unique_ptr<Optimizer>(RuntimeOptions)>;

void bench_optimizer(benchmark::State& st, const Make& make, double bytes, int log2, bool matrix,
                     Isa isa, int threads) {
  auto opt = make(RuntimeOptions{isa, threads});
  auto& g = opt->add_param_group(params(log2, matrix));
  for (float& x : g.param(0).data) x = 0.5f;
  for (float& x : g.grad(0).data) x = 1e-3f;
  opt->step();  // allocates and first-touches the state
  for (auto _ : st) opt->step();
  set_counters(st, g.info(0).numel, bytes);
}

// The reference: `passes` run one after another over one group's arenas, each split over the
// threads as the optimizers split theirs. A pass is a stream kernel or a sum of squares.
struct Pass {
  detail::KernelFn<detail::StreamArgs> (*stream)(Isa) = nullptr;  // null: a reduction
  int reads = 0;  // reduction: sum of squares of this many arrays
};

void bench_pattern(benchmark::State& st, std::vector<Pass> passes, double bytes, int log2, Isa isa,
                   int threads) {
  ParamGroup g(params(log2, false), {});
  detail::StreamArgs args{g.param_arena().data(), g.grad_arena().data(), nullptr, nullptr, 0.5f};
  args.c = g.ensure_state_arena("c");
  args.d = g.ensure_state_arena("d");
  detail::Executor executor(threads);
  detail::StepPlan<detail::StreamArgs> plan;
  const std::size_t n = g.padded_numel();
  const std::size_t chunks = (n + detail::kReduceChunk - 1) / detail::kReduceChunk;
  std::vector<double> partials(chunks);
  const auto sum_squares = detail::sum_squares_kernel(isa);
  auto run = [&] {
    for (const Pass& p : passes) {
      if (p.stream != nullptr) {
        plan.clear();
        plan.add(args, 0, n);
        plan.run(executor, p.stream(isa));
        continue;
      }
      for (int r = 0; r < p.reads; ++r) {
        const float* x = r == 0 ? args.a : args.b;
        auto body = [&](std::size_t j) {
          const std::size_t b = j * detail::kReduceChunk;
          sum_squares({x, &partials[j]}, b, std::min(b + detail::kReduceChunk, n));
        };
        executor.run(chunks, body);
      }
    }
  };
  run();
  for (auto _ : st) run();
  benchmark::DoNotOptimize(partials.data());
  set_counters(st, std::size_t{1} << log2, bytes);
}

void register_all() {
  const Make lion = [](RuntimeOptions r) {
    return std::make_unique<Lion>(LionOptions{.weight_decay = 0.1}, r);
  };
  const Make lamb = [](RuntimeOptions r) { return std::make_unique<Lamb>(LambOptions{}, r); };
  const Make lars = [](RuntimeOptions r) {
    return std::make_unique<Lars>(LarsOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4}, r);
  };
  const Make adafactor = [](RuntimeOptions r) {
    return std::make_unique<Adafactor>(AdafactorOptions{}, r);
  };
  const Pass sgd_pattern{detail::sgd_pattern_kernel, 0};
  const Pass adam_pattern{detail::adam_pattern_kernel, 0};
  const Pass triad{detail::triad_kernel, 0};
  const Pass two_norms{nullptr, 2};
  const Pass one_norm{nullptr, 1};
  for (int log2 : {16, 20, 24, 26})
    for (Isa isa : supported_isas())
      for (int threads : {1, 2}) {
        const std::string suffix = "/" + std::string(isa_name(isa)) + "/n:2^" +
                                   std::to_string(log2) + "/threads:" + std::to_string(threads);
        auto add = [&](const std::string& name, auto fn) {
          benchmark::RegisterBenchmark((name + suffix).c_str(), fn)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        };
        add("lion", [=](benchmark::State& st) {
          bench_optimizer(st, lion, 20, log2, false, isa, threads);
        });
        add("lion_pattern", [=](benchmark::State& st) {
          bench_pattern(st, {sgd_pattern}, 20, log2, isa, threads);
        });
        add("lamb", [=](benchmark::State& st) {
          bench_optimizer(st, lamb, 48, log2, false, isa, threads);
        });
        add("lamb_pattern", [=](benchmark::State& st) {
          bench_pattern(st, {adam_pattern, two_norms, triad}, 48, log2, isa, threads);
        });
        add("lars", [=](benchmark::State& st) {
          bench_optimizer(st, lars, 28, log2, false, isa, threads);
        });
        add("lars_pattern", [=](benchmark::State& st) {
          bench_pattern(st, {two_norms, sgd_pattern}, 28, log2, isa, threads);
        });
        add("adafactor", [=](benchmark::State& st) {
          bench_optimizer(st, adafactor, 24, log2, true, isa, threads);
        });
        add("adafactor_pattern", [=](benchmark::State& st) {
          bench_pattern(st, {one_norm, one_norm, one_norm, triad}, 24, log2, isa, threads);
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
