"""Small, readable NumPy implementations of the optimizers simdoptim has beyond torch 1.13: Lion,
LAMB, LARS and Adafactor. tools/gen_golden_paper_optimizers.py runs them to write the golden trajectories
of tests/data/paper_optimizers/, which tests/test_paper_optimizers.cpp replays.

Arrays are float32 and every array operation rounds to float32, as torch's CPU kernels do.
Per-tensor scalars (norms, trust ratios, step sizes) are Python doubles, rounded once to float32
where they meet an array; norms are summed in float64.

Each reference takes `groups`, a list of (options, [names]), and `step(params, grads)` updates
the float32 arrays of `params` (name -> array) in place; grads[name] is None when the tensor has
no gradient on this step (torch: p.grad is None), which skips it. Step counts are per tensor.
"""

import math

import numpy as np

f32 = np.float32


def norm(x):
    """L2 norm, summed in float64."""
    return math.sqrt(float(np.sum(np.square(x.astype(np.float64)))))


class _Reference:
    def __init__(self, groups, defaults):
        self.groups = [(dict(defaults, **options), names) for options, names in groups]
        self.state = {}

    def step(self, params, grads):
        for options, names in self.groups:
            for name in names:
                if grads[name] is None:
                    continue
                state = self.state.setdefault(name, {"step": 0})
                state["step"] += 1
                self.update(options, state, params[name], grads[name].astype(f32))


class Lion(_Reference):
    """Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1 (as timm's
    optim/lion.py and optax.lion):
        c = beta1 * m + (1 - beta1) * g
        p = p * (1 - lr * wd) - lr * sign(c)
        m = beta2 * m + (1 - beta2) * g
    """

    def __init__(self, groups):
        super().__init__(groups, dict(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0,
                                      maximize=False))

    def update(self, o, state, p, g):
        if o["maximize"]:
            g = -g
        m = state.setdefault("exp_avg", np.zeros_like(p))
        if o["weight_decay"] != 0:
            p *= f32(1 - o["lr"] * o["weight_decay"])
        c = m * f32(o["beta1"]) + f32(1 - o["beta1"]) * g
        p += f32(-o["lr"]) * np.sign(c)
        m[...] = m * f32(o["beta2"]) + f32(1 - o["beta2"]) * g


class Lamb(_Reference):
    """You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
    minutes", Algorithm 2, with the options of timm's optim/lamb.py: global gradient clipping to
    max_grad_norm before the step, bias_correction, grad_averaging, trust_clip, always_adapt.
        m = beta1 * m + beta3 * g,  beta3 = 1 - beta1 with grad_averaging, else 1
        v = beta2 * v + (1 - beta2) * g^2
        u = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps) + wd * p
        r = ||p|| / ||u|| (1 if either is 0), min(r, 1) with trust_clip, 1 without adaptation
        p = p - lr * r * u
    """

    DEFAULTS = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.01,
                    bias_correction=True, grad_averaging=True, max_grad_norm=1.0,
                    trust_clip=False, always_adapt=False)

    def __init__(self, groups, max_grad_norm=1.0):
        super().__init__(groups, dict(self.DEFAULTS, max_grad_norm=max_grad_norm))
        self.max_grad_norm = max_grad_norm

    def step(self, params, grads):
        present = [g for g in grads.values() if g is not None]
        total = math.sqrt(sum(norm(g) ** 2 for g in present))
        self.clip = 1.0
        if self.max_grad_norm and total > self.max_grad_norm:
            self.clip = total / self.max_grad_norm
        super().step(params, grads)

    def update(self, o, state, p, g):
        t = state["step"]
        if self.clip != 1.0:
            g = g / f32(self.clip)
        m = state.setdefault("exp_avg", np.zeros_like(p))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p))
        beta1, beta2 = o["beta1"], o["beta2"]
        bc1, bc2 = (1 - beta1 ** t, 1 - beta2 ** t) if o["bias_correction"] else (1.0, 1.0)
        beta3 = 1 - beta1 if o["grad_averaging"] else 1.0
        m[...] = m * f32(beta1) + f32(beta3) * g
        v[...] = v * f32(beta2) + f32(1 - beta2) * g * g
        u = (m / f32(bc1)) / (np.sqrt(v) / f32(math.sqrt(bc2)) + f32(o["eps"]))
        if o["weight_decay"] != 0:
            u = u + f32(o["weight_decay"]) * p
        ratio = 1.0
        if o["weight_decay"] != 0 or o["always_adapt"]:
            w_norm, u_norm = norm(p), norm(u)
            ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            if o["trust_clip"]:
                ratio = min(ratio, 1.0)
        p += f32(-o["lr"] * ratio) * u


