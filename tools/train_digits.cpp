// train_digits: the demo trainer. An MLP learns the UCI handwritten digits with the optimizer
// and lr scheduler that build_optimizer and build_scheduler make from a YAML config; the model's
// parameters and gradients live in the optimizer's arenas.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "digits/dataset.hpp"
#include "digits/mlp.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/build_scheduler.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/lr_scheduler/swa_lr.hpp"
#include "simdoptim/version.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kTestFraction = 0.2;
constexpr int kExitUsage = 2;
constexpr int kExitLossDidNotDecrease = 3;

struct Options {
  std::string config = SIMDOPTIM_SOURCE_DIR "/tools/configs/digits.yaml";
  std::string data = SIMDOPTIM_SOURCE_DIR "/tools/data/digits.csv";
  int epochs = 0;  // 0: TRAIN.EPOCHS
  std::vector<int> hidden = {128};
  int threads = 0;
  bool quiet = false;
  bool print_config = false;
  bool expect_loss_decrease = false;
  bool keep_subnormal_state = false;
  // Storage overrides of TRAIN.OPTIMIZER (empty / false: the config's).
  std::string param_dtype;
  std::string grad_dtype;
  std::string state_dtype;
  bool master_weights = false;
  bool stochastic_rounding = false;
};

const char* const kUsage =
    "usage: train_digits [options]\n"
    "  --config PATH            training config (default tools/configs/digits.yaml)\n"
    "  --data PATH              digits CSV (default tools/data/digits.csv)\n"
    "  --epochs N               override TRAIN.EPOCHS (more than TRAIN.WARMUP_EPOCHS)\n"
    "  --hidden N[,N...]        hidden layer widths (default 128)\n"
    "  --threads N              optimizer threads (default: all cores)\n"
    "  --print-config           print the resolved config and exit\n"
    "  --quiet                  no per-epoch lines, only the summary\n"
    "  --expect-loss-decrease   exit 3 unless the training loss went down (for tests)\n"
    "  --keep-subnormal-state   do not flush subnormal optimizer state (torch's arithmetic)\n"
    "  --param-dtype D, --grad-dtype D, --state-dtype D\n"
    "                           storage of parameters, gradients, optimizer state (f32, bf16,\n"
    "                           f16, ...: docs/precision.md); override TRAIN.OPTIMIZER's\n"
    "  --master-weights         fp32 master weights for 16-bit parameters\n"
    "  --stochastic-rounding    bf16 parameters rounded stochastically\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_int(const std::string& flag, const std::string& text, int min) {
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || used == 0 || value < min) {
    throw UsageError(flag + " expects an integer >= " + std::to_string(min) + ", got '" + text +
                     "'");
  }
  return value;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--config") {
      o.config = value();
    } else if (arg == "--data") {
      o.data = value();
    } else if (arg == "--epochs") {
      o.epochs = parse_int(arg, value(), 1);
    } else if (arg == "--threads") {
      o.threads = parse_int(arg, value(), 1);
    } else if (arg == "--hidden") {
      o.hidden.clear();
      const std::string list = value();
      for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        o.hidden.push_back(parse_int(arg, list.substr(start, comma - start), 1));
        start = comma + 1;
      }
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--param-dtype") {
      o.param_dtype = value();
    } else if (arg == "--grad-dtype") {
      o.grad_dtype = value();
    } else if (arg == "--state-dtype") {
      o.state_dtype = value();
    } else if (arg == "--master-weights") {
      o.master_weights = true;
    } else if (arg == "--stochastic-rounding") {
      o.stochastic_rounding = true;
    } else if (arg == "--keep-subnormal-state") {
      o.keep_subnormal_state = true;
    } else if (arg == "--print-config") {
      o.print_config = true;
    } else if (arg == "--expect-loss-decrease") {
      o.expect_loss_decrease = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  return o;
}

/// "2.00e-03", or "1.00e-04..2.00e-03" when the groups' lrs differ. Read from the groups every
/// time, so whatever changes them (a scheduler) shows here.
std::string lr_text(const simdoptim::Optimizer& optimizer) {
  double lo = optimizer.param_groups().front().lr();
  double hi = lo;
  for (const simdoptim::ParamGroup& g : optimizer.param_groups()) {
    lo = std::min(lo, g.lr());
    hi = std::max(hi, g.lr());
  }
  char buf[64];
  if (lo == hi) {
    std::snprintf(buf, sizeof buf, "%.2e", lo);
  } else {
    std::snprintf(buf, sizeof buf, "%.2e..%.2e", lo, hi);
  }
  return buf;
}

void draw_bar(int epoch, int epochs, std::size_t done, std::size_t total, double loss) {
  constexpr std::size_t kWidth = 24;
  const std::size_t filled = done * kWidth / total;
  std::printf("\repoch %3d/%d [%s%s] %zu/%zu loss %.4f", epoch, epochs,
              std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), done,
              total, loss);
  std::fflush(stdout);
}

