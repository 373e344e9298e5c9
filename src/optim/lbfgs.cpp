// L-BFGS (torch.optim.LBFGS, 1.13); what it computes is in include/simdoptim/lbfgs.hpp. The loop
// runs on the host over flat vectors; their dot products and axpys are kernels (kernels/axpy_*,
// lbfgs_*, reduce_*).
#include "simdoptim/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "aligned_buffer.hpp"
#include "executor.hpp"
#include "kernels/axpy_kernel.hpp"
#include "kernels/lbfgs_kernel.hpp"
#include "kernels/reduce_kernel.hpp"
#include "optim/option_table.hpp"
#include "optim/registration.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using detail::Check;

// In the order of LbfgsOptions::to_group_options(). LBFGS keeps no state per tensor: its history
// is of the group's flat vector.
constexpr detail::OptionSpec kOptions[] = {
    {"lr", 1.0, Check::non_negative, "learning rate (the step length without a line search)"},
    {"max_iter", 20.0, Check::count, "iterations per step(closure)"},
    {"max_eval", 25.0, Check::count,
     "closure evaluations per step(closure) (torch: None, max_iter * 5 / 4)"},
    {"tolerance_grad", 1e-7, Check::non_negative, "stop when max |g| is at most this"},
    {"tolerance_change", 1e-9, Check::non_negative,
     "stop when the step or the loss changes by less than this (not in the line search's "
     "zoom, which stops at 1e-9, as torch 1.13)"},
    {"history_size", 100.0, Check::count, "curvature pairs kept"},
    {"strong_wolfe", 0.0, Check::flag,
     "strong-Wolfe line search (torch: line_search_fn='strong_wolfe')"},
};

// A scalar as torch's LBFGS holds it: a Python float (double) or a 0-d float32 tensor. torch
// computes an operation with a float32 tensor operand in float32 (the Python operand rounded to
// float first), and Python's min/max keep the object they pick, so the type travels with the
// value. Mirroring it keeps the loop's decisions, and so its iteration counts, torch's.
struct Num {
  double v = 0.0;
  bool f32 = false;
};

Num py(double v) {
  return {v, false};
}
Num ft(double v) {
  return {static_cast<float>(v), true};
}

template <class Op>
Num arith(Num a, Num b, Op op) {
  if (a.f32 || b.f32) return ft(op(static_cast<float>(a.v), static_cast<float>(b.v)));
  return py(op(a.v, b.v));
}
Num operator+(Num a, Num b) {
  return arith(a, b, [](auto x, auto y) { return x + y; });
}
Num operator-(Num a, Num b) {
  return arith(a, b, [](auto x, auto y) { return x - y; });
}
Num operator*(Num a, Num b) {
  return arith(a, b, [](auto x, auto y) { return x * y; });
}
Num operator/(Num a, Num b) {
  return arith(a, b, [](auto x, auto y) { return x / y; });
}
Num operator-(Num a) {
  return {-a.v, a.f32};
}
Num abs(Num a) {
  return {std::fabs(a.v), a.f32};
}
Num sqrt(Num a) {
  return a.f32 ? ft(std::sqrt(static_cast<float>(a.v))) : py(std::sqrt(a.v));
}
template <class Op>
bool compare(Num a, Num b, Op op) {
  if (a.f32 || b.f32) return op(static_cast<float>(a.v), static_cast<float>(b.v));
  return op(a.v, b.v);
}
bool operator<(Num a, Num b) {
  return compare(a, b, [](auto x, auto y) { return x < y; });
}
bool operator>(Num a, Num b) {
  return compare(a, b, [](auto x, auto y) { return x > y; });
}
bool operator<=(Num a, Num b) {
  return compare(a, b, [](auto x, auto y) { return x <= y; });
}
bool operator>=(Num a, Num b) {
  return compare(a, b, [](auto x, auto y) { return x >= y; });
}
// Python's min(a, b) and max(a, b): the first argument unless the second is strictly better.
Num py_min(Num a, Num b) {
  return b < a ? b : a;
}
Num py_max(Num a, Num b) {
  return b > a ? b : a;
}

