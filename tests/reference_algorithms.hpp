#pragma once
// Double-precision references of the elementwise optimizers, for test_reference_algorithms.cpp.
// Each is written from the published algorithm, in its order and notation: torch 1.13's
// documented pseudo-code for the torch optimizers (torch 2.5's for Adafactor), the papers for Lion,
// LAMB and LARS in the variants include/simdoptim/<name>.hpp documents (timm's options). They share
// no code, operation order or precision with the library's kernels on purpose: a term the library
// drops or misplaces shows up as a difference far beyond float32 rounding.
//
// Where torch 1.13's code and its documented pseudo-code disagree, the reference follows the code
// (which is what torch users get, and what the library's headers promise); each such place says so.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace reference {

// A group's hyper-parameters, torch's names (flags as 0/1, betas as beta1/beta2).
using Options = std::map<std::string, double>;

// One parameter: its values, this step's gradient and torch's state[p].
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<double> param;
  std::vector<double> grad;
  bool has_grad = false;
  std::int64_t step = 0;
  std::map<std::string, std::vector<double>> state;  // torch's state arrays, by torch's names
  std::map<std::string, double> scalars;             // torch's 0-d tensor state (mu_product, ...)

  std::size_t numel() const { return param.size(); }
};

struct Group {
  Options options;
  std::vector<Tensor> tensors;

  double get(const std::string& key) const {
    const auto it = options.find(key);
    if (it == options.end()) throw std::out_of_range("reference: no option " + key);
    return it->second;
  }
  bool flag(const std::string& key) const { return get(key) != 0.0; }
};

// One optimisation step over every tensor with a gradient, in every group.
using StepFn = void (*)(std::vector<Group>&);

namespace detail {

// State array `name` of `t`, created filled with `value` on first use (torch's lazy state init).
inline std::vector<double>& state(Tensor& t, const std::string& name, double value = 0.0) {
  return t.state.try_emplace(name, t.numel(), value).first->second;
}

inline double sign(double x) {
  return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
}

inline double l2_norm(const std::vector<double>& x) {
  double s = 0.0;
  for (double v : x) s += v * v;
  return std::sqrt(s);
}

// g_t, with torch's maximize: the gradient's sign flipped before anything else uses it.
inline std::vector<double> objective_grad(const Group& group, const Tensor& t) {
  std::vector<double> g = t.grad;
  if (group.options.count("maximize") != 0 && group.flag("maximize"))
    for (double& x : g) x = -x;
  return g;
}

}  // namespace detail

// torch.optim.SGD. torch 1.13's pseudo-code applies maximize at the end (theta + gamma g); its code
// negates the gradient first, so weight decay and the momentum buffer see -grad. The code is what
// users run; the reference follows it.
inline void sgd(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double mu = group.get("momentum"), tau = group.get("dampening");
    const bool nesterov = group.flag("nesterov");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      const bool first = t.state.count("momentum_buffer") == 0;
      std::vector<double> g = detail::objective_grad(group, t);
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (lambda != 0.0) g[i] = g[i] + lambda * t.param[i];
        if (mu != 0.0) {
          double& b = detail::state(t, "momentum_buffer")[i];
          b = first ? g[i] : mu * b + (1.0 - tau) * g[i];
          g[i] = nesterov ? g[i] + mu * b : b;
        }
        t.param[i] = t.param[i] - gamma * g[i];
      }
    }
  }
}

// torch.optim.Adam (L2 weight decay) and torch.optim.AdamW (decoupled), their pseudo-code.
inline void adam_impl(std::vector<Group>& groups, bool decoupled) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    const bool amsgrad = group.flag("amsgrad");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      auto& m = detail::state(t, "exp_avg");
      auto& v = detail::state(t, "exp_avg_sq");
      std::vector<double>* v_max = amsgrad ? &detail::state(t, "max_exp_avg_sq") : nullptr;
      for (std::size_t i = 0; i < t.numel(); ++i) {
        double& theta = t.param[i];
        if (decoupled)
          theta = theta - gamma * lambda * theta;
        else if (lambda != 0.0)
          g[i] = g[i] + lambda * theta;
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        const double m_hat = m[i] / (1.0 - std::pow(beta1, step));
        double v_hat;
        if (amsgrad) {
          (*v_max)[i] = std::max((*v_max)[i], v[i]);
          v_hat = (*v_max)[i] / (1.0 - std::pow(beta2, step));
        } else {
          v_hat = v[i] / (1.0 - std::pow(beta2, step));
        }
        theta = theta - gamma * m_hat / (std::sqrt(v_hat) + eps);
      }
    }
  }
}
inline void adam(std::vector<Group>& groups) {
  adam_impl(groups, false);
}
inline void adamw(std::vector<Group>& groups) {
  adam_impl(groups, true);
}

