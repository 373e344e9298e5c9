// Weight averaging: mode and options, the decay per step, the averages' storage and the swap.
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "capi/handles.hpp"

namespace capi = simdoptim::capi;
using simdoptim::AveragingOptions;

namespace {

AveragingOptions::Mode mode_of(const char* mode) {
  const std::string_view m = mode;
  if (m == "none") return AveragingOptions::Mode::none;
  if (m == "ema") return AveragingOptions::Mode::ema;
  if (m == "swa") return AveragingOptions::Mode::swa;
  if (m == "lookahead") return AveragingOptions::Mode::lookahead;
  throw std::invalid_argument("unknown averaging mode '" + std::string(m) +
                              "' (valid: none, ema, swa, lookahead)");
}

// A count option: a whole number (the C++ checks the range).
std::int64_t count_of(std::string_view key, double value) {
  if (!(std::isfinite(value) && value == std::floor(value) && std::fabs(value) <= 0x1p53))
    throw std::invalid_argument("averaging option '" + std::string(key) +
                                "' = " + std::to_string(value) + " is not a whole number");
  return static_cast<std::int64_t>(value);
}

bool flag_of(std::string_view key, double value) {
  if (value != 0.0 && value != 1.0)
    throw std::invalid_argument("averaging option '" + std::string(key) +
                                "' = " + std::to_string(value) + " is not 0 or 1");
  return value == 1.0;
}

// A simdoptim_dtype given as an option value.
simdoptim::DType dtype_of(std::string_view key, double value) {
  if (value == static_cast<double>(SIMDOPTIM_F32)) return simdoptim::DType::f32;
  if (value == static_cast<double>(SIMDOPTIM_BF16)) return simdoptim::DType::bf16;
  if (value == static_cast<double>(SIMDOPTIM_F16)) return simdoptim::DType::f16;
  throw std::invalid_argument("averaging option '" + std::string(key) +
                              "' = " + std::to_string(value) +
                              " is not SIMDOPTIM_F32, SIMDOPTIM_BF16 or SIMDOPTIM_F16");
}

// Parameter `index`'s average, which must be 16-bit (`half`) or fp32.
simdoptim::TensorView averaged_view(simdoptim_optimizer* optimizer, std::size_t index, bool half) {
  const auto [g, i] = capi::locate(optimizer, index);
  const simdoptim::TensorView v = optimizer->optimizer->param_groups()[g].averaged_param(i);
  if ((v.dtype != simdoptim::DType::f32) != half)
    throw capi::Error(SIMDOPTIM_ERROR_UNSUPPORTED,
                      "the average of parameter '" + std::string(v.name) + "' is " +
                          simdoptim::dtype_name(v.dtype) +
                          ": use simdoptim_optimizer_averaged_data" + (half ? "" : "16"));
  return v;
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_optimizer_set_averaging(simdoptim_optimizer* optimizer, const char* mode,
                                                   const simdoptim_option* options,
                                                   size_t num_options) {
  return capi::guard(__func__, [&] {
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(mode, "mode");
    if (num_options > 0) capi::require(options, "options");
    AveragingOptions a;
    a.mode = mode_of(mode);
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < num_options; ++i) {
      capi::require(options[i].key, "options[i].key");
      const std::string_view key = options[i].key;
      const double v = options[i].value;
      if (!seen.insert(key).second)
        throw std::invalid_argument("averaging option '" + std::string(key) + "' given twice");
      if (key == "decay")
        a.decay = v;
      else if (key == "warmup")
        a.warmup = flag_of(key, v);
      else if (key == "start")
        a.start = count_of(key, v);
      else if (key == "every")
        a.every = count_of(key, v);
      else if (key == "alpha")
        a.alpha = v;
      else if (key == "k")
        a.k = count_of(key, v);
      else if (key == "fused")
        a.fused = flag_of(key, v);
      else if (key == "dtype")
        a.dtype = dtype_of(key, v);
      else if (key == "v3")
        a.v3.enabled = flag_of(key, v);
      else if (key == "update_after_step")
        a.v3.update_after_step = count_of(key, v);
      else if (key == "gamma")
        a.v3.gamma = v;
      else if (key == "power")
        a.v3.power = v;
      else if (key == "min_decay")
        a.v3.min_decay = v;
      else
        throw std::invalid_argument(
            "unknown averaging option '" + std::string(key) +
            "' (valid: decay, warmup, start, every, alpha, k, fused, dtype, v3, "
            "update_after_step, gamma, power, min_decay)");
    }
    opt.set_averaging(a);
  });
}

simdoptim_status simdoptim_optimizer_set_averaging_decay(simdoptim_optimizer* optimizer,
                                                         double decay) {
  return capi::guard(__func__, [&] { capi::optimizer_of(optimizer).set_averaging_decay(decay); });
}

simdoptim_status simdoptim_optimizer_n_averaged(const simdoptim_optimizer* optimizer,
                                                int64_t* count) {
  return capi::guard(__func__, [&] {
    const simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    capi::require(count, "count");
    *count = opt.n_averaged();
  });
}

simdoptim_status simdoptim_optimizer_averaged_data(simdoptim_optimizer* optimizer, size_t index,
                                                   float** data, size_t* numel) {
  return capi::guard(__func__, [&] {
    capi::require(data, "data");
    capi::require(numel, "numel");
    const simdoptim::TensorView v = averaged_view(optimizer, index, false);
    *data = v.data.data();
    *numel = v.data.size();
  });
}

simdoptim_status simdoptim_optimizer_averaged_data16(simdoptim_optimizer* optimizer, size_t index,
                                                     uint16_t** data, size_t* numel) {
  return capi::guard(__func__, [&] {
    capi::require(data, "data");
    capi::require(numel, "numel");
    const simdoptim::TensorView v = averaged_view(optimizer, index, true);
    *data = v.data16.data();
    *numel = v.data16.size();
  });
}

simdoptim_status simdoptim_optimizer_swap_averaged_params(simdoptim_optimizer* optimizer) {
  return capi::guard(__func__, [&] { capi::optimizer_of(optimizer).swap_averaged_params(); });
}

}  // extern "C"
