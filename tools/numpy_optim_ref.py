"""Readable NumPy implementations of NAdam and RAdam with `decoupled_weight_decay`, an option
newer than torch 1.13, for the golden files of tools/gen_golden_torch_elementwise.py.

Formulas:
- NAdam: torch 2.x documentation, https://pytorch.org/docs/2.1/generated/torch.optim.NAdam.html
  (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop). With
  decoupled_weight_decay the parameter decays before the update, theta *= 1 - lr * weight_decay
  (as AdamW, Loshchilov & Hutter 2019), and the gradient gets no L2 term. The momentum product
  in the second term is torch 1.13's: nadam.py computes mu_product * mu * mu_next as float32
  tensors (torch >= 2.0 uses mu_product * mu_next); simdoptim follows torch 1.13 throughout.
- RAdam: torch 2.x documentation, https://pytorch.org/docs/2.1/generated/torch.optim.RAdam.html
  (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020), with the
  same decoupled decay.

Every array is float32 and every operation rounds to float32, as torch's CPU kernels do; the
per-step scalars are Python doubles rounded once to float32 where they meet an array.
"""

import math

import numpy as np
import torch

f32 = np.float32


class _Reference:
    """The part of torch.optim.Optimizer the golden generator uses: param_groups, state, step."""

    def __init__(self, groups, defaults):
        self.param_groups = [dict(defaults, **g) for g in groups]
        self.state = {}

    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                # Shares memory with p: updating theta in place updates the torch tensor.
                theta = p.detach().numpy()
                self.update(group, state, theta, p.grad.detach().numpy().copy())

    @staticmethod
    def zeros_like(theta):
        return torch.from_numpy(np.zeros_like(theta, dtype=f32))

    @staticmethod
    def decay(group, theta, grad):
        """L2 (grad += wd * theta) or decoupled (theta *= 1 - lr * wd) weight decay."""
        wd = group["weight_decay"]
        if wd == 0:
            return grad
        if group["decoupled_weight_decay"]:
            theta *= f32(1 - group["lr"] * wd)
            return grad
        return grad + f32(wd) * theta


class NAdam(_Reference):
    def __init__(self, groups):
        super().__init__(groups, dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                      momentum_decay=4e-3, decoupled_weight_decay=False))

    def update(self, group, state, theta, grad):
        if not state:
            state["step"] = torch.tensor(0.0)
            state["mu_product"] = torch.tensor(1.0)
            state["exp_avg"] = self.zeros_like(theta)
            state["exp_avg_sq"] = self.zeros_like(theta)
        beta1, beta2 = group["betas"]
        lr, psi = group["lr"], group["momentum_decay"]
        state["step"] += 1
        t = state["step"].item()
        grad = self.decay(group, theta, grad)

        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = f32(state["mu_product"].item()) * f32(mu)
        mu_product_next = mu_product * f32(mu) * f32(mu_next)  # torch 1.13's product
        state["mu_product"] = torch.tensor(float(mu_product))

        m = state["exp_avg"].numpy()
        v = state["exp_avg_sq"].numpy()
        m[:] = m * f32(beta1) + f32(1 - beta1) * grad
        v[:] = v * f32(beta2) + f32(1 - beta2) * grad * grad
        denom = np.sqrt(v / f32(1 - beta2 ** t)) + f32(group["eps"])
        theta += f32(-lr * (1 - mu) / (1 - float(mu_product))) * grad / denom
        theta += f32(-lr * mu_next / (1 - float(mu_product_next))) * m / denom


class RAdam(_Reference):
    def __init__(self, groups):
        super().__init__(groups, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                      decoupled_weight_decay=False))

    def update(self, group, state, theta, grad):
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = self.zeros_like(theta)
            state["exp_avg_sq"] = self.zeros_like(theta)
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        state["step"] += 1
        t = state["step"].item()
        grad = self.decay(group, theta, grad)

        m = state["exp_avg"].numpy()
        v = state["exp_avg_sq"].numpy()
        m[:] = m * f32(beta1) + f32(1 - beta1) * grad
        v[:] = v * f32(beta2) + f32(1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        m_hat = m / f32(bias_correction1)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                             ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive_lr = f32(math.sqrt(bias_correction2)) / (np.sqrt(v) + f32(group["eps"]))
            theta -= m_hat * f32(lr) * adaptive_lr * f32(rect)
        else:
            theta -= m_hat * f32(lr)


OPTIMIZERS = {"nadam": NAdam, "radam": RAdam}


def _values(lines):
    """The float32 values of golden record lines, keyed by the line's leading words."""
    out = {}
    for line in lines:
        words = line.split()
        hexes = [w for w in words if len(w) == 8 and all(c in "0123456789abcdef" for c in w)]
        key = " ".join(w for w in words if w not in hexes)
        out[key] = np.array([int(h, 16) for h in hexes], dtype=np.uint32).view(np.float32)
    return out


def max_relative_difference(ours, theirs):
    """max |a - b| / (|b| + 1e-3) over every value of two runs' record lines (same layout)."""
    a, b = _values(ours), _values(theirs)
    if a.keys() != b.keys():
        raise ValueError("the two runs recorded different state")
    worst = 0.0
    for key in b:
        x, y = a[key].astype(np.float64), b[key].astype(np.float64)
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y) / (np.abs(y) + 1e-3))))
    return worst