// torch.optim.lbfgs._cubic_interpolate: minimiser of the cubic through (x1, f1, g1) and
// (x2, f2, g2), clamped to the bounds (default: the interval between x1 and x2).
Num cubic_interpolate(Num x1, Num f1, Num g1, Num x2, Num f2, Num g2, const Num* bounds) {
  Num lo, hi;
  if (bounds != nullptr) {
    lo = bounds[0];
    hi = bounds[1];
  } else if (x1 <= x2) {
    lo = x1;
    hi = x2;
  } else {
    lo = x2;
    hi = x1;
  }
  const Num d1 = g1 + g2 - py(3) * (f1 - f2) / (x1 - x2);
  const Num d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= py(0)) {
    const Num d2 = sqrt(d2_square);
    Num min_pos;
    if (x1 <= x2)
      min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + py(2) * d2));
    else
      min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + py(2) * d2));
    return py_min(py_max(min_pos, lo), hi);
  }
  return (lo + hi) / py(2.);
}

using Buffer = std::unique_ptr<detail::AlignedBuffer>;

// Flat vectors up to this length take dot products and y += a * x as torch 1.13's CPU kernels
// do (dot: float sums in index order; add_ with alpha: fused multiply-add), so small problems
// follow torch's decisions exactly. Longer ones use the parallel kernels (dot: float lanes
// combined in double; axpy: multiply, then add), the same bits on every build and thread count.
constexpr std::size_t kSequentialDot = std::size_t{1} << 12;

}  // namespace

// The flat vectors (each the group's padded arena length, 64-byte aligned) and torch's state.
struct Lbfgs::State {
  std::size_t n = 0;
  Buffer flat_grad, prev_flat_grad, d, x_init, q, g0, g_prev, g_new, bracket_g[2];
  // A ring of history_size + 1 slots: `count` pairs from `first` on, and always a free slot for
  // the candidate pair, which is kept only when its curvature y.s is positive enough.
  std::vector<Buffer> old_dirs, old_stps;
  std::vector<Num> ro, al;
  std::size_t first = 0, count = 0;
  Num t, h_diag = py(1), prev_loss;
  bool has_prev = false;
  std::int64_t n_iter = 0, func_evals = 0;
  std::vector<double> partials;
  detail::StepPlan<detail::AxpyArgs> axpy_plan;
  detail::StepPlan<detail::ScaleArgs> scale_plan;
};

GroupOptions LbfgsOptions::to_group_options() const {
  // In double, as prepare_param_group: max_iter * 5 overflows for a huge (refused) max_iter.
  const double eval = max_eval ? static_cast<double>(*max_eval)
                               : std::floor(static_cast<double>(max_iter) * 5.0 / 4.0);
  return {{"lr", lr},
          {"max_iter", static_cast<double>(max_iter)},
          {"max_eval", eval},
          {"tolerance_grad", tolerance_grad},
          {"tolerance_change", tolerance_change},
          {"history_size", static_cast<double>(history_size)},
          {"strong_wolfe", strong_wolfe ? 1.0 : 0.0}};
}

Lbfgs::Lbfgs(LbfgsOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime),
      state_(std::make_unique<State>()),
      max_eval_follows_max_iter_(!options.max_eval) {
  validate(defaults());
}

Lbfgs::Lbfgs(std::vector<ParamSpec> params, LbfgsOptions options, RuntimeOptions runtime)
    : Lbfgs(options, runtime) {
  add_param_group(std::move(params));
}

Lbfgs::~Lbfgs() = default;

std::int64_t Lbfgs::n_iter() const noexcept {
  return state_->n_iter;
}
std::int64_t Lbfgs::func_evals() const noexcept {
  return state_->func_evals;
}

void Lbfgs::validate(const GroupOptions& o) const {
  detail::validate_options(kOptions, o);
}

void Lbfgs::prepare_param_group(GroupOptions& options, const GroupOptions& overrides) const {
  if (!param_groups().empty())
    throw std::invalid_argument("LBFGS doesn't support per-parameter options (parameter groups)");
  // As torch's constructor: an absent max_eval is max_iter * 5 // 4 of the max_iter given.
  if (max_eval_follows_max_iter_ && overrides.contains("max_iter") &&
      !overrides.contains("max_eval"))
    options.set("max_eval", std::floor(options.get("max_iter") * 5.0 / 4.0));
}

void Lbfgs::step_group(ParamGroup&) {
  throw std::logic_error("LBFGS needs a closure: call step(closure)");
}