// torch.optim.RMSprop.
inline void rmsprop(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double alpha = group.get("alpha"), eps = group.get("eps"), mu = group.get("momentum");
    const bool centered = group.flag("centered");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      std::vector<double> g = detail::objective_grad(group, t);
      auto& v = detail::state(t, "square_avg");
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (lambda != 0.0) g[i] = g[i] + lambda * t.param[i];
        v[i] = alpha * v[i] + (1.0 - alpha) * g[i] * g[i];
        double v_tilde = v[i];
        if (centered) {
          double& g_ave = detail::state(t, "grad_avg")[i];
          g_ave = g_ave * alpha + (1.0 - alpha) * g[i];
          v_tilde = v_tilde - g_ave * g_ave;
        }
        if (mu > 0.0) {
          double& b = detail::state(t, "momentum_buffer")[i];
          b = mu * b + g[i] / (std::sqrt(v_tilde) + eps);
          t.param[i] = t.param[i] - gamma * b;
        } else {
          t.param[i] = t.param[i] - gamma * g[i] / (std::sqrt(v_tilde) + eps);
        }
      }
    }
  }
}

// torch.optim.Adagrad (dense). state_sum starts at initial_accumulator_value.
inline void adagrad(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double eta = group.get("lr_decay"), eps = group.get("eps");
    const double tau = group.get("initial_accumulator_value");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      auto& sum = detail::state(t, "sum", tau);
      const double gamma_tilde = gamma / (1.0 + (step - 1.0) * eta);
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (lambda != 0.0) g[i] = g[i] + lambda * t.param[i];
        sum[i] = sum[i] + g[i] * g[i];
        t.param[i] = t.param[i] - gamma_tilde * g[i] / (std::sqrt(sum[i]) + eps);
      }
    }
  }
}

// torch.optim.Adadelta.
inline void adadelta(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double rho = group.get("rho"), eps = group.get("eps");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      std::vector<double> g = detail::objective_grad(group, t);
      auto& v = detail::state(t, "square_avg");
      auto& u = detail::state(t, "acc_delta");
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (lambda != 0.0) g[i] = g[i] + lambda * t.param[i];
        v[i] = v[i] * rho + g[i] * g[i] * (1.0 - rho);
        const double delta_x = std::sqrt(u[i] + eps) / std::sqrt(v[i] + eps) * g[i];
        u[i] = u[i] * rho + delta_x * delta_x * (1.0 - rho);
        t.param[i] = t.param[i] - gamma * delta_x;
      }
    }
  }
}

// torch.optim.Adamax.
inline void adamax(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      auto& m = detail::state(t, "exp_avg");
      auto& u = detail::state(t, "exp_inf");
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (lambda != 0.0) g[i] = g[i] + lambda * t.param[i];
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        u[i] = std::max(beta2 * u[i], std::fabs(g[i]) + eps);
        t.param[i] = t.param[i] - gamma * m[i] / ((1.0 - std::pow(beta1, step)) * u[i]);
      }
    }
  }
}

// torch.optim.NAdam, plus torch 2.x's decoupled_weight_decay. The pseudo-code's
// prod_{i<=t+1} mu_i is, in torch 1.13's code, mu_product * mu_t * mu_{t+1} with mu_product
// already holding mu_t (mu_t counted twice; torch 2.0 changed it to prod_{i<=t+1} mu_i). The
// library documents 1.13's product, and so does this reference.
inline void nadam(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    const double psi = group.get("momentum_decay");
    const bool decoupled = group.flag("decoupled_weight_decay");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      auto& m = detail::state(t, "exp_avg");
      auto& v = detail::state(t, "exp_avg_sq");
      const double mu_t = beta1 * (1.0 - 0.5 * std::pow(0.96, step * psi));
      const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (step + 1.0) * psi));
      double& product = t.scalars.try_emplace("mu_product", 1.0).first->second;
      product = product * mu_t;
      const double product_next = product * mu_t * mu_next;
      for (std::size_t i = 0; i < t.numel(); ++i) {
        double& theta = t.param[i];
        if (decoupled)
          theta = theta - gamma * lambda * theta;
        else if (lambda != 0.0)
          g[i] = g[i] + lambda * theta;
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        const double m_hat =
            mu_next * m[i] / (1.0 - product_next) + (1.0 - mu_t) * g[i] / (1.0 - product);
        const double v_hat = v[i] / (1.0 - std::pow(beta2, step));
        theta = theta - gamma * m_hat / (std::sqrt(v_hat) + eps);
      }
    }
  }
}

