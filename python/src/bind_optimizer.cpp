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
#include "simdoptim/optimizer_registry.hpp"

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
// torch.from_numpy(a.view(numpy.int16)).view(torch.bfloat16)), or uint8 holding q8 state's
// codes (state_dict() gives their values).
py::array view(const TensorView& v, const py::object& owner) {
  const Shape shape(v.shape.begin(), v.shape.end());
  if (v.dtype == DType::f32) return view(v.data.data(), shape, owner);
  if (v.dtype == DType::q8) return view(v.data8.data(), shape, owner);
  return view(v.data16.data(), shape, owner);
}

// The torch dtype of `dtype`: torch.float32, torch.bfloat16, torch.float16.
py::object torch_dtype(DType dtype) {
  const py::module_ torch = py::module_::import("torch");
  switch (dtype) {
    case DType::f32:
      return torch.attr("float32");
    case DType::bf16:
      return torch.attr("bfloat16");
    case DType::f16:
      return torch.attr("float16");
    case DType::q8:
      break;
  }
  throw std::invalid_argument(std::string("no torch dtype for ") + dtype_name(dtype));
}

// `v` as numpy view, or with `as_torch` as a torch tensor of its dtype sharing the arena (torch
// is imported only then). torch.from_numpy knows no uint16: the bits go through int16.
py::object view_as(const TensorView& v, const py::object& owner, bool as_torch) {
  py::array a = view(v, owner);
  if (!as_torch) return a;
  const py::object torch_dtype_of_v = torch_dtype(v.dtype);
  if (v.dtype != DType::f32) a = a.attr("view")(py::dtype("int16"));
  return py::module_::import("torch").attr("from_numpy")(a).attr("view")(torch_dtype_of_v);
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

// The dtype of a numpy dtype or torch dtype named `name` ("float32", "torch.bfloat16", ...);
// empty for bits (uint16/int16: the dtype must be given) and for anything else.
std::optional<DType> dtype_of_name(std::string name) {
  if (name.rfind("torch.", 0) == 0) name = name.substr(6);
  if (name == "float32") return DType::f32;
  if (name == "bfloat16") return DType::bf16;
  if (name == "float16") return DType::f16;
  return std::nullopt;
}

// Engine pointers of a Python call, one per tensor of every group, and their dtype.
struct EnginePointers {
  std::vector<const void*> pointers;  // empty: none given
  DType dtype = DType::f32;
};

// `items` (None, or one entry per tensor of every group: None, an address such as torch's
// data_ptr(), a C-contiguous numpy array or a contiguous CPU torch tensor of the tensor's numel
// elements) as pointers of one dtype: `dtype` when given ("f32", "bf16", "f16"), else the
// arrays' and tensors' (uint16/int16 arrays hold 16-bit bits and need `dtype`; addresses alone
// mean f32). `what` names the argument in errors.
EnginePointers engine_pointers(Optimizer& o, const py::object& items_obj,
                               const std::optional<std::string>& dtype, const char* what) {
  EnginePointers out;
  std::optional<DType> given;
  if (dtype) given = parse_dtype(*dtype);
  if (items_obj.is_none()) {
    if (given) out.dtype = *given;
    return out;
  }
  std::vector<std::size_t> numels;
  for (ParamGroup& g : o.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) numels.push_back(g.info(i).numel);
  const auto items = items_obj.cast<py::sequence>();
  if (items.size() != numels.size())
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(items.size()) +
                                " entries for " + std::to_string(numels.size()) + " tensors");
  std::optional<DType> seen = given;
  auto bad = [&](std::size_t k, const std::string& why) {
    return std::invalid_argument(std::string(what) + "[" + std::to_string(k) + "]: " + why +
                                 " (need " + std::to_string(numels[k]) +
                                 " contiguous elements: a numpy array, a CPU torch tensor, an "
                                 "address or None)");
  };
  auto agree = [&](std::size_t k, std::optional<DType> d) {
    if (!d) {
      if (!seen) throw bad(k, "16-bit bits need the dtype argument ('bf16' or 'f16')");
      return;
    }
    if (seen && *seen != *d)
      throw bad(k, std::string(dtype_name(*d)) + " where the others are " + dtype_name(*seen));
    seen = d;
  };
  for (std::size_t k = 0; k < numels.size(); ++k) {
    const py::object item = items[k];
    if (item.is_none()) {
      out.pointers.push_back(nullptr);
    } else if (py::isinstance<py::int_>(item)) {
      out.pointers.push_back(reinterpret_cast<const void*>(item.cast<std::uintptr_t>()));
    } else if (py::hasattr(item, "data_ptr")) {  // a torch tensor
      if (py::str(item.attr("device").attr("type")).cast<std::string>() != "cpu" ||
          !item.attr("is_contiguous")().cast<bool>() ||
          item.attr("numel")().cast<std::size_t>() != numels[k])
        throw bad(k, "a tensor that is not a contiguous CPU tensor of that size");
      const std::optional<DType> d = dtype_of_name(py::str(item.attr("dtype")));
      if (!d) throw bad(k, "a tensor of dtype " + std::string(py::str(item.attr("dtype"))));
      agree(k, d);
      out.pointers.push_back(
          reinterpret_cast<const void*>(item.attr("data_ptr")().cast<std::uintptr_t>()));
    } else {
      const auto a = py::array::ensure(item);
      if (!a || !(a.flags() & py::array::c_style) ||
          static_cast<std::size_t>(a.size()) != numels[k])
        throw bad(k, "not a C-contiguous array of that size");
      const std::string name = py::str(a.dtype());
      if (name == "uint16" || name == "int16") {
        agree(k, std::nullopt);
      } else {
        const std::optional<DType> d = dtype_of_name(name);
        if (!d) throw bad(k, "an array of dtype " + name);
        agree(k, d);
      }
      out.pointers.push_back(a.data());
    }
  }
  out.dtype = seen.value_or(DType::f32);
  return out;
}

