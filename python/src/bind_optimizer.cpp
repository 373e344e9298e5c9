// simdoptim.Optimizer: any optimizer of the library, its groups and zero-copy numpy views of its
// arenas.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capi/optimizer_registry.hpp"
#include "module.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/clip_grad.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/model_spec.hpp"
#include "simdoptim/optimizer.hpp"

namespace py = pybind11;

namespace simdoptim::python {
namespace {

RuntimeOptions runtime_of(const std::optional<std::string>& isa, int num_threads) {
  RuntimeOptions r;
  if (isa && !isa->empty()) {
    r.isa = parse_isa(*isa);
    if (!isa_supported(*r.isa))
      throw std::invalid_argument("instruction set '" + *isa +
                                  "' is not supported on this machine");
  }
  if (num_threads < 0) throw std::invalid_argument("num_threads must be >= 0");
  r.num_threads = num_threads;
  return r;
}

// (name, shape) pairs -> ParamSpec.
std::vector<ParamSpec> specs_of(const std::vector<std::pair<std::string, Shape>>& params) {
  std::vector<ParamSpec> specs;
  specs.reserve(params.size());
  for (const auto& [name, shape] : params) specs.push_back(ParamSpec{name, shape, {}});
  return specs;
}

// torch's pair arguments and the two options each stands for (as simdoptim.torch).
constexpr std::pair<std::string_view, std::pair<const char*, const char*>> kPairKeys[] = {
    {"betas", {"beta1", "beta2"}},
    {"etas", {"etaminus", "etaplus"}},
    {"step_sizes", {"step_size_min", "step_size_max"}}};

GroupOptions options_of(const py::dict& options) {
  GroupOptions o;
  for (const auto& [key, value] : options) {
    const std::string k = key.cast<std::string>();
    const auto pair = std::find_if(std::begin(kPairKeys), std::end(kPairKeys),
                                   [&](const auto& p) { return p.first == k; });
    if (pair == std::end(kPairKeys)) {
      o.set(k, value.cast<double>());
      continue;
    }
    const auto values = value.cast<std::vector<double>>();
    if (values.size() != 2)
      throw std::invalid_argument("option '" + k + "' takes 2 values, got " +
                                  std::to_string(values.size()));
    o.set(pair->second.first, values[0]);
    o.set(pair->second.second, values[1]);
  }
  return o;
}

py::dict dict_of(const GroupOptions& options) {
  py::dict d;
  for (const auto& [key, value] : options.items()) d[py::str(key)] = value;
  return d;
}

ParamGroup& group_at(Optimizer& opt, std::size_t g) {
  if (g >= opt.param_groups().size())
    throw py::index_error("group index " + std::to_string(g) + " out of range (" +
                          std::to_string(opt.param_groups().size()) + " groups)");
  return opt.param_groups()[g];
}

const TensorInfo& info_at(ParamGroup& group, std::size_t i) {
  if (i >= group.size())
    throw py::index_error("tensor index " + std::to_string(i) + " out of range (" +
                          std::to_string(group.size()) + " tensors)");
  return group.info(i);
}

// A numpy array of T over `data` with `shape`, keeping `owner` (the Python optimizer) alive.
template <class T>
py::array_t<T> view(T* data, const Shape& shape, const py::object& owner) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  std::vector<py::ssize_t> strides(dims.size());
  py::ssize_t stride = sizeof(T);
  for (std::size_t k = dims.size(); k-- > 0;) {
    strides[k] = stride;
    stride *= std::max<py::ssize_t>(dims[k], 1);
  }
  return py::array_t<T>(dims, strides, data, owner);
}

// The tensor of `v` as a numpy view: float32, or uint16 holding bf16/fp16 bits (torch:
// torch.from_numpy(a).view(torch.bfloat16)), or uint8 holding q8 state's codes (state_dict()
// gives their values).
py::array view(const TensorView& v, const py::object& owner) {
  const Shape shape(v.shape.begin(), v.shape.end());
  if (v.dtype == DType::f32) return view(v.data.data(), shape, owner);
  if (v.dtype == DType::q8) return view(v.data8.data(), shape, owner);
  return view(v.data16.data(), shape, owner);
}

// StorageOptions from a dict: param_dtype, grad_dtype, state_dtype ("f32", "bf16", "f16", "q8"),
// master_weights, stochastic_rounding (bools), seed (int).
StorageOptions storage_of(const py::dict& d) {
  StorageOptions s;
  for (const auto& [key, value] : d) {
    const std::string k = py::str(key);
    if (k == "param_dtype")
      s.param = parse_dtype(value.cast<std::string>());
    else if (k == "grad_dtype")
      s.grad = parse_dtype(value.cast<std::string>());
    else if (k == "state_dtype")
      s.state = parse_dtype(value.cast<std::string>());
    else if (k == "master_weights")
      s.master_weights = value.cast<bool>();
    else if (k == "stochastic_rounding")
      s.stochastic_rounding = value.cast<bool>();
    else if (k == "seed")
      s.seed = value.cast<std::uint64_t>();
    else
      throw std::invalid_argument("unknown storage key '" + k +
                                  "' (valid: param_dtype, grad_dtype, state_dtype, "
                                  "master_weights, stochastic_rounding, seed)");
  }
  return s;
}

// The engine gradient pointers of a Python call: None (the arenas'), or one entry per tensor of
// every group: None (no gradient), a float32 C-contiguous array of the tensor's size, or an
// address (int, e.g. torch's data_ptr()) of its numel contiguous float32 values.
std::vector<const float*> grad_pointers(Optimizer& o, const py::object& grads) {
  std::vector<const float*> out;
  if (grads.is_none()) return out;
  std::vector<std::size_t> numels;
  for (ParamGroup& g : o.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) numels.push_back(g.info(i).numel);
  const auto items = grads.cast<py::sequence>();
  if (items.size() != numels.size())
    throw std::invalid_argument("grads: " + std::to_string(items.size()) + " entries for " +
                                std::to_string(numels.size()) + " tensors");
  for (std::size_t k = 0; k < numels.size(); ++k) {
    const py::object item = items[k];
    if (item.is_none()) {
      out.push_back(nullptr);
    } else if (py::isinstance<py::int_>(item)) {
      out.push_back(reinterpret_cast<const float*>(item.cast<std::uintptr_t>()));
    } else {
      const auto a = py::array::ensure(item);
      if (!a || !a.dtype().is(py::dtype::of<float>()) || !(a.flags() & py::array::c_style) ||
          static_cast<std::size_t>(a.size()) != numels[k])
        throw std::invalid_argument("grads[" + std::to_string(k) +
                                    "]: need a C-contiguous float32 array of " +
                                    std::to_string(numels[k]) + " elements, an address or None");
      out.push_back(static_cast<const float*>(a.data()));
    }
  }
  return out;
}

}  // namespace

