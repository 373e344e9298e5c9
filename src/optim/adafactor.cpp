// Adafactor (torch.optim.Adafactor, torch 2.5); formula in include/simdoptim/adafactor.hpp. Three
// passes per group (kernels/adafactor_*): row and column statistics of g^2, the RMS of the
// update, the update itself; the factored statistics live in a buffer of the optimizer's own.
#include "simdoptim/adafactor.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "aligned_buffer.hpp"
#include "executor.hpp"
#include "kernels/adafactor_kernel.hpp"
#include "kernels/reduce_kernel.hpp"
#include "optim/option_table.hpp"
#include "optim/registration.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using detail::Check;

// In the order of AdafactorOptions::to_group_options().
constexpr detail::OptionSpec kOptions[] = {
    {"lr", 1e-2, Check::non_negative, "learning rate (the cap of the relative step size)"},
    {"beta2_decay", -0.8, Check::custom, "the running averages' weight is t^beta2_decay (<= 0)"},
    {"eps1", 1.1920928955078125e-07, Check::non_negative,
     "lower bound of V (as eps1^2) and of the row mean (torch: eps[0], None: float32's eps)"},
    {"eps2", 1e-3, Check::non_negative, "lower bound of RMS(p) in the step size (torch: eps[1])"},
    {"d", 1.0, Check::custom, "clipping threshold of RMS(update) (>= 1)"},
    {"weight_decay", 0.0, Check::non_negative, "decoupled decay: p *= 1 - lr * weight_decay"},
    {"maximize", 0.0, Check::flag, "ascend the objective"},
};
// Kept outside the arenas, by the tensor's shape: row_var and col_var for tensors of two or more
// dimensions, variance for the others.
constexpr detail::StateSpec kStates[] = {{"row_var"}, {"col_var"}, {"variance"}};

constexpr std::size_t kNone = static_cast<std::size_t>(-1);
// A block of rows holds about this many elements (at most kMaxBlockRows rows, at least one), so
// float column sums stay short and a slice's blocks are fixed by its shape alone.
constexpr std::size_t kBlockElements = std::size_t{1} << 18;
constexpr std::size_t kMaxBlockRows = 1024;
// Columns per job when the blocks' column sums are combined.
constexpr std::size_t kCombineColumns = 512;

std::size_t round_up(std::size_t n) {
  return (n + ParamGroup::kTensorAlign - 1) / ParamGroup::kTensorAlign * ParamGroup::kTensorAlign;
}

// torch's lerp on float32 with a float weight.
float lerp(float start, float end, float w, float one_minus_w) {
  return std::fabs(w) < 0.5f ? start + w * (end - start) : end - (end - start) * one_minus_w;
}

}  // namespace

// Where each tensor's statistics live in the group's private buffer, and the scratch of a step.
struct Adafactor::GroupState {
  struct Slot {
    bool factored = false;
    std::size_t rows = 0;   // all rows (product of the leading dimensions)
    std::size_t cols = 0;   // last dimension
    std::size_t slice = 0;  // rows per slice (dimension -2)
    std::size_t row_var = kNone, col_var = kNone, variance = kNone;  // offsets into `buffer`
    std::size_t row_sum = 0;  // first row in the row_sums scratch
  };
  std::vector<Slot> slots;
  std::unique_ptr<detail::AlignedBuffer> buffer;
  std::vector<double> row_sums;
  std::vector<float> col_sums;
  std::vector<double> partials, p_sq, u_sq;
  detail::TensorReducer reducer;
  struct Job {
    std::size_t tensor;
    detail::AdafactorArgs args;
    std::size_t begin, end;
    std::size_t col_sum;  // row_stats: offset of the block's column sums
  };
  std::vector<Job> jobs;
  std::vector<float> neg_step;

  // Tensor `tensor`'s arrays (numel elements): row_var and col_var, or variance.
  std::vector<SideArray> arrays(std::size_t tensor, std::size_t numel) const {
    const Slot& s = slots[tensor];
    float* base = buffer->data();
    if (!s.factored) return {{"variance", {base + s.variance, numel}}};
    return {{"row_var", {base + s.row_var, s.rows}},
            {"col_var", {base + s.col_var, s.slice == 0 ? 0 : s.rows / s.slice * s.cols}}};
  }
};