// The float32 gradient pointers of a Python call (clipping): engine_pointers of f32.
std::vector<const float*> grad_pointers(Optimizer& o, const py::object& grads) {
  const EnginePointers e = engine_pointers(o, grads, std::nullopt, "grads");
  if (e.dtype != DType::f32)
    throw std::invalid_argument("grads: float32 gradients only here, got " +
                                std::string(dtype_name(e.dtype)));
  std::vector<const float*> out;
  for (const void* p : e.pointers) out.push_back(static_cast<const float*>(p));
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
             const py::dict& options, const std::optional<std::string>& isa, int num_threads,
             const py::dict& storage) {
            if (storage.empty())
              return embed::make_registered(name, specs_of(params), options_of(options),
                                            runtime_of(isa, num_threads));
            std::unique_ptr<Optimizer> o = make_optimizer(name, runtime_of(isa, num_threads));
            o->add_param_group(specs_of(params), options_of(options), storage_of(storage));
            return o;
          },
          py::arg("name"), py::arg("params"), py::arg("options") = py::dict(),
          py::arg("isa") = py::none(), py::arg("num_threads") = 0, py::arg("storage") = py::dict(),
          "Optimizer `name` with torch's defaults overridden by `options` and one group of "
          "`params`, a list of (name, shape), stored as `storage` says (as add_param_group).")
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
          [](py::object self, std::size_t g, std::size_t i, bool as_torch) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view_as(group.master_param(i), self, as_torch);
          },
          py::arg("group"), py::arg("index"), py::kw_only(), py::arg("as_torch") = false,
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
          [](py::object self, std::size_t g, std::size_t i, bool as_torch) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view_as(group.param(i), self, as_torch);
          },
          py::arg("group"), py::arg("index"), py::kw_only(), py::arg("as_torch") = false,
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
          [](py::object self, std::size_t g, std::size_t i, bool as_torch) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view_as(group.grad(i), self, as_torch);
          },
          py::arg("group"), py::arg("index"), py::kw_only(), py::arg("as_torch") = false,
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
          [](py::object self, std::size_t g, std::size_t i, const std::string& name,
             bool as_torch) {
            ParamGroup& group = group_at(self.cast<Optimizer&>(), g);
            info_at(group, i);
            return view_as(group.state(i, name), self, as_torch);
          },
          py::arg("group"), py::arg("index"), py::arg("name"), py::kw_only(),
          py::arg("as_torch") = false,
          "State array `name` of a tensor (torch: state[p][name]) as a numpy view.")
      .def(
          "set_averaging",
          [](Optimizer& o, const std::string& mode, double decay, bool warmup, std::int64_t start,
             std::int64_t every, double alpha, std::int64_t k, bool fused, const std::string& dtype,
             bool v3, std::int64_t update_after_step, double gamma, double power,
             double min_decay) {
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
            a.dtype = parse_dtype(dtype);
            a.v3 = {v3, update_after_step, gamma, power, min_decay};
            o.set_averaging(a);
          },
          py::arg("mode"), py::arg("decay") = 0.9998, py::arg("warmup") = false,
          py::arg("start") = 1, py::arg("every") = 1, py::arg("alpha") = 0.5, py::arg("k") = 6,
          py::arg("fused") = true, py::arg("dtype") = "f32", py::arg("v3") = false,
          py::arg("update_after_step") = 0, py::arg("gamma") = 1.0, py::arg("power") = 2.0 / 3.0,
          py::arg("min_decay") = 0.0,
          "Keeps an average of the parameters updated in each step's pass (docs/averaging.md): "
          "'ema' (timm's ModelEmaV2; v3=True: ModelEmaV3's decay), 'swa' (AveragedModel's "
          "running mean), 'lookahead' or 'none'; dtype: the average's storage (f32, bf16, f16).")
      .def("set_averaging_decay", &Optimizer::set_averaging_decay, py::arg("decay"),
           "The EMA decay of the following updates.")
      .def_property_readonly("n_averaged", &Optimizer::n_averaged,
                             "Averaging updates made (torch: AveragedModel.n_averaged).")
      .def(
          "averaged_param",
          [](py::object self, const std::string& name, bool as_torch) {
            return view_as(self.cast<Optimizer&>().averaged_param(name), self, as_torch);
          },
          py::arg("name"), py::kw_only(), py::arg("as_torch") = false,
          "The averaged copy of the parameter called `name`, a numpy view (uint16 bits when the "
          "average is bf16 or fp16), or a torch tensor of its dtype with as_torch.")
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
              const std::span<std::uint16_t> a16 = g.grad16_arena();
              std::fill(a16.begin(), a16.end(), std::uint16_t{0});
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
          [](Optimizer& o, const py::object& grads, float grad_scale,
             const std::optional<std::string>& grad_dtype, const py::object& params_out) {
            const EnginePointers g = engine_pointers(o, grads, grad_dtype, "grads");
            const EnginePointers out = engine_pointers(o, params_out, std::nullopt, "params_out");
            if (!out.pointers.empty() && out.dtype == DType::f32)
              throw std::invalid_argument("params_out: bf16 or f16 buffers, got f32");
            std::vector<const float*> g32;
            std::vector<const std::uint16_t*> g16;
            std::vector<std::uint16_t*> out16;
            for (const void* p : g.pointers) {
              if (g.dtype == DType::f32)
                g32.push_back(static_cast<const float*>(p));
              else
                g16.push_back(static_cast<const std::uint16_t*>(p));
            }
            // The engine's buffers are written through: they were given as writable.
            for (const void* p : out.pointers)
              out16.push_back(static_cast<std::uint16_t*>(const_cast<void*>(p)));
            StepGrads step;
            step.external = g32;
            step.external16 = g16;
            step.external16_dtype = g.dtype == DType::f32 ? DType::bf16 : g.dtype;
            step.param_out = out16;
            step.scale = grad_scale;
            py::gil_scoped_release release;
            o.step(step);
          },
          py::arg("grads") = py::none(), py::arg("grad_scale") = 1.0f, py::kw_only(),
          py::arg("grad_dtype") = py::none(), py::arg("params_out") = py::none(),
          "One step reading the gradients in place from `grads` (one entry per tensor of every "
          "group: None for no gradient, a numpy array or CPU torch tensor of float32, bfloat16 "
          "or float16, or an address such as torch's data_ptr(), whose dtype grad_dtype gives: "
          "'f32' by default, 'bf16', 'f16'; None: the arenas'), each read as g * grad_scale. "
          "`params_out` (groups with master weights): one entry per tensor, None or a 16-bit "
          "buffer of the group's param dtype that receives the new parameters instead of the "
          "arena's copy (the ZeRO-Offload step). Releases the GIL.")
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