double Lbfgs::step(const std::function<double()>& closure) {
  if (param_groups().empty())
    throw std::logic_error("LBFGS has no param group: add one with add_param_group");
  ParamGroup& group = param_groups().front();
  const GroupOptions& o = group.options();
  const Num lr = py(o.get("lr"));
  const auto max_iter = static_cast<std::int64_t>(o.get("max_iter"));
  const auto max_eval = static_cast<std::int64_t>(o.get("max_eval"));
  const Num tolerance_grad = py(o.get("tolerance_grad"));
  const Num tolerance_change = py(o.get("tolerance_change"));
  const auto history_size = static_cast<std::size_t>(o.get("history_size"));
  const bool strong_wolfe = o.flag("strong_wolfe");

  State& st = *state_;
  const std::size_t n = group.padded_numel();
  auto fresh = [&](Buffer& b) {
    if (!b) b = std::make_unique<detail::AlignedBuffer>(std::max<std::size_t>(n, 1), 0);
    return b->data();
  };
  st.n = n;
  float* const param = group.param_arena().data();
  float* const flat_grad = fresh(st.flat_grad);
  for (Buffer* b : {&st.prev_flat_grad, &st.d, &st.x_init, &st.q, &st.g0, &st.g_prev, &st.g_new,
                    &st.bracket_g[0], &st.bracket_g[1]})
    fresh(*b);
  const std::size_t ring = history_size + 1;
  if (st.ro.size() != ring) {
    st.old_dirs.resize(ring);
    st.old_stps.resize(ring);
    st.ro.assign(ring, py(0));
    st.al.assign(history_size, py(0));
    st.first = st.count = 0;
  }
  for (std::size_t i = 0; i < group.size(); ++i) group.tensor_states()[i].initialized = true;

  // Deterministic vector operations over [0, n): fixed chunks combined in order.
  const Isa isa = this->isa();
  auto dot = [&](const float* x, const float* y) {
    if (n <= kSequentialDot) {
      // torch 1.13's dot of float32 vectors accumulates in float, in index order.
      float s = 0.0f;
      for (std::size_t i = 0; i < n; ++i) s += x[i] * y[i];
      return ft(s);
    }
    const std::size_t jobs = (n + detail::kReduceChunk - 1) / detail::kReduceChunk;
    st.partials.assign(jobs, 0.0);
    const auto kernel = detail::dot_kernel(isa);
    auto body = [&](std::size_t j) {
      const std::size_t b = j * detail::kReduceChunk;
      kernel({x, y, &st.partials[j]}, b, std::min(b + detail::kReduceChunk, n));
    };
    executor().run(jobs, body);
    double s = 0.0;
    for (double p : st.partials) s += p;
    return ft(s);  // torch's dot of float32 vectors is a float32 tensor
  };
  auto abs_max = [&](const float* x) {
    const std::size_t jobs = (n + detail::kReduceChunk - 1) / detail::kReduceChunk;
    st.partials.assign(jobs, 0.0);
    const auto kernel = detail::abs_max_kernel(isa);
    auto body = [&](std::size_t j) {
      const std::size_t b = j * detail::kReduceChunk;
      kernel({x, &st.partials[j]}, b, std::min(b + detail::kReduceChunk, n));
    };
    executor().run(jobs, body);
    double m = 0.0;
    for (double p : st.partials) m = (std::isnan(p) || p > m) ? p : m;
    return ft(m);
  };
  auto axpy = [&](float* y, Num a, const float* x) {  // y += a * x
    if (n <= kSequentialDot) {
      // torch's add_(x, alpha=a) is a fused multiply-add on its CPU kernels.
      const auto alpha = static_cast<float>(a.v);
      for (std::size_t i = 0; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
      return;
    }
    st.axpy_plan.clear();
    st.axpy_plan.add({y, x, static_cast<float>(a.v)}, 0, n);
    st.axpy_plan.run(executor(), detail::axpy_kernel(isa));
  };
  auto scale = [&](float* y, Num a, const float* x) {  // y = a * x
    st.scale_plan.clear();
    st.scale_plan.add({y, x, static_cast<float>(a.v)}, 0, n);
    st.scale_plan.run(executor(), detail::scale_kernel(isa));
  };
  auto copy = [&](float* to, const float* from) { std::memcpy(to, from, n * sizeof(float)); };
  // torch's _gather_flat_grad: a tensor without a gradient contributes zeros.
  auto gather_flat_grad = [&](float* out) {
    const float* grad = group.grad_arena().data();
    copy(out, grad);
    for (std::size_t i = 0; i < group.size(); ++i)
      if (!group.has_grad(i)) {
        const TensorInfo& t = group.info(i);
        std::fill(out + t.offset, out + t.offset + t.numel, 0.0f);
      }
  };
  auto evaluate = [&](float* grad_out) {
    const double loss = closure();
    gather_flat_grad(grad_out);
    return py(static_cast<double>(static_cast<float>(loss)));
  };

  // Evaluate the initial f(x) and df/dx.
  const double orig_loss = closure();
  Num loss = py(static_cast<double>(static_cast<float>(orig_loss)));
  std::int64_t current_evals = 1;
  ++st.func_evals;
  gather_flat_grad(flat_grad);
  if (abs_max(flat_grad) <= tolerance_grad) return orig_loss;

  float* const d = st.d->data();
  float* const prev_flat_grad = st.prev_flat_grad->data();
  std::int64_t n_iter = 0;
  while (n_iter < max_iter) {
    ++n_iter;
    ++st.n_iter;
    // The L-BFGS direction.
    if (st.n_iter == 1) {
      scale(d, py(-1), flat_grad);
      st.first = st.count = 0;
      st.h_diag = py(1);
    } else {
      float* const q = st.q->data();
      // y = flat_grad - prev_flat_grad, s = d * t, into the ring's next slot.
      const std::size_t slot = (st.first + st.count) % ring;
      float* const y = fresh(st.old_dirs[slot]);
      float* const s = fresh(st.old_stps[slot]);
      scale(y, py(1), flat_grad);
      axpy(y, py(-1), prev_flat_grad);
      scale(s, st.t, d);
      const Num ys = dot(y, s);
      if (ys > py(1e-10)) {
        if (st.count == history_size) {
          st.first = (st.first + 1) % ring;
        } else {
          ++st.count;
        }
        st.ro[slot] = py(1.) / ys;
        st.h_diag = ys / dot(y, y);
      }
      auto at = [&](std::size_t i) { return (st.first + i) % ring; };
      scale(q, py(-1), flat_grad);
      for (std::size_t k = st.count; k-- > 0;) {
        const std::size_t i = at(k);
        st.al[k] = dot(st.old_stps[i]->data(), q) * st.ro[i];
        axpy(q, -st.al[k], st.old_dirs[i]->data());
      }
      scale(d, st.h_diag, q);
      for (std::size_t k = 0; k < st.count; ++k) {
        const std::size_t i = at(k);
        const Num be = dot(st.old_dirs[i]->data(), d) * st.ro[i];
        axpy(d, st.al[k] - be, st.old_stps[i]->data());
      }
    }
    copy(prev_flat_grad, flat_grad);
    st.prev_loss = loss;

    // The step length.
    if (st.n_iter == 1) {
      double abs_sum = 0.0;
      for (std::size_t i = 0; i < n; ++i) abs_sum += std::fabs(flat_grad[i]);
      st.t = py_min(py(1.), py(1.) / ft(abs_sum)) * lr;
    } else {
      st.t = lr;
    }
    const Num gtd = dot(flat_grad, d);
    if (gtd > -tolerance_change) break;

    std::int64_t ls_func_evals = 0;
    bool opt_cond = false;
    if (strong_wolfe) {
      // torch.optim.lbfgs._strong_wolfe with c1 = 1e-4, c2 = 0.9, max_ls = 25.
      const Num c1 = py(1e-4), c2 = py(0.9);
      const std::int64_t max_ls = 25;
      copy(st.x_init->data(), param);
      auto obj_func = [&](Num t) {  // loss at x_init + t * d, gradient into g_new
        axpy(param, t, d);
        const Num f = evaluate(st.g_new->data());
        copy(param, st.x_init->data());
        return f;
      };
      const Num f = loss;
      Num t = st.t;
      const Num d_norm = abs_max(d);
      float* const g0 = st.g0->data();
      copy(g0, flat_grad);
      Num f_new = obj_func(t);
      ls_func_evals = 1;
      Num gtd_new = dot(st.g_new->data(), d);
      Num t_prev = py(0), f_prev = f, gtd_prev = gtd;
      float* const g_prev = st.g_prev->data();
      copy(g_prev, g0);
      bool done = false;
      std::int64_t ls_iter = 0;
      Num bracket[2], bracket_f[2], bracket_gtd[2];
      std::size_t bracket_size = 0;
      float* const bg[2] = {st.bracket_g[0]->data(), st.bracket_g[1]->data()};
      while (ls_iter < max_ls) {
        if (f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
          bracket[0] = t_prev, bracket[1] = t, bracket_size = 2;
          bracket_f[0] = f_prev, bracket_f[1] = f_new;
          copy(bg[0], g_prev), copy(bg[1], st.g_new->data());
          bracket_gtd[0] = gtd_prev, bracket_gtd[1] = gtd_new;
          break;
        }
        if (abs(gtd_new) <= -c2 * gtd) {
          bracket[0] = t, bracket_size = 1;
          bracket_f[0] = f_new;
          copy(bg[0], st.g_new->data());
          done = true;
          break;
        }
        if (gtd_new >= py(0)) {
          bracket[0] = t_prev, bracket[1] = t, bracket_size = 2;
          bracket_f[0] = f_prev, bracket_f[1] = f_new;
          copy(bg[0], g_prev), copy(bg[1], st.g_new->data());
          bracket_gtd[0] = gtd_prev, bracket_gtd[1] = gtd_new;
          break;
        }
        const Num bounds[2] = {t + py(0.01) * (t - t_prev), t * py(10)};
        const Num tmp = t;
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds);
        t_prev = tmp;
        f_prev = f_new;
        copy(g_prev, st.g_new->data());
        gtd_prev = gtd_new;
        f_new = obj_func(t);
        ++ls_func_evals;
        gtd_new = dot(st.g_new->data(), d);
        ++ls_iter;
      }
      if (ls_iter == max_ls) {
        bracket[0] = py(0), bracket[1] = t, bracket_size = 2;
        bracket_f[0] = f, bracket_f[1] = f_new;
        copy(bg[0], g0), copy(bg[1], st.g_new->data());
      }
      // Zoom: refine the bracket until a point satisfies the conditions.
      bool insuf_progress = false;
      auto last = [&] { return bracket_size - 1; };
      std::size_t low = bracket_f[0] <= bracket_f[last()] ? 0 : 1;
      std::size_t high = 1 - low;
      while (!done && ls_iter < max_ls) {
        // torch 1.13 calls _strong_wolfe without the group's tolerance_change: the zoom
        // always stops at its default, 1e-9.
        if (abs(bracket[1] - bracket[0]) * d_norm < py(1e-9)) break;
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                              bracket_gtd[1], nullptr);
        const Num b_max = py_max(bracket[0], bracket[1]);
        const Num b_min = py_min(bracket[0], bracket[1]);
        const Num eps = py(0.1) * (b_max - b_min);
        if (py_min(b_max - t, t - b_min) < eps) {
          if (insuf_progress || t >= b_max || t <= b_min) {
            t = abs(t - b_max) < abs(t - b_min) ? b_max - eps : b_min + eps;
            insuf_progress = false;
          } else {
            insuf_progress = true;
          }
        } else {
          insuf_progress = false;
        }
        f_new = obj_func(t);
        ++ls_func_evals;
        gtd_new = dot(st.g_new->data(), d);
        ++ls_iter;
        if (f_new > (f + c1 * t * gtd) || f_new >= bracket_f[low]) {
          bracket[high] = t;
          bracket_f[high] = f_new;
          copy(bg[high], st.g_new->data());
          bracket_gtd[high] = gtd_new;
          low = bracket_f[0] <= bracket_f[1] ? 0 : 1;
          high = 1 - low;
        } else {
          if (abs(gtd_new) <= -c2 * gtd) {
            done = true;
          } else if (gtd_new * (bracket[high] - bracket[low]) >= py(0)) {
            bracket[high] = bracket[low];
            bracket_f[high] = bracket_f[low];
            copy(bg[high], bg[low]);
            bracket_gtd[high] = bracket_gtd[low];
          }
          bracket[low] = t;
          bracket_f[low] = f_new;
          copy(bg[low], st.g_new->data());
          bracket_gtd[low] = gtd_new;
        }
      }
      st.t = bracket[low];
      loss = bracket_f[low];
      copy(flat_grad, bg[low]);
      axpy(param, st.t, d);
      opt_cond = abs_max(flat_grad) <= tolerance_grad;
    } else {
      axpy(param, st.t, d);
      if (n_iter != max_iter) {
        loss = evaluate(flat_grad);
        opt_cond = abs_max(flat_grad) <= tolerance_grad;
        ls_func_evals = 1;
      }
    }
    current_evals += ls_func_evals;
    st.func_evals += ls_func_evals;

    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    if (opt_cond) break;
    // Lack of progress: max |d * t| (a float32 vector in torch) or the loss change.
    const float t32 = static_cast<float>(st.t.v);
    float step_max = 0.0f;
    for (std::size_t i = 0; i < n; ++i) step_max = std::max(step_max, std::fabs(d[i] * t32));
    if (ft(step_max) <= tolerance_change) break;
    if (abs(loss - st.prev_loss) < tolerance_change) break;
  }
  return orig_loss;
}

}  // namespace v1
}  // namespace simdoptim

SIMDOPTIM_REGISTER(lbfgs, {.name = "lbfgs",
                           .options = kOptions,
                           .states = {},
                           .make = [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
                             return std::make_unique<Lbfgs>(LbfgsOptions{}, r);
                           }})