GroupOptions AdafactorOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta2_decay", beta2_decay},
          {"eps1", eps1},
          {"eps2", eps2},
          {"d", d},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adafactor::Adafactor(AdafactorOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Adafactor::Adafactor(std::vector<ParamSpec> params, AdafactorOptions options,
                     RuntimeOptions runtime)
    : Adafactor(options, runtime) {
  add_param_group(std::move(params));
}

Adafactor::~Adafactor() = default;

void Adafactor::validate(const GroupOptions& o) const {
  detail::validate_options(kOptions, o);
  const double beta2_decay = o.get("beta2_decay");
  if (!(beta2_decay <= 0.0)) detail::invalid_option("beta2_decay", beta2_decay, "must be <= 0");
  const double d = o.get("d");
  if (!(d >= 1.0)) detail::invalid_option("d", d, "must be >= 1");
}

Adafactor::GroupState& Adafactor::group_state(ParamGroup& group) {
  std::size_t index = 0;
  while (&param_groups()[index] != &group) ++index;
  if (states_.size() <= index) states_.resize(index + 1);
  if (states_[index]) return *states_[index];
  auto st = std::make_unique<GroupState>();
  std::size_t size = 0, rows = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const TensorInfo& t = group.info(i);
    GroupState::Slot s;
    s.factored = t.shape.size() >= 2;
    if (s.factored) {
      s.cols = static_cast<std::size_t>(t.shape.back());
      s.slice = static_cast<std::size_t>(t.shape[t.shape.size() - 2]);
      s.rows = s.cols == 0 ? 0 : t.numel / s.cols;
      s.row_var = size;
      size += round_up(s.rows);
      s.col_var = size;
      size += round_up(s.slice == 0 ? 0 : s.rows / s.slice * s.cols);
      s.row_sum = rows;
      rows += s.rows;
    } else {
      s.variance = size;
      size += round_up(t.numel);
    }
    st->slots.push_back(s);
  }
  st->buffer = std::make_unique<detail::AlignedBuffer>(std::max<std::size_t>(size, 1), 0);
  st->row_sums.resize(rows);
  states_[index] = std::move(st);
  return *states_[index];
}

std::span<const float> Adafactor::factored_state(std::size_t group, std::size_t tensor,
                                                 std::string_view name) const {
  const ParamGroup& g = param_groups().at(group);
  if (tensor >= g.size() || !g.has_state(tensor) || group >= states_.size() || !states_[group])
    throw std::out_of_range("no Adafactor state for tensor " + std::to_string(tensor));
  for (const SideArray& a : states_[group]->arrays(tensor, g.info(tensor).numel))
    if (a.name == name) return a.data;
  throw std::out_of_range("no Adafactor state '" + std::string(name) + "' for tensor " +
                          std::to_string(tensor));
}

std::vector<Optimizer::SideArray> Adafactor::side_arrays(std::size_t group, std::size_t tensor) {
  ParamGroup& g = param_groups().at(group);
  return group_state(g).arrays(tensor, g.info(tensor).numel);
}