// torch.optim.RAdam, plus torch 2.x's decoupled_weight_decay.
inline void radam(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    const bool decoupled = group.flag("decoupled_weight_decay");
    const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      auto& m = detail::state(t, "exp_avg");
      auto& v = detail::state(t, "exp_avg_sq");
      const double rho_t =
          rho_inf - 2.0 * step * std::pow(beta2, step) / (1.0 - std::pow(beta2, step));
      for (std::size_t i = 0; i < t.numel(); ++i) {
        double& theta = t.param[i];
        if (decoupled)
          theta = theta - gamma * lambda * theta;
        else if (lambda != 0.0)
          g[i] = g[i] + lambda * theta;
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        const double m_hat = m[i] / (1.0 - std::pow(beta1, step));
        if (rho_t > 5.0) {
          const double l_t = std::sqrt(1.0 - std::pow(beta2, step)) / (std::sqrt(v[i]) + eps);
          const double r_t = std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                       ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
          theta = theta - gamma * m_hat * r_t * l_t;
        } else {
          theta = theta - gamma * m_hat;
        }
      }
    }
  }
}

// torch.optim.ASGD: eta_0 = lr, mu_0 = 1, both per tensor.
inline void asgd(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("lambd");
    const double alpha = group.get("alpha"), t0 = group.get("t0");
    const double wd = group.get("weight_decay");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      std::vector<double> g = detail::objective_grad(group, t);
      double& eta = t.scalars.try_emplace("eta", gamma).first->second;
      double& mu = t.scalars.try_emplace("mu", 1.0).first->second;
      auto& ax = detail::state(t, "ax");
      for (std::size_t i = 0; i < t.numel(); ++i) {
        double& theta = t.param[i];
        if (wd != 0.0) g[i] = g[i] + wd * theta;
        theta = theta * (1.0 - lambda * eta);
        theta = theta - eta * g[i];
        ax[i] = mu != 1.0 ? ax[i] + (theta - ax[i]) * mu : theta;
      }
      eta = gamma / std::pow(1.0 + lambda * gamma * step, alpha);
      mu = 1.0 / std::max(1.0, step - t0);
    }
  }
}

// torch.optim.Rprop: step sizes start at lr.
inline void rprop(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double eta_minus = group.get("etaminus"), eta_plus = group.get("etaplus");
    const double gamma_min = group.get("step_size_min"), gamma_max = group.get("step_size_max");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      std::vector<double> g = detail::objective_grad(group, t);
      auto& prev = detail::state(t, "prev");
      auto& eta = detail::state(t, "step_size", group.get("lr"));
      for (std::size_t i = 0; i < t.numel(); ++i) {
        const double s = g[i] * prev[i];
        if (s > 0.0) {
          eta[i] = std::min(eta[i] * eta_plus, gamma_max);
        } else if (s < 0.0) {
          eta[i] = std::max(eta[i] * eta_minus, gamma_min);
          g[i] = 0.0;
        }
        t.param[i] = t.param[i] - eta[i] * detail::sign(g[i]);
        prev[i] = g[i];
      }
    }
  }
}

// Lion, Chen et al. 2023, Program 1: c = interp(g, m, beta1); m = interp(g, m, beta2);
// theta -= lr * (sign(c) + lambda * theta).
inline void lion(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double lr = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      const std::vector<double> g = detail::objective_grad(group, t);
      auto& m = detail::state(t, "exp_avg");
      for (std::size_t i = 0; i < t.numel(); ++i) {
        const double c = beta1 * m[i] + (1.0 - beta1) * g[i];
        m[i] = beta2 * m[i] + (1.0 - beta2) * g[i];
        t.param[i] = t.param[i] - lr * (detail::sign(c) + lambda * t.param[i]);
      }
    }
  }
}

