// Gradients read in place from the engine's buffers, and clipping fused into the step, against
// the arena step measured in the same run (the reference: the ratios are what mean something on
// a noisy machine).
//
//   <opt>_arena      step() over the arena's gradients
//   <opt>_external   step({.external}) over one buffer per tensor (the engine's), read in place;
//                    the buffers allocated as the arenas are (2 MiB pages, staggered starts)
//   <opt>_external_malloc   the same over 64-byte-aligned buffers from aligned_alloc (as torch's
//                    allocator gives), 4 KiB pages
//   <opt>_clip_then_step   clip_grad_norm_ (norm, then scale in place) then step()
//   <opt>_clip_and_step    clip_grad_norm_and_step: the norm, then the step reads g * coef
//   <opt>_norm_paired      compute_clip_grad_norm alone: the extra read clipping costs
//   <opt>_read_pattern_paired   its memory-only reference: one read of the gradient arena,
//                          chunked as the norm (a read-only stream; by bytes 4/28 of the AdamW
//                          step and 4/20 of SGD-momentum's, slower per byte in practice)
//
// Bytes per element (fp32, AdamW; SGD with momentum 8 fewer): the step reads p, g, m, v and writes
// p, m, v = 28 B; clip then step adds a read for the norm and a read and write to scale = 40 B;
// fused clip and step adds the norm's read only = 32 B. bytes_per_second uses these; ns_per_elem
// compares the same work directly. The gradients clip at every iteration (max_norm 1e-3 against a
// norm near 8 at 2^26); clip_then_step gets its unscaled gradients back outside the timing.
//
// <...>_paired/... run the arena step and the path alternately on two twin optimizers: their
// vs_arena counter is the median of the per-iteration ratios (path / arena step).
//
//   build/benchmarks/bench_step_grads --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "executor.hpp"
#include "kernels/stream_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "tensor_reductions.hpp"
#include "workloads/resnet50_shapes.hpp"

namespace {

using namespace simdoptim;

enum class Path {
  arena,
  external,
  external_malloc,
  clip_then_step,
  clip_and_step,
  norm,
  read_pattern
};

constexpr float kGrad = 1e-3f;
constexpr double kMaxNorm = 1e-3;

struct Setup {
  std::unique_ptr<Optimizer> opt;
  // The engine's gradients, one buffer per tensor: from malloc, or allocated as the arenas are
  // (huge pages, start staggered against the other streams).
  struct Free {
    void operator()(float* p) const noexcept { std::free(p); }
  };
  std::vector<std::unique_ptr<float, Free>> malloc_buffers;
  std::vector<std::unique_ptr<detail::AlignedBuffer>> arena_like_buffers;
  std::vector<const float*> pointers;
  std::size_t numel = 0;
  // read_pattern: the memory-only kernel over the gradient arena, chunked as the norm is.
  std::unique_ptr<detail::Executor> executor;
  std::unique_ptr<detail::AlignedBuffer> read_out;
};

Setup make(const std::string& name, const GroupOptions& options, std::vector<ParamSpec> params,
           int threads, bool malloc_buffers) {
  Setup s;
  s.opt = make_optimizer(name, RuntimeOptions{std::nullopt, threads});
  s.opt->add_param_group(std::move(params), options);
  for (ParamGroup& g : s.opt->param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::size_t n = g.info(i).numel;
      std::ranges::fill(g.grad(i).data, kGrad);
      if (malloc_buffers) {
        // 64-byte aligned, as torch's CPU allocator aligns (a misaligned buffer costs a cache
        // line split on every vector load).
        const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        s.malloc_buffers.emplace_back(static_cast<float*>(std::aligned_alloc(64, bytes)));
        std::fill_n(s.malloc_buffers.back().get(), n, kGrad);
        s.pointers.push_back(s.malloc_buffers.back().get());
      } else {
        // Stream 5: the arenas use 0 (parameters), 1 (gradients) and 2.. (state).
        s.arena_like_buffers.push_back(std::make_unique<detail::AlignedBuffer>(n, 5));
        std::fill_n(s.arena_like_buffers.back()->data(), n, kGrad);
        s.pointers.push_back(s.arena_like_buffers.back()->data());
      }
      s.numel += n;
    }
  s.opt->step();  // allocates and first-touches the state
  s.executor = std::make_unique<detail::Executor>(threads);
  s.read_out = std::make_unique<detail::AlignedBuffer>(16, 6);
  return s;
}

void restore_grads(Optimizer& opt) {
  for (ParamGroup& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) std::ranges::fill(g.grad(i).data, kGrad);
}

// One step by `path` (clip_then_step leaves its gradients scaled: restore_grads after it).
void step_once(Setup& s, Path path) {
  Optimizer& opt = *s.opt;
  switch (path) {
    case Path::arena:
      opt.step();
      break;
    case Path::external:
    case Path::external_malloc:
      opt.step(StepGrads{s.pointers});
      break;
    case Path::clip_then_step:
      clip_grad_norm_(opt, kMaxNorm);
      opt.step();
      break;
    case Path::clip_and_step:
      clip_grad_norm_and_step(opt, kMaxNorm);
      break;
    case Path::norm:
      benchmark::DoNotOptimize(compute_clip_grad_norm(opt, kMaxNorm));
      break;
    case Path::read_pattern: {
      ParamGroup& g = opt.param_groups().front();
      const detail::StreamArgs args{g.grad_arena().data(), nullptr, s.read_out->data()};
      const auto kernel = detail::read_pattern_kernel(opt.isa());
      const std::size_t n = g.padded_numel();
      auto body = [&](std::size_t j) {
        const std::size_t b = j * detail::kReduceChunk;
        kernel(args, b, std::min(b + detail::kReduceChunk, n));
      };
      s.executor->run((n + detail::kReduceChunk - 1) / detail::kReduceChunk, body);
      break;
    }
  }
}

// Paired: every iteration times an arena step() of one optimizer, then `path` on a twin, and
// the counter vs_arena is the median of the per-iteration ratios, which the load on a shared
// machine moves far less than it moves either time. The reported time is `path`'s.
void bench_paired(benchmark::State& st, const std::string& name, const GroupOptions& options,
                  const std::function<std::vector<ParamSpec>()>& params, Path path, int threads) {
  Setup a = make(name, options, params(), threads, false);
  Setup b = make(name, options, params(), threads, path == Path::external_malloc);
  std::vector<double> ratios;
  using Clock = std::chrono::steady_clock;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    step_once(a, Path::arena);
    const auto t1 = Clock::now();
    step_once(b, path);
    const auto t2 = Clock::now();
    const std::chrono::duration<double> ta = t1 - t0, tb = t2 - t1;
    ratios.push_back(tb.count() / ta.count());
    st.SetIterationTime(tb.count());
    if (path == Path::clip_then_step) restore_grads(*b.opt);
  }
  std::ranges::sort(ratios);
  st.counters["vs_arena"] = ratios.empty() ? 0.0 : ratios[ratios.size() / 2];
}