void Adafactor::step_group(ParamGroup& group) {
  GroupState& st = group_state(group);
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta2_decay = o.get("beta2_decay");
  const double eps1 = o.get("eps1");
  const double eps2 = o.get("eps2");
  const double d = o.get("d");
  const bool maximize = o.flag("maximize");
  auto states = group.tensor_states();
  float* const buffer = st.buffer->data();
  float* const param = group.param_arena().data();
  const float* const grad = group.grad_arena().data();
  auto has_grad = [&](std::size_t i) { return states[i].has_grad; };
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!has_grad(i)) continue;
    states[i].step = detail::next_step(states[i].step);
    states[i].initialized = true;
  }

  // RMS(p) before the decay, for alpha.
  st.p_sq.resize(group.size());
  st.reducer.run(executor(), isa(), group, param, detail::Reduction::sum_squares, has_grad,
                 st.p_sq);

  detail::AdafactorArgs base;
  base.eps1_sq = static_cast<float>(eps1 * eps1);
  base.maximize = maximize;
  base.decay_factor = static_cast<float>(1.0 - lr * o.get("weight_decay"));
  auto lerp_weight = [&](std::size_t i, detail::AdafactorArgs& a) {
    a.w = static_cast<float>(std::pow(static_cast<double>(states[i].step), beta2_decay));
    a.one_minus_w = 1.0f - a.w;
    a.lerp_low = std::fabs(a.w) < 0.5f;
  };

  // Pass 1, factored tensors: row sums and per-block column sums of g^2.
  auto& jobs = st.jobs;
  jobs.clear();
  std::size_t col_total = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const auto& s = st.slots[i];
    if (!has_grad(i) || !s.factored || s.rows == 0 || s.slice == 0) continue;
    const std::size_t block = std::clamp<std::size_t>(kBlockElements / s.cols, 1, kMaxBlockRows);
    detail::AdafactorArgs a = base;
    a.grad = grad + group.info(i).offset;
    a.cols = s.cols;
    a.row_sum = st.row_sums.data() + s.row_sum;
    for (std::size_t first = 0; first < s.rows; first += s.slice)
      for (std::size_t r = first; r < first + s.slice; r += block) {
        jobs.push_back({i, a, r, std::min(r + block, first + s.slice), col_total});
        col_total += s.cols;
      }
  }
  st.col_sums.resize(col_total);
  for (auto& j : jobs) j.args.col_sum = st.col_sums.data() + j.col_sum;
  {
    const auto kernel = detail::adafactor_row_stats_kernel(isa());
    auto body = [&](std::size_t j) { kernel(jobs[j].args, jobs[j].begin, jobs[j].end); };
    executor().run(jobs.size(), body);
  }
  // Host: the running row/column statistics (sizes rows + columns, not elements).
  std::size_t next_job = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const auto& s = st.slots[i];
    if (!has_grad(i) || !s.factored || s.rows == 0 || s.slice == 0) continue;
    detail::AdafactorArgs w;
    lerp_weight(i, w);
    float* row_var = buffer + s.row_var;
    for (std::size_t r = 0; r < s.rows; ++r) {
      const auto mean =
          static_cast<float>(st.row_sums[s.row_sum + r] / static_cast<double>(s.cols));
      row_var[r] = lerp(row_var[r], mean, w.w, w.one_minus_w);
    }
    for (std::size_t first = 0; first < s.rows; first += s.slice) {
      float* col_var = buffer + s.col_var + first / s.slice * s.cols;
      const std::size_t begin_job = next_job;
      while (next_job < jobs.size() && jobs[next_job].tensor == i &&
             jobs[next_job].begin < first + s.slice)
        ++next_job;
      // Each column's sum in double over the blocks in order, columns split across threads
      // (the order per column, hence the bits, do not depend on the split).
      const std::size_t end_job = next_job;
      auto combine = [&](std::size_t chunk) {
        const std::size_t c0 = chunk * kCombineColumns;
        const std::size_t n = std::min(kCombineColumns, s.cols - c0);
        double acc[kCombineColumns] = {};
        for (std::size_t j = begin_job; j < end_job; ++j) {
          const float* block = st.col_sums.data() + jobs[j].col_sum + c0;
          for (std::size_t c = 0; c < n; ++c) acc[c] += block[c];
        }
        for (std::size_t c = 0; c < n; ++c) {
          const auto mean = static_cast<float>(acc[c] / static_cast<double>(s.slice));
          col_var[c0 + c] = lerp(col_var[c0 + c], mean, w.w, w.one_minus_w);
        }
      };
      executor().run((s.cols + kCombineColumns - 1) / kCombineColumns, combine);
    }
  }

  // Pass 2: sum of U^2 per tensor (vector tensors also update their variance here).
  jobs.clear();
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!has_grad(i)) continue;
    const auto& s = st.slots[i];
    const TensorInfo& t = group.info(i);
    detail::AdafactorArgs a = base;
    a.param = param + t.offset;
    a.grad = grad + t.offset;
    if (s.factored) {
      if (s.rows == 0 || s.slice == 0) continue;
      const std::size_t block = std::clamp<std::size_t>(kBlockElements / s.cols, 1, kMaxBlockRows);
      a.cols = s.cols;
      a.row_var = buffer + s.row_var;
      for (std::size_t first = 0; first < s.rows; first += s.slice) {
        double mean = 0.0;
        for (std::size_t r = first; r < first + s.slice; ++r) mean += a.row_var[r];
        mean /= static_cast<double>(s.slice);
        a.inv_row_mean = static_cast<float>(1.0 / std::max(mean, eps1));
        a.col_var = buffer + s.col_var + first / s.slice * s.cols;
        for (std::size_t r = first; r < first + s.slice; r += block)
          jobs.push_back({i, a, r, std::min(r + block, first + s.slice), 0});
      }
    } else {
      a.variance = buffer + s.variance;
      lerp_weight(i, a);
      // The tensor's elements only: in the padding g = 0 and V = 0, and with eps1^2 = 0 in
      // float32 (eps1 below about 4e-23) U = 0 / sqrt(0) would be NaN, in RMS(U) and in p.
      const std::size_t n = t.numel;
      for (std::size_t b = 0; b < n; b += detail::kReduceChunk)
        jobs.push_back({i, a, b, std::min(b + detail::kReduceChunk, n), 0});
    }
  }
  st.partials.assign(jobs.size(), 0.0);
  {
    const auto row_kernel = detail::adafactor_row_norm_kernel(isa());
    const auto vector_kernel = detail::adafactor_vector_norm_kernel(isa());
    auto body = [&](std::size_t j) {
      detail::AdafactorArgs a = jobs[j].args;
      a.out = &st.partials[j];
      (st.slots[jobs[j].tensor].factored ? row_kernel : vector_kernel)(a, jobs[j].begin,
                                                                       jobs[j].end);
    };
    executor().run(jobs.size(), body);
  }

  // Host: each tensor's step -alpha / max(1, RMS(U) / d); its U^2 sums combine in job order.
  st.neg_step.assign(group.size(), 0.0f);
  st.u_sq.assign(group.size(), 0.0);
  for (std::size_t j = 0; j < jobs.size(); ++j) st.u_sq[jobs[j].tensor] += st.partials[j];
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!has_grad(i)) continue;
    const double t = static_cast<double>(states[i].step);
    const double root_numel = std::sqrt(static_cast<double>(group.info(i).numel));
    const double rho = std::min(lr, 1.0 / std::sqrt(t));
    const double alpha = std::max(eps2, std::sqrt(st.p_sq[i]) / root_numel) * rho;
    const double denom = std::max(1.0, std::sqrt(st.u_sq[i]) / (root_numel * d));
    st.neg_step[i] = static_cast<float>(-alpha / denom);
  }

  // Pass 3: p = p * (1 - lr * weight_decay) - step * U, over the same jobs.
  for (auto& j : jobs) j.args.neg_step = st.neg_step[j.tensor];
  {
    const auto row_kernel = detail::adafactor_row_apply_kernel(isa());
    const auto vector_kernel = detail::adafactor_vector_apply_kernel(isa());
    auto body = [&](std::size_t j) {
      (st.slots[jobs[j].tensor].factored ? row_kernel : vector_kernel)(jobs[j].args, jobs[j].begin,
                                                                       jobs[j].end);
    };
    executor().run(jobs.size(), body);
  }
}

}  // namespace v1
}  // namespace simdoptim

SIMDOPTIM_REGISTER(adafactor, {.name = "adafactor",
                               .options = kOptions,
                               .states = kStates,
                               .make = [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
                                 return std::make_unique<Adafactor>(AdafactorOptions{}, r);
                               }})
