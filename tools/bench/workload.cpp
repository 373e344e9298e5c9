#include "bench/workload.hpp"

#include <stdexcept>

#include "bench/size.hpp"
#include "workloads/resnet50_shapes.hpp"

namespace simdoptim::bench {

std::vector<ParamSpec> Workload::trainable_params() const {
  std::vector<ParamSpec> out;
  for (const ParamInfo& p : model.params())
    if (p.requires_grad) out.push_back({p.name, p.shape, {}});
  return out;
}

Workload flat_workload(std::size_t numel) {
  Workload w{"flat " + format_size(numel), "flat", "", {}};
  w.model.add("flat.weight", {static_cast<std::int64_t>(numel)});
  w.model.set_model_name(w.name);
  return w;
}

Workload resnet50_workload() {
  Workload w{"resnet50", "builtin", "", {}};
  for (ParamSpec& p : workloads::resnet50_params()) w.model.add(std::move(p.name), p.shape);
  w.model.set_model_name("resnet50");
  return w;
}

Workload decayed_workload(Workload w) {
  w.name += " decayed";
  w.decayed = true;
  return w;
}

Workload spec_workload(const std::string& path) {
  Workload w{"", "spec", path, {}};
  w.model = load_model_spec(path);  // its errors name the file
  if (w.model.trainable_numel() == 0)
    throw std::invalid_argument("spec file '" + path + "' has no trainable parameter");
  w.name = w.model.model_name().empty() ? path : w.model.model_name();
  return w;
}

}  // namespace simdoptim::bench