// LAMB, You et al. 2020, Algorithm 2 (phi = identity), with timm's options: the gradients are
// first divided by max(1, ||all gradients|| / max_grad_norm) (0 turns it off); beta3 = 1 - beta1
// with grad_averaging, else 1; the trust ratio is 1 when ||x|| or ||r + lambda x|| is 0, at most 1
// with trust_clip, and applies only with weight decay or always_adapt. Each group clips with its
// own max_grad_norm against the norm over every group's gradients.
inline void lamb(std::vector<Group>& groups) {
  double total = 0.0;
  for (const Group& group : groups)
    for (const Tensor& t : group.tensors)
      if (t.has_grad)
        for (double g : t.grad) total += g * g;
  const double global_norm = std::sqrt(total);
  for (Group& group : groups) {
    const double eta = group.get("lr"), lambda = group.get("weight_decay");
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    const double beta3 = group.flag("grad_averaging") ? 1.0 - beta1 : 1.0;
    const double max_norm = group.get("max_grad_norm");
    const double clip = max_norm > 0.0 && global_norm > max_norm ? global_norm / max_norm : 1.0;
    const bool adapt = lambda != 0.0 || group.flag("always_adapt");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      auto& m = detail::state(t, "exp_avg");
      auto& v = detail::state(t, "exp_avg_sq");
      std::vector<double> update(t.numel());
      for (std::size_t i = 0; i < t.numel(); ++i) {
        const double g = t.grad[i] / clip;
        m[i] = beta1 * m[i] + beta3 * g;
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
        const double m_hat =
            group.flag("bias_correction") ? m[i] / (1.0 - std::pow(beta1, step)) : m[i];
        const double v_hat =
            group.flag("bias_correction") ? v[i] / (1.0 - std::pow(beta2, step)) : v[i];
        const double r = m_hat / (std::sqrt(v_hat) + eps);
        update[i] = r + lambda * t.param[i];
      }
      double ratio = 1.0;
      if (adapt) {
        const double x_norm = detail::l2_norm(t.param), u_norm = detail::l2_norm(update);
        if (x_norm > 0.0 && u_norm > 0.0) ratio = x_norm / u_norm;
        if (group.flag("trust_clip")) ratio = std::min(ratio, 1.0);
      }
      for (std::size_t i = 0; i < t.numel(); ++i) t.param[i] = t.param[i] - eta * ratio * update[i];
    }
  }
}

// LARS, You et al. 2017, Algorithm 1, with timm's options: local lr
// lambda = trust_coeff * ||w|| / (||grad|| + beta ||w|| + eps) (1 when ||w|| or ||grad|| is 0;
// min(lambda / lr, 1) with trust_clip), applied to grad + beta w when weight decay or always_adapt
// is on and the tensor is not excluded (exclude_1d: at most one dimension); then torch's SGD with
// momentum, the global lr outside the buffer.
inline void lars(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), beta = group.get("weight_decay");
    const double m = group.get("momentum"), tau = group.get("dampening");
    const double eta = group.get("trust_coeff"), eps = group.get("eps");
    const bool nesterov = group.flag("nesterov");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      ++t.step;
      std::vector<double> g = t.grad;
      const bool excluded = group.flag("exclude_1d") && t.shape.size() <= 1;
      if ((beta != 0.0 || group.flag("always_adapt")) && !excluded) {
        const double w_norm = detail::l2_norm(t.param), g_norm = detail::l2_norm(t.grad);
        double local_lr = 1.0;
        if (w_norm > 0.0 && g_norm > 0.0) local_lr = eta * w_norm / (g_norm + beta * w_norm + eps);
        if (group.flag("trust_clip")) local_lr = std::min(local_lr / gamma, 1.0);
        for (std::size_t i = 0; i < t.numel(); ++i) g[i] = local_lr * (g[i] + beta * t.param[i]);
      }
      const bool first = t.state.count("momentum_buffer") == 0;
      for (std::size_t i = 0; i < t.numel(); ++i) {
        if (m != 0.0) {
          double& v = detail::state(t, "momentum_buffer")[i];
          v = first ? g[i] : m * v + (1.0 - tau) * g[i];
          g[i] = nesterov ? g[i] + m * v : v;
        }
        t.param[i] = t.param[i] - gamma * g[i];
      }
    }
  }
}