void bench(benchmark::State& st, const std::string& name, const GroupOptions& options,
           const std::function<std::vector<ParamSpec>()>& params, Path path, int threads,
           double step_bytes) {
  Setup s = make(name, options, params(), threads, path == Path::external_malloc);
  const double bytes = step_bytes + (path == Path::clip_then_step  ? 12
                                     : path == Path::clip_and_step ? 4
                                                                   : 0);
  for (auto _ : st) {
    step_once(s, path);
    if (path == Path::clip_then_step) {
      st.PauseTiming();
      restore_grads(*s.opt);
      st.ResumeTiming();
    }
  }
  const auto n = static_cast<double>(s.numel);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(n * bytes));
  st.counters["ns_per_elem"] = benchmark::Counter(
      n * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void register_all() {
  struct Config {
    std::string label, name;
    GroupOptions options;
    double step_bytes;
  };
  const std::vector<Config> configs = {{"adamw", "adamw", {}, 28},
                                       {"sgd_momentum", "sgd", {{"momentum", 0.9}}, 20}};
  struct Workload {
    std::string name;
    std::function<std::vector<ParamSpec>()> params;
    bool clip;
  };
  const std::vector<Workload> workloads = {
      {"n:2^26",
       [] {
         return std::vector<ParamSpec>{{"w", {std::int64_t{1} << 26}, {}}};
       },
       true},
      {"resnet50", [] { return workloads::resnet50_params(); }, false}};
  const std::string isa = isa_name(default_isa());
  for (const Workload& w : workloads)
    for (const Config& c : configs)
      for (int threads : {1, 2}) {
        const std::string suffix = "/" + isa + "/" + w.name + "/threads:" + std::to_string(threads);
        auto add = [&](const std::string& label, Path path) {
          benchmark::RegisterBenchmark((c.label + "_" + label + suffix).c_str(),
                                       [=](benchmark::State& st) {
                                         bench(st, c.name, c.options, w.params, path, threads,
                                               c.step_bytes);
                                       })
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        };
        auto add_paired = [&](const std::string& label, Path path) {
          benchmark::RegisterBenchmark((c.label + "_" + label + "_paired" + suffix).c_str(),
                                       [=](benchmark::State& st) {
                                         bench_paired(st, c.name, c.options, w.params, path,
                                                      threads);
                                       })
              ->Unit(benchmark::kMillisecond)
              ->UseManualTime();
        };
        add("arena", Path::arena);
        add("external", Path::external);
        add("external_malloc", Path::external_malloc);
        add_paired("external", Path::external);
        add_paired("external_malloc", Path::external_malloc);
        if (w.clip) {
          add("clip_then_step", Path::clip_then_step);
          add("clip_and_step", Path::clip_and_step);
          add_paired("clip_then_step", Path::clip_then_step);
          add_paired("clip_and_step", Path::clip_and_step);
          add_paired("norm", Path::norm);
          add_paired("read_pattern", Path::read_pattern);
        }
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