void bind_optimizer(py::module_& m) {
  py::class_<Optimizer>(m, "Optimizer",
                        "Any optimizer of the library (torch.optim.Optimizer's model): param "
                        "groups packed into flat arenas, and numpy views of them.")
      .def_static(
          "create",
          [](const std::string& name, const std::vector<std::pair<std::string, Shape>>& params,
             const py::dict& options, const std::optional<std::string>& isa, int num_threads) {
            return embed::make_registered(name, specs_of(params), options_of(options),
                                          runtime_of(isa, num_threads));
          },
          py::arg("name"), py::arg("params"), py::arg("options") = py::dict(),
          py::arg("isa") = py::none(), py::arg("num_threads") = 0,
          "Optimizer `name` with torch's defaults overridden by `options` and one group of "
          "`params`, a list of (name, shape).")
      .def_property_readonly("name", [](const Optimizer& o) { return std::string(o.name()); })
      .def_property_readonly("isa", [](const Optimizer& o) { return isa_name(o.isa()); })
      .def_property_readonly("num_threads", &Optimizer::num_threads)
      .def_property("flush_subnormal_state", &Optimizer::flush_subnormal_state,
                    &Optimizer::set_flush_subnormal_state,
                    "Stored state below FLT_MIN becomes zero (default True); False keeps torch's "
                    "subnormals.")
      .def_property_readonly("defaults", [](const Optimizer& o) { return dict_of(o.defaults()); })
      .def(
          "add_param_group",
          [](Optimizer& o, const std::vector<std::pair<std::string, Shape>>& params,
             const py::dict& options, const py::dict& storage) {
            o.add_param_group(specs_of(params), options_of(options), storage_of(storage));
          },
          py::arg("params"), py::arg("options") = py::dict(), py::arg("storage") = py::dict(),
          "A new param group; `storage` sets how it stores its arrays: param_dtype, grad_dtype, "
          "state_dtype ('f32', 'bf16', 'q8'), master_weights, stochastic_rounding, seed.")
      .def(
          "group_dtypes",
          [](Optimizer& o, std::size_t g) {
            const ParamGroup& group = group_at(o, g);
            py::dict d;
            d["param"] = dtype_name(group.param_dtype());
            d["grad"] = dtype_name(group.grad_dtype());
            d["state"] = dtype_name(group.state_dtype());
            d["master_weights"] = group.storage().master_weights;
            return d;
          },
          py::arg("group"), "The element types of group `group`'s arrays.")
      .def(
          "master_param",
          [](py::object self, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view(group.master_param(i), self);
          },
          py::arg("group"), py::arg("index"),
          "The fp32 master weights of a tensor of a group with master weights, as a numpy view.")
      .def_property_readonly("num_groups",
                             [](const Optimizer& o) { return o.param_groups().size(); })
      .def(
          "group_size", [](Optimizer& o, std::size_t g) { return group_at(o, g).size(); },
          py::arg("group"))
      .def(
          "group_options",
          [](Optimizer& o, std::size_t g) { return dict_of(group_at(o, g).options()); },
          py::arg("group"), "A copy of group `group`'s options.")
      .def(
          "set_group_options",
          [](Optimizer& o, std::size_t g, const py::dict& options) {
            ParamGroup& group = group_at(o, g);
            GroupOptions merged = group.options();
            const GroupOptions given = options_of(options);
            for (const auto& [key, value] : given.items()) {
              if (!merged.contains(key) && key != "initial_lr" && key != "lr_scale")
                throw std::invalid_argument("unknown option '" + key + "' for optimizer '" +
                                            std::string(o.name()) + "'");
              merged.set(key, value);
            }
            o.validate(merged);
            group.options() = std::move(merged);
          },
          py::arg("group"), py::arg("options"),
          "Updates the given options of group `group` after checking the result.")
      .def(
          "param_names",
          [](Optimizer& o, std::size_t g) {
            ParamGroup& group = group_at(o, g);
            std::vector<std::string> names;
            for (std::size_t i = 0; i < group.size(); ++i) names.push_back(group.info(i).name);
            return names;
          },
          py::arg("group"))
      .def(
          "param",
          [](py::object self, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view(group.param(i), self);
          },
          py::arg("group"), py::arg("index"),
          "Tensor `index` of group `group` as a writable numpy view of the parameter arena.")
      .def(
          "param",
          [](py::object self, const std::string& name) {
            const auto [g, i] = self.cast<Optimizer&>().locate(name);
            return view(self.cast<Optimizer&>().param_groups()[g].param(i), self);
          },
          py::arg("name"), "The parameter called `name` as a writable numpy view.")
      .def(
          "grad",
          [](py::object self, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view(group.grad(i), self);
          },
          py::arg("group"), py::arg("index"),
          "The gradient of a tensor as a writable numpy view. Marks the gradient present (zero "
          "first if it was absent), as C++'s grad(): step() then updates the tensor. "
          "set_has_grad marks it absent again.")
      .def(
          "grad",
          [](py::object self, const std::string& name) {
            return view(self.cast<Optimizer&>().grad(name), self);
          },
          py::arg("name"), "grad() of the parameter called `name`.")
      .def(
          "state",
          [](py::object self, std::size_t g, std::size_t i, const std::string& name) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view(group.state(i, name), self);
          },
          py::arg("group"), py::arg("index"), py::arg("name"),
          "State array `name` of a tensor (torch: state[p][name]) as a numpy view.")
      .def(
          "set_averaging",
          [](Optimizer& o, const std::string& mode, double decay, bool warmup, std::int64_t start,
             std::int64_t every, double alpha, std::int64_t k, bool fused) {
            AveragingOptions a;
            if (mode == "ema")
              a.mode = AveragingOptions::Mode::ema;
            else if (mode == "swa")
              a.mode = AveragingOptions::Mode::swa;
            else if (mode == "lookahead")
              a.mode = AveragingOptions::Mode::lookahead;
            else if (mode != "none")
              throw std::invalid_argument("unknown averaging mode '" + mode +
                                          "' (valid: none, ema, swa, lookahead)");
            a.decay = decay;
            a.warmup = warmup;
            a.start = start;
            a.every = every;
            a.alpha = alpha;
            a.k = k;
            a.fused = fused;
            o.set_averaging(a);
          },
          py::arg("mode"), py::arg("decay") = 0.9998, py::arg("warmup") = false,
          py::arg("start") = 1, py::arg("every") = 1, py::arg("alpha") = 0.5, py::arg("k") = 6,
          py::arg("fused") = true,
          "Keeps an average of the parameters updated in each step's pass (docs/averaging.md): "
          "'ema' (timm's ModelEmaV2), 'swa' (AveragedModel's running mean), 'lookahead' or "
          "'none'.")
      .def("set_averaging_decay", &Optimizer::set_averaging_decay, py::arg("decay"),
           "The EMA decay of the following updates.")
      .def_property_readonly("n_averaged", &Optimizer::n_averaged,
                             "Averaging updates made (torch: AveragedModel.n_averaged).")
      .def(
          "averaged_param",
          [](py::object self, const std::string& name) {
            const TensorView v = self.cast<Optimizer&>().averaged_param(name);
            return view(v.data.data(), Shape(v.shape.begin(), v.shape.end()), self);
          },
          py::arg("name"), "The averaged copy of the parameter called `name`, a numpy view.")
      .def("swap_averaged_params", &Optimizer::swap_averaged_params,
           "Exchanges parameters and averages in place; call again to swap back.")
      .def(
          "state_names", [](Optimizer& o, std::size_t g) { return group_at(o, g).state_names(); },
          py::arg("group"))
      .def(
          "has_state",
          [](Optimizer& o, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(o, g);
            info_at(group, i);
            return group.has_state(i);
          },
          py::arg("group"), py::arg("index"))
      .def(
          "step_count",
          [](Optimizer& o, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(o, g);
            info_at(group, i);
            return group.step_count(i);
          },
          py::arg("group"), py::arg("index"), "torch's state[p]['step'].")
      .def(
          "has_grad",
          [](Optimizer& o, std::size_t g, std::size_t i) {
            ParamGroup& group = group_at(o, g);
            info_at(group, i);
            return group.has_grad(i);
          },
          py::arg("group"), py::arg("index"))
      .def(
          "set_has_grad",
          [](Optimizer& o, std::size_t g, std::size_t i, bool present) {
            ParamGroup& group = group_at(o, g);
            info_at(group, i);
            group.set_has_grad(i, present);
          },
          py::arg("group"), py::arg("index"), py::arg("present"),
          "Marks a gradient present or absent (torch: p.grad is None) without touching it.")
      .def(
          "set_has_grads",
          [](Optimizer& o, std::size_t g, const std::vector<bool>& present) {
            ParamGroup& group = group_at(o, g);
            if (present.size() != group.size())
              throw std::invalid_argument("set_has_grads: " + std::to_string(present.size()) +
                                          " flags for " + std::to_string(group.size()) +
                                          " tensors");
            for (std::size_t i = 0; i < present.size(); ++i) group.set_has_grad(i, present[i]);
          },
          py::arg("group"), py::arg("present"), "set_has_grad for every tensor of a group.")
      .def(
          "zero_grad", [](Optimizer& o, bool set_to_none) { o.zero_grad(set_to_none); },
          py::arg("set_to_none") = true)
      .def(
          "zero_grad_arenas",
          [](Optimizer& o) {
            for (ParamGroup& g : o.param_groups()) {
              const std::span<float> a = g.grad_arena();
              std::fill(a.begin(), a.end(), 0.0f);
            }
          },
          "Zero-fills every gradient arena, present or not (one pass per group).")
      .def(
          "step", [](Optimizer& o) { o.step(); }, py::call_guard<py::gil_scoped_release>(),
          "One step over every tensor with a present gradient (releases the GIL).")
      .def(
          "step_closure",
          [](Optimizer& o, const std::function<double()>& closure) { return o.step(closure); },
          py::arg("closure"),
          "torch's step(closure): `closure` writes the gradients and returns the loss.")
      .def(
          "clip_grad_norm_",
          [](Optimizer& o, double max_norm, double norm_type, bool error_if_nonfinite) {
            return clip_grad_norm_(o, max_norm, norm_type, error_if_nonfinite);
          },
          py::arg("max_norm"), py::arg("norm_type") = 2.0, py::arg("error_if_nonfinite") = false,
          py::call_guard<py::gil_scoped_release>(),
          "torch.nn.utils.clip_grad_norm_ over every present gradient; returns the total norm.")
      .def(
          "step_grads",
          [](Optimizer& o, const py::object& grads, float grad_scale) {
            const std::vector<const float*> pointers = grad_pointers(o, grads);
            py::gil_scoped_release release;
            o.step(StepGrads{pointers, grad_scale});
          },
          py::arg("grads") = py::none(), py::arg("grad_scale") = 1.0f,
          "One step reading the gradients in place from `grads` (one entry per tensor of every "
          "group: None for no gradient, a float32 array, or an address such as torch's "
          "data_ptr(); None: the arenas'), each read as g * grad_scale (releases the GIL).")
      .def(
          "clip_grad_norm_and_step",
          [](Optimizer& o, double max_norm, double norm_type, bool error_if_nonfinite,
             const py::object& grads) {
            const std::vector<const float*> pointers = grad_pointers(o, grads);
            py::gil_scoped_release release;
            return clip_grad_norm_and_step(o, max_norm, norm_type, error_if_nonfinite, pointers);
          },
          py::arg("max_norm"), py::arg("norm_type") = 2.0, py::arg("error_if_nonfinite") = false,
          py::arg("grads") = py::none(),
          "clip_grad_norm_ then step, fused (the step applies the clip coefficient as it reads "
          "the gradients, which stay unchanged); `grads` as in step_grads. Returns the norm.")
      .def(
          "compute_clip_grad_norm",
          [](Optimizer& o, double max_norm, double norm_type, bool error_if_nonfinite,
             const py::object& grads) {
            const std::vector<const float*> pointers = grad_pointers(o, grads);
            py::gil_scoped_release release;
            const ClipGradNorm c =
                compute_clip_grad_norm(o, max_norm, norm_type, error_if_nonfinite, pointers);
            return std::make_pair(c.total_norm, c.clip_coef);
          },
          py::arg("max_norm"), py::arg("norm_type") = 2.0, py::arg("error_if_nonfinite") = false,
          py::arg("grads") = py::none(),
          "(total_norm, clip_coef) of clip_grad_norm_ without scaling, for a later "
          "step_grads(grads, clip_coef).")
      .def(
          "clip_grad_value_",
          [](Optimizer& o, double clip_value) { clip_grad_value_(o, clip_value); },
          py::arg("clip_value"))
      .def(
          "save", [](Optimizer& o, const std::string& path) { save(o, path); }, py::arg("path"),
          "Writes a checkpoint file (parameters included) atomically.")
      .def(
          "load", [](Optimizer& o, const std::string& path) { load(o, path); }, py::arg("path"),
          "Restores a checkpoint file; the optimizer is unchanged when it fails.");

  m.def(
      "build_optimizer",
      [](const std::string& config_yaml, const std::vector<py::tuple>& params,
         const std::optional<std::string>& isa, int num_threads) {
        const Config config = parse_config(config_yaml, "<config>");
        ModelSpec model;
        for (const py::tuple& p : params) {
          if (p.size() != 2 && p.size() != 3)
            throw std::invalid_argument(
                "build_optimizer: each param is (name, shape) or (name, shape, requires_grad)");
          model.add(p[0].cast<std::string>(), p[1].cast<Shape>(),
                    p.size() == 3 ? p[2].cast<bool>() : true);
        }
        return build_optimizer(config, model, runtime_of(isa, num_threads));
      },
      py::arg("config"), py::arg("params"), py::arg("isa") = py::none(), py::arg("num_threads") = 0,
      "The optimizer and param groups of a YAML training config (docs/config.md) for `params`, "
      "a list of (name, shape[, requires_grad]).");
}

}  // namespace simdoptim::python