// torch.optim.Adafactor (torch 2.5's pseudo-code: Shazeer & Stern 2018, Algorithms 4 and 5, with
// lr capping rho_t, decoupled weight decay, means instead of sums, and eps1 bounding the row mean
// and V rather than being added to G^2). Tensors of two or more dimensions are factored over their
// last two: R (per row) and C (per column of each slice), V = R C / max(mean of R over the slice's
// rows, eps1); the others keep the full V.
inline void adafactor(std::vector<Group>& groups) {
  for (Group& group : groups) {
    const double gamma = group.get("lr"), lambda = group.get("weight_decay");
    const double beta2_decay = group.get("beta2_decay"), d = group.get("d");
    const double eps1 = group.get("eps1"), eps2 = group.get("eps2");
    for (Tensor& t : group.tensors) {
      if (!t.has_grad) continue;
      const double step = static_cast<double>(++t.step);
      const std::vector<double> g = detail::objective_grad(group, t);
      const std::size_t n = t.numel();
      const double beta2_hat = 1.0 - std::pow(step, beta2_decay);
      const double rho = std::min(gamma, 1.0 / std::sqrt(step));
      const double rms_theta = detail::l2_norm(t.param) / std::sqrt(static_cast<double>(n));
      const double alpha = std::max(eps2, rms_theta) * rho;
      for (double& theta : t.param) theta = theta - gamma * lambda * theta;

      std::vector<double> v_hat(n);
      if (t.shape.size() >= 2) {
        const auto cols = static_cast<std::size_t>(t.shape.back());
        const auto rows_per_slice = static_cast<std::size_t>(t.shape[t.shape.size() - 2]);
        const std::size_t slices = n / (cols * rows_per_slice);
        auto& r = detail::state(t, "row_var");
        r.resize(slices * rows_per_slice);
        auto& c = detail::state(t, "col_var");
        c.resize(slices * cols);
        for (std::size_t s = 0; s < slices; ++s) {
          const std::size_t base = s * rows_per_slice * cols;
          for (std::size_t i = 0; i < rows_per_slice; ++i) {
            double mean = 0.0;
            for (std::size_t j = 0; j < cols; ++j)
              mean += g[base + i * cols + j] * g[base + i * cols + j];
            mean /= static_cast<double>(cols);
            double& ri = r[s * rows_per_slice + i];
            ri = beta2_hat * ri + (1.0 - beta2_hat) * mean;
          }
          for (std::size_t j = 0; j < cols; ++j) {
            double mean = 0.0;
            for (std::size_t i = 0; i < rows_per_slice; ++i)
              mean += g[base + i * cols + j] * g[base + i * cols + j];
            mean /= static_cast<double>(rows_per_slice);
            double& cj = c[s * cols + j];
            cj = beta2_hat * cj + (1.0 - beta2_hat) * mean;
          }
          double r_mean = 0.0;
          for (std::size_t i = 0; i < rows_per_slice; ++i) r_mean += r[s * rows_per_slice + i];
          r_mean /= static_cast<double>(rows_per_slice);
          for (std::size_t i = 0; i < rows_per_slice; ++i)
            for (std::size_t j = 0; j < cols; ++j)
              v_hat[base + i * cols + j] =
                  r[s * rows_per_slice + i] * c[s * cols + j] / std::max(r_mean, eps1);
        }
      } else {
        auto& v = detail::state(t, "variance");
        for (std::size_t i = 0; i < n; ++i) {
          v[i] = beta2_hat * v[i] + (1.0 - beta2_hat) * g[i] * g[i];
          v_hat[i] = v[i];
        }
      }
      std::vector<double> u(n);
      for (std::size_t i = 0; i < n; ++i) u[i] = g[i] / std::sqrt(std::max(v_hat[i], eps1 * eps1));
      const double rms_u = detail::l2_norm(u) / std::sqrt(static_cast<double>(n));
      const double u_scale = std::max(1.0, rms_u / d);
      for (std::size_t i = 0; i < n; ++i) t.param[i] = t.param[i] - alpha * u[i] / u_scale;
    }
  }
}

}  // namespace reference
