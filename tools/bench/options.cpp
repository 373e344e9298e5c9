#include "bench/options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/size.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/version.hpp"

namespace simdoptim::bench {
namespace {

constexpr std::size_t kDefaultFlatNumel = std::size_t{1} << 26;

std::vector<std::string> split(const std::string& text, char sep = ',') {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

double parse_number(const std::string& what, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(what + ": '" + text + "' is not a number");
}

// Levenshtein distance, for "did you mean" on a mistyped option name.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The option names of the optimizers in `opts`, each once, in registry order.
std::vector<std::string> option_names(const std::vector<std::string>& opts) {
  std::vector<std::string> names;
  for (const std::string& opt : opts)
    for (const OptionInfo& info : optimizer_options(opt))
      if (std::find(names.begin(), names.end(), info.name) == names.end())
        names.push_back(info.name);
  return names;
}

// The message for an option that no selected optimizer has. `flag` is what the user typed
// ("--betas", "--set weight_decy"): a library option name for --set, a flag otherwise.
std::string not_applicable(const std::string& flag, const std::string& key,
                           const std::vector<std::string>& opts) {
  const std::string target = opts.size() == 1 ? opts[0] : "any of " + join_names(opts);
  const std::vector<std::string> valid = option_names(opts);
  const std::vector<std::string> known = option_names(registered_optimizers());
  const bool by_set = flag.rfind("--set", 0) == 0;
  if (by_set && std::find(known.begin(), known.end(), key) == known.end()) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
    for (const std::string& name : valid) {
      const std::size_t d = edit_distance(key, name);
      if (d < best_distance) {
        best = name;
        best_distance = d;
      }
    }
    return "--set: unknown option '" + key + "' for " + join_names(opts) +
           (best.empty() ? (opts.size() == 1 ? " (its options: " : " (their options: ") +
                               join_names(valid) + ")"
                         : "; did you mean '" + best + "'?");
  }
  return flag + " does not apply to " + target + " (" + (opts.size() == 1 ? "its" : "their") +
         " options: " + join_names(valid) + ")";
}

std::vector<Isa> parse_isas(const std::vector<std::string>& names) {
  std::vector<Isa> out;
  for (const std::string& name : names) {
    if (name == "all") {
      for (Isa isa : supported_isas()) out.push_back(isa);
      continue;
    }
    const Isa isa = parse_isa(name);
    if (!isa_supported(isa)) {
      std::string list;
      for (Isa s : supported_isas()) list += std::string(list.empty() ? "" : ", ") + isa_name(s);
      throw std::invalid_argument(
          "instruction set '" + name +
          "' is not supported by this machine or build (supported: " + list + ")");
    }
    out.push_back(isa);
  }
  return out;
}

std::vector<int> parse_threads(const std::vector<std::string>& items) {
  std::vector<int> out;
  for (const std::string& item : items) {
    const double v = parse_number("--threads", item);
    if (v < 1 || v > 4096 || v != static_cast<int>(v))
      throw std::invalid_argument("--threads: '" + item + "' is not a thread count >= 1");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

template <class T>
void dedupe(std::vector<T>& v) {
  std::vector<T> out;
  for (const T& x : v)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  v = std::move(out);
}

}  // namespace

std::optional<BenchOptions> parse_options(int argc, char** argv) {
  CLI::App app{
      "simdoptim-bench: times simdoptim optimizer steps against two references measured in the "
      "same run, the memory-only kernel with the same access pattern (the roofline) and the "
      "scalar reference build. Without arguments: a quick roofline report for Adam, AdamW and "
      "SGD (momentum 0.9) on ResNet-50 and on a flat 2^26-element tensor.",
      "simdoptim-bench"};
  app.set_version_flag("--version", std::string("simdoptim-bench ") + version());
  app.option_defaults()->delimiter(',');
  std::vector<std::string> numels, specs, models, opts, isas, thread_items, sets;
  std::string config_path, betas;
  std::optional<double> lr, weight_decay, momentum, dampening, eps;
  bool amsgrad = false, nesterov = false, maximize = false, no_scalar = false;
  bool decayed = false, keep_subnormal = false, master_weights = false, stochastic = false;
  std::string param_dtype = "f32", grad_dtype = "f32", state_dtype = "f32";
  BenchOptions o;

  auto* g_work = "Workload";
  app.add_option("--numel", numels, "Flat tensor sizes: 1000, 64K, 64M, 1G (binary), 2^26")
      ->group(g_work);
  app.add_option("--spec", specs, "Model spec files (docs/model_spec.md)")->group(g_work);
  app.add_option("--model", models, "Built-in model shapes: resnet50")->group(g_work);
  app.add_flag("--decayed", decayed,
               "Also run each workload with decayed state, as late in training: state values "
               "1e-39 (subnormal), 99% of the gradients zero")
      ->group(g_work);

  auto* g_opt = "Optimizer";
  std::string opt_help = "Optimizers:";
  for (const std::string& n : bench_optimizer_names()) opt_help += " " + n;
  app.add_option("--opt", opts, opt_help + " (default: adam,adamw,sgd)")->group(g_opt);
  app.add_option("--config", config_path,
                 "Training config (YAML, docs/config.md): build_optimizer's optimizer and groups")
      ->group(g_opt);
  app.add_option("--lr", lr, "Learning rate")->group(g_opt);
  app.add_option("--weight-decay", weight_decay, "Weight decay")->group(g_opt);
  app.add_option("--momentum", momentum, "SGD momentum (the default run uses 0.9)")->group(g_opt);
  app.add_option("--dampening", dampening, "SGD dampening")->group(g_opt);
  app.add_option("--betas", betas, "Adam betas: B1,B2")->delimiter('\0')->group(g_opt);
  app.add_option("--eps", eps, "Adam epsilon")->group(g_opt);
  app.add_flag("--amsgrad", amsgrad, "Adam/AdamW amsgrad")->group(g_opt);
  app.add_flag("--nesterov", nesterov, "SGD Nesterov momentum")->group(g_opt);
  app.add_flag("--maximize", maximize, "Maximize instead of minimize")->group(g_opt);
  app.add_flag("--keep-subnormal-state", keep_subnormal,
               "Keep subnormal state values (torch's arithmetic) instead of flushing them to zero")
      ->group(g_opt);
  app.add_option("--set", sets, "Any group option: KEY=VALUE (repeatable)")->group(g_opt);
  app.add_option("--param-dtype", param_dtype,
                 "Parameter storage: f32, bf16, f16 (docs/precision.md)")
      ->group(g_opt);
  app.add_option("--grad-dtype", grad_dtype, "Gradient storage: f32, bf16, f16")->group(g_opt);
  app.add_option("--state-dtype", state_dtype,
                 "Optimizer state storage: f32, bf16, q8 (8-bit block-quantized)")
      ->group(g_opt);
  app.add_flag("--master-weights", master_weights,
               "fp32 master weights for 16-bit parameters, the copy written in the same pass")
      ->group(g_opt);
  app.add_flag("--stochastic-rounding", stochastic,
               "bf16 parameters rounded stochastically (no master weights)")
      ->group(g_opt);

  auto* g_run = "Run";
  app.add_option("--isa", isas, "Instruction sets, or 'all' (default: the selected one)")
      ->group(g_run);
  app.add_option("--threads", thread_items, "Thread counts (default: 1 and all cores)")
      ->group(g_run);
  app.add_option("--warmup", o.timing.warmup,
                 "Untimed steps before the first sample (the last one calibrates the sample "
                 "length)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str()
      ->group(g_run);
  app.add_option("--reps", o.timing.reps, "Timed samples per subject")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group(g_run);
  app.add_option("--scalar-reps", o.timing.scalar_reps, "Timed samples of the scalar reference")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str()
      ->group(g_run);
  app.add_option("--rounds", o.timing.rounds,
                 "Interleaved rounds the samples are taken in; 0: one per sample when a step "
                 "moves more than 64 MiB, else 2")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str()
      ->group(g_run);
  app.add_option("--min-sample-ms", o.timing.min_sample_ms,
                 "Each sample runs enough steps to last this long")
      ->check(CLI::Range(0.001, 60000.0))
      ->capture_default_str()
      ->group(g_run);
  app.add_flag("--no-scalar", no_scalar, "Skip the scalar reference (faster)")->group(g_run);

  auto* g_out = "Output";
  app.add_option("--json", o.json_path, "Write every sample and the machine description")
      ->group(g_out);
  app.add_option("--csv", o.csv_path, "Write one row per sample")->group(g_out);
  app.add_flag("--quiet,-q", o.quiet, "No progress lines on stderr")->group(g_out);
  app.add_option("--noisy-above", o.noisy_spread,
                 "Warn about a measurement whose samples' interquartile range exceeds this "
                 "fraction of their median, for ours or a reference")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str()
      ->group(g_out);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw std::invalid_argument(e.what());
  }
  o.timing.scalar_reference = !no_scalar;

  // Option overrides, in the library's group-option names, each with the flag that set it so
  // that an error names what the user typed (--betas, not beta1).
  GroupOptions overrides;
  std::map<std::string, std::string> flag_of;
  const auto set = [&](const std::string& key, double value, const std::string& flag) {
    overrides.set(key, value);
    flag_of[key] = flag;
  };
  if (lr) set("lr", *lr, "--lr");
  if (weight_decay) set("weight_decay", *weight_decay, "--weight-decay");
  if (momentum) set("momentum", *momentum, "--momentum");
  if (dampening) set("dampening", *dampening, "--dampening");
  if (eps) set("eps", *eps, "--eps");
  if (amsgrad) set("amsgrad", 1, "--amsgrad");
  if (nesterov) set("nesterov", 1, "--nesterov");
  if (maximize) set("maximize", 1, "--maximize");
  if (!betas.empty()) {
    const auto parts = split(betas);
    if (parts.size() != 2)
      throw std::invalid_argument("--betas: expected B1,B2, got '" + betas + "'");
    set("beta1", parse_number("--betas", parts[0]), "--betas");
    set("beta2", parse_number("--betas", parts[1]), "--betas");
  }
  for (const std::string& kv : sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--set: expected KEY=VALUE, got '" + kv + "'");
    const std::string key = kv.substr(0, eq);
    set(key, parse_number("--set " + key, kv.substr(eq + 1)), "--set " + key);
  }

  o.default_run = numels.empty() && specs.empty() && models.empty() && opts.empty() &&
                  config_path.empty() && overrides.items().empty();

  // Optimizers: a config, or names with the overrides (each option must apply to at least one).
  if (!config_path.empty()) {
    if (!opts.empty() || !overrides.items().empty())
      throw std::invalid_argument(
          "--config sets the optimizer and its options; do not combine it with --opt or option "
          "flags");
    o.recipes.push_back({"", {}, load_config(config_path), config_path});
  } else {
    const bool default_opts = opts.empty();
    if (default_opts) opts = {"adam", "adamw", "sgd"};
    dedupe(opts);
    for (const std::string& name : opts) {
      check_optimizer_name(name);
      OptimizerRecipe recipe{name, {}, std::nullopt, ""};
      const GroupOptions defaults = optimizer_defaults(name);
      for (const auto& [key, value] : overrides.items())
        if (defaults.contains(key)) recipe.overrides.set(key, value);
      if (default_opts && name == "sgd" && !momentum) recipe.overrides.set("momentum", 0.9);
      o.recipes.push_back(std::move(recipe));
    }
    for (const auto& item : overrides.items()) {
      const bool used = std::any_of(o.recipes.begin(), o.recipes.end(), [&](const auto& r) {
        return r.overrides.contains(item.first);
      });
      if (!used) throw std::invalid_argument(not_applicable(flag_of[item.first], item.first, opts));
    }
  }

  // Workloads, in the order given; the default pair when none is.
  for (const std::string& m : models) {
    if (m != "resnet50")
      throw std::invalid_argument("--model: unknown built-in model '" + m + "' (valid: resnet50)");
  }
  if (!models.empty()) o.workloads.push_back(resnet50_workload());
  for (const std::string& path : specs) o.workloads.push_back(spec_workload(path));
  std::vector<std::size_t> sizes;
  for (const std::string& n : numels) sizes.push_back(parse_size(n));
  dedupe(sizes);
  for (std::size_t n : sizes) o.workloads.push_back(flat_workload(n));
  if (o.workloads.empty()) {
    o.workloads.push_back(resnet50_workload());
    o.workloads.push_back(flat_workload(kDefaultFlatNumel));
  }

  if (decayed) {
    std::vector<Workload> both;
    for (Workload& w : o.workloads) {
      both.push_back(w);
      both.push_back(decayed_workload(std::move(w)));
    }
    o.workloads = std::move(both);
  }
  for (OptimizerRecipe& r : o.recipes) r.keep_subnormal_state = keep_subnormal;
  auto dtype = [](const std::string& flag, const std::string& name) {
    try {
      return parse_dtype(name);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(flag + ": " + e.what());
    }
  };
  const StorageOptions storage{.param = dtype("--param-dtype", param_dtype),
                               .grad = dtype("--grad-dtype", grad_dtype),
                               .state = dtype("--state-dtype", state_dtype),
                               .master_weights = master_weights,
                               .stochastic_rounding = stochastic};
  if (!storage.is_default()) {
    if (!config_path.empty())
      throw std::invalid_argument(
          "--config sets the storage (TRAIN.OPTIMIZER.*_DTYPE); do not combine it with "
          "--param-dtype, --grad-dtype, --state-dtype, --master-weights or "
          "--stochastic-rounding");
    storage.validate();
    for (OptimizerRecipe& r : o.recipes) r.storage = storage;
  }

  o.isas = isas.empty() ? std::vector<Isa>{default_isa()} : parse_isas(isas);
  dedupe(o.isas);
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  o.threads = thread_items.empty() ? std::vector<int>{1, cores} : parse_threads(thread_items);
  dedupe(o.threads);
  return o;
}

}  // namespace simdoptim::bench