class Lars(_Reference):
    """You et al. 2017, "Large Batch Training of Convolutional Networks", Algorithm 1, with the
    options of timm's optim/lars.py (trust_clip, always_adapt) and `exclude_1d` (no decay and no
    adaptation for tensors of at most one dimension, as SimCLR/BYOL configure LARS):
        r = trust_coeff * ||p|| / (||g|| + wd * ||p|| + eps) (1 if either norm is 0),
            min(r / lr, 1) with trust_clip
        g = (g + wd * p) * r                              (when adapting)
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf with nesterov, else buf    (when momentum != 0)
        p = p - lr * g
    """

    def __init__(self, groups):
        super().__init__(groups, dict(lr=1.0, momentum=0.0, dampening=0.0, weight_decay=0.0,
                                      nesterov=False, trust_coeff=1e-3, eps=1e-8,
                                      trust_clip=False, always_adapt=False, exclude_1d=False))

    def update(self, o, state, p, g):
        wd = o["weight_decay"]
        adapt = (wd != 0 or o["always_adapt"]) and not (o["exclude_1d"] and p.ndim <= 1)
        if adapt:
            w_norm, g_norm = norm(p), norm(g)
            ratio = 1.0
            if w_norm > 0 and g_norm > 0:
                ratio = o["trust_coeff"] * w_norm / (g_norm + w_norm * wd + o["eps"])
            if o["trust_clip"]:
                ratio = min(ratio / o["lr"], 1.0)
            g = (g + f32(wd) * p) * f32(ratio)
        if o["momentum"] != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf[...] = buf * f32(o["momentum"]) + f32(1 - o["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + f32(o["momentum"]) * buf if o["nesterov"] else buf
        p += f32(-o["lr"]) * g


def lerp(start, end, weight):
    """torch.lerp on float32: start + w * (end - start) for |w| < 0.5, else
    end - (end - start) * (1 - w), with w rounded to float32."""
    w = f32(weight)
    if abs(w) < 0.5:
        return start + w * (end - start)
    return end - (end - start) * (f32(1) - w)


class Adafactor(_Reference):
    """torch 2.5's torch.optim.Adafactor (the algorithm of its documentation,
    https://pytorch.org/docs/2.5/generated/torch.optim.Adafactor.html, after Shazeer & Stern
    2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"), relative step off:
        rho = min(lr, 1 / sqrt(t)),  alpha = max(eps2, RMS(p)) * rho,  w = t^beta2_decay
        p = p * (1 - lr * wd)
        >= 2-D: R = lerp(R, mean(g^2, last dim), w); C = lerp(C, mean(g^2, dim -2), w)
                V = R * C / max(mean(R, dim -2), eps1)
        1-D:    V = lerp(V, g^2, w)
        U = g / sqrt(max(V, eps1^2)),  p = p - alpha / max(1, RMS(U) / d) * U
    eps1 None is float32's epsilon, as torch resolves it for float32 parameters.
    """

    def __init__(self, groups):
        super().__init__(groups, dict(lr=1e-2, beta2_decay=-0.8, eps1=float(np.finfo(f32).eps),
                                      eps2=1e-3, d=1.0, weight_decay=0.0, maximize=False))

    def update(self, o, state, p, g):
        if o["maximize"]:
            g = -g
        t = float(state["step"])
        w = t ** o["beta2_decay"]
        rho = min(o["lr"], 1 / t ** 0.5)
        alpha = max(o["eps2"], norm(p) / math.sqrt(p.size)) * rho
        eps1 = o["eps1"]
        if o["weight_decay"] != 0:
            p *= f32(1 - o["lr"] * o["weight_decay"])
        g64 = g.astype(np.float64)
        if g.ndim > 1:
            row = state.setdefault("row_var", np.zeros(g.shape[:-1] + (1,), f32))
            col = state.setdefault("col_var", np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], f32))
            row[...] = lerp(row, (np.sum(g64 * g64, axis=-1, keepdims=True) / g.shape[-1])
                            .astype(f32), w)
            col[...] = lerp(col, (np.sum(g64 * g64, axis=-2, keepdims=True) / g.shape[-2])
                            .astype(f32), w)
            row_mean = np.mean(row.astype(np.float64), axis=-2, keepdims=True)
            var = (row * col) / np.maximum(row_mean, eps1).astype(f32)
        else:
            v = state.setdefault("variance", np.zeros_like(p))
            v[...] = lerp(v, g * g, w)
            var = v
        u = (f32(1) / np.sqrt(np.maximum(var, f32(eps1 * eps1)))) * g
        denom = max(1.0, norm(u) / (math.sqrt(u.size) * o["d"]))
        p += f32(-alpha / denom) * u