int run(const Options& opts) {
  simdoptim::Config config = simdoptim::load_config(opts.config);
  if (opts.epochs > 0) config.train.epochs = opts.epochs;
  simdoptim::OptimizerConfig& oc = config.train.optimizer;
  // The names go to build_optimizer as the YAML keys' would: the library's parser judges them.
  if (!opts.param_dtype.empty()) oc.param_dtype = opts.param_dtype;
  if (!opts.grad_dtype.empty()) oc.grad_dtype = opts.grad_dtype;
  if (!opts.state_dtype.empty()) oc.state_dtype = opts.state_dtype;
  oc.master_weights = oc.master_weights || opts.master_weights;
  oc.stochastic_rounding = oc.stochastic_rounding || opts.stochastic_rounding;
  if (opts.print_config) {
    std::fputs(simdoptim::dump_config(config).c_str(), stdout);
    return 0;
  }
  const digits::Dataset all = digits::load_csv(opts.data);
  const auto seed = static_cast<std::uint64_t>(config.seed);
  const digits::Split data = digits::split(all, kTestFraction, seed);

  std::vector<int> widths = {static_cast<int>(digits::Dataset::kFeatures)};
  widths.insert(widths.end(), opts.hidden.begin(), opts.hidden.end());
  widths.push_back(digits::Dataset::kClasses);
  digits::Mlp model(widths);
  const simdoptim::ModelSpec spec = model.spec();
  simdoptim::RuntimeOptions runtime;
  runtime.num_threads = opts.threads;
  const std::unique_ptr<simdoptim::Optimizer> optimizer =
      simdoptim::build_optimizer(config, spec, runtime);
  model.bind(*optimizer, seed);
  if (opts.keep_subnormal_state) optimizer->set_flush_subnormal_state(false);
  const auto batch_size = static_cast<std::size_t>(config.data.batch_size);
  const std::size_t batches = (data.train.size() + batch_size - 1) / batch_size;
  // Stepped after every optimizer step (per iteration, as the recipe); it writes each group's lr,
  // which step() and the epoch lines read from the groups.
  std::unique_ptr<simdoptim::Scheduler> scheduler =
      simdoptim::build_scheduler(config, *optimizer, static_cast<std::int64_t>(batches));
  // TRAIN.MODEL_EMA / SWA_START: the average starts from the initial weights bind() wrote.
  optimizer->set_averaging(
      simdoptim::averaging_options(config, static_cast<std::int64_t>(batches)));
  const bool averaging = optimizer->averaging().mode != simdoptim::AveragingOptions::Mode::none;
  const char* average_name =
      optimizer->averaging().mode == simdoptim::AveragingOptions::Mode::ema ? "ema" : "swa";
  // The accuracy of the averaged weights: swapped in for the evaluation, then back.
  auto evaluate_average = [&](const digits::Dataset& set) {
    optimizer->swap_averaged_params();
    const digits::Score score = model.evaluate(set);
    optimizer->swap_averaged_params();
    return score;
  };

  std::string arch = std::to_string(widths.front());
  for (std::size_t i = 1; i < widths.size(); ++i) {
    arch += '-';
    arch += std::to_string(widths[i]);
  }
  const std::size_t numel = spec.trainable_numel();
  std::printf("simdoptim %s train_digits: MLP %s (%zu params), %zu train / %zu test digits\n",
              simdoptim::version(), arch.c_str(), numel, data.train.size(), data.test.size());
  std::printf(
      "config %s: %s, lr %g, weight decay %g, batch %d, epochs %d, clip %g; %s x%d\n"
      "scheduler %s (%s): %d warmup epochs from %g, min lr %g, %zu steps per epoch\n",
      opts.config.c_str(), optimizer->name().data(), config.train.base_lr,
      config.train.weight_decay, config.data.batch_size, config.train.epochs,
      config.train.clip_grad, simdoptim::isa_name(optimizer->isa()), optimizer->num_threads(),
      config.train.lr_scheduler.name.c_str(), scheduler->name().data(), config.train.warmup_epochs,
      config.train.warmup_lr, config.train.min_lr, batches);

  std::printf("storage: params %s, grads %s, state %s%s%s\n", oc.param_dtype.c_str(),
              oc.grad_dtype.c_str(), oc.state_dtype.c_str(),
              oc.master_weights ? ", fp32 master weights" : "",
              oc.stochastic_rounding ? ", stochastic rounding" : "");

  const double initial_loss = model.evaluate(data.train).mean_loss();
  const bool tty = !opts.quiet && isatty(fileno(stdout)) != 0;
  std::mt19937_64 rng(seed + 1);
  Clock::duration step_time{};
  std::size_t steps = 0;
  std::vector<double> epoch_step_us;  // mean step time of each epoch
  const Clock::time_point start = Clock::now();

  for (int epoch = 1; epoch <= config.train.epochs; ++epoch) {
    // After SWA_START epochs, SWALR anneals to SWA_LR over one epoch (stepped per iteration).
    if (config.train.swa_start > 0 && epoch == config.train.swa_start + 1)
      scheduler = std::make_unique<simdoptim::SWALR>(
          *optimizer, std::vector<double>{config.train.swa_lr}, static_cast<std::int64_t>(batches));
    const std::vector<std::size_t> order = digits::permutation(data.train.size(), rng);
    digits::Score train;
    const std::string epoch_lr = lr_text(*optimizer);  // the lr of the epoch's first step
    const Clock::duration epoch_step_time_before = step_time;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch_size;
      const std::size_t rows = std::min(batch_size, order.size() - first);
      optimizer->zero_grad();
      const digits::Score s = model.train_batch(data.train, std::span(order).subspan(first, rows));
      if (config.train.clip_grad > 0.0) model.clip_grad_norm(config.train.clip_grad);
      const Clock::time_point t0 = Clock::now();
      optimizer->step();
      step_time += Clock::now() - t0;
      scheduler->step();
      ++steps;
      train.loss_sum += s.loss_sum;
      train.correct += s.correct;
      train.count += s.count;
      if (tty) draw_bar(epoch, config.train.epochs, b + 1, batches, train.mean_loss());
    }
    const double us =
        std::chrono::duration<double, std::micro>(step_time - epoch_step_time_before).count() /
        static_cast<double>(batches);
    epoch_step_us.push_back(us);
    if (opts.quiet) continue;
    const digits::Score test = model.evaluate(data.test);
    char average_acc[48] = "";
    // Before its first update (SWA before SWA_START) the average is only the initial weights.
    if (averaging && optimizer->n_averaged() > 0)
      std::snprintf(average_acc, sizeof average_acc, "  %s acc %5.1f%%", average_name,
                    100.0 * evaluate_average(data.test).accuracy());
    std::printf(
        "%sepoch %3d/%d  loss %.4f  train acc %5.1f%%  test loss %.4f  acc %5.1f%%%s  "
        "lr %s  step %.1f us (%.2f Gparam/s)\n",
        tty ? "\r\033[K" : "", epoch, config.train.epochs, train.mean_loss(),
        100.0 * train.accuracy(), test.mean_loss(), 100.0 * test.accuracy(), average_acc,
        epoch_lr.c_str(), us, static_cast<double>(numel) / us * 1e-3);
  }

  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double step_us =
      std::chrono::duration<double, std::micro>(step_time).count() / static_cast<double>(steps);
  const double final_loss = model.evaluate(data.train).mean_loss();
  const digits::Score test = model.evaluate(data.test);
  std::printf(
      "done: test accuracy %.1f%% (%zu/%zu), train loss %.4f -> %.4f, %.2f s; "
      "optimizer step %.1f us = %.2f Gparam/s over %zu steps\n",
      100.0 * test.accuracy(), test.correct, test.count, initial_loss, final_loss, seconds, step_us,
      static_cast<double>(numel) / step_us * 1e-3, steps);
  if (averaging && optimizer->n_averaged() > 0) {
    const digits::Score avg = evaluate_average(data.test);
    std::printf("%s weights: test accuracy %.1f%% (%zu/%zu), %lld averaging updates\n",
                average_name, 100.0 * avg.accuracy(), avg.correct, avg.count,
                static_cast<long long>(optimizer->n_averaged()));
  }
  // Late training is where decayed optimizer state turns subnormal: compare the median step time
  // of the last quarter of the epochs with the first quarter's.
  if (epoch_step_us.size() >= 4) {
    const std::size_t quarter = epoch_step_us.size() / 4;
    auto median = [](std::vector<double> v) {
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const double early = median({epoch_step_us.begin(), epoch_step_us.begin() + quarter});
    const double late = median({epoch_step_us.end() - quarter, epoch_step_us.end()});
    std::printf("step time: early epochs %.1f us, late epochs %.1f us (late/early %.2f)%s\n", early,
                late, late / early,
                !optimizer->flush_subnormal_state() ? ", subnormal state kept" : "");
  }
  if (opts.expect_loss_decrease && !(final_loss < initial_loss)) {
    std::fprintf(stderr, "train_digits: the training loss did not decrease (%.6f -> %.6f)\n",
                 initial_loss, final_loss);
    return kExitLossDidNotDecrease;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "train_digits: %s\n%s", e.what(), kUsage);
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_digits: error: %s\n", e.what());
    return 1;
  }
}
