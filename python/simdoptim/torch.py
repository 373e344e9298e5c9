"""simdoptim.torch: drop-in replacements for torch.optim optimizers that run simdoptim's kernels.

    import simdoptim.torch
    opt = simdoptim.torch.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    # the training loop is unchanged: loss.backward(); opt.step(); opt.zero_grad()

Each class subclasses torch.optim.Optimizer with torch's constructor signature and param-group
dicts. On construction every parameter's data moves into simdoptim's flat arenas and the torch
tensor becomes a zero-copy view of it (``p.data`` is replaced). Gradients:

* The first time a parameter has a gradient at ``step()``, it is copied into the gradient arena
  and ``p.grad`` becomes a view of it; from then on ``backward()`` accumulates straight into the
  arena (autograd adds into an existing ``.grad`` in place) and ``step()`` copies nothing.
* A parameter whose ``p.grad`` is None at ``step()`` is skipped, exactly as torch skips it. A
  parameter that never gets a gradient therefore keeps ``grad is None`` and is never updated.
* ``zero_grad()`` zero-fills and keeps the views: ``set_to_none`` is treated as False whatever is
  passed (torch 1.13's default), so a parameter that had a gradient once and gets none in a later
  backward has a zero gradient and is still updated (momentum and weight decay act), as in torch
  with ``set_to_none=False``. Setting ``p.grad = None`` yourself (or
  ``model.zero_grad(set_to_none=True)``) still works: the parameter is skipped until it has a
  gradient again, which then costs one copy.

Group options are read from the group dicts at every ``step()``, so torch's lr schedulers (which
write ``group['lr']``, ``group['betas']``, ``group['momentum']``) work unchanged.
``state_dict()`` / ``load_state_dict()`` use torch's format: a state dict saved from
``torch.optim.AdamW`` loads into ``simdoptim.torch.AdamW`` and back.

Parameters must be float32 CPU tensors. Extra keyword arguments ``isa`` ("scalar", "sse2",
"avx2", "avx512", "neon") and ``num_threads`` choose the kernel build and thread count.
Guide: docs/python.md.
"""
import torch as _torch
from torch.optim.optimizer import Optimizer as _TorchOptimizer
from torch.optim.optimizer import required as _required

from . import _simdoptim as _native

__all__ = [
    "SimdOptimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
    "LBFGS",
    "Lion",
    "Lamb",
    "Lars",
    "Adafactor",
]

# torch's tuple arguments -> simdoptim's option keys.
_TUPLE_KEYS = {
    "betas": ("beta1", "beta2"),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
}
# torch's implementation switches: accepted for signature compatibility; simdoptim has one
# implementation, so they change nothing (a True capturable/differentiable/fused is refused).
_SWITCHES = ("foreach", "capturable", "differentiable", "fused")
# Keys a group may carry besides the optimizer's options (set by schedulers).
_EXTRA_KEYS = ("initial_lr", "lr_scale")


class SimdOptimizer(_TorchOptimizer):
    """Base of the drop-ins: a torch.optim.Optimizer whose parameters live in simdoptim arenas."""

    #: simdoptim's optimizer name (Optimizer.name).
    _native_name = None
    #: Whether torch keeps state['step'] for this optimizer (SGD does not).
    _torch_has_step = True
    #: torch's 0-d state tensors that simdoptim keeps as per-tensor scalars.
    _torch_scalar_state = ()

    def __init__(self, params, defaults, *, isa=None, num_threads=0):
        for switch in ("capturable", "differentiable", "fused"):
            if defaults.get(switch):
                raise ValueError(f"simdoptim.torch: {switch}=True is not supported (CPU only)")
        self._runtime = (isa, int(num_threads))
        self._native = None
        self._native_keys = frozenset(_native.optimizer_defaults(self._native_name))
        self._views = []  # per group: [(param view, grad view)] as torch tensors
        self._synced = []  # per group: the options last written to the native group
        super().__init__(params, defaults)

    # ---- construction ----

    def _to_native(self, group):
        """The simdoptim options of a torch group dict (torch keyword names -> option keys)."""
        options = {}
        for key, value in group.items():
            if key == "params" or key in _SWITCHES or value is None:
                continue
            if key in _TUPLE_KEYS and _TUPLE_KEYS[key][0] in self._native_keys:
                first, second = _TUPLE_KEYS[key]
                options[first], options[second] = float(value[0]), float(value[1])
            elif key in self._native_keys or key in _EXTRA_KEYS:
                options[key] = float(value)
            # Any other key (a user's tag, a scheduler's bookkeeping) stays in the dict only.
        return options

    def add_param_group(self, param_group):
        """torch's add_param_group; moves the group's parameters into a new arena."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        params = group["params"]
        for p in params:
            if p.dtype != _torch.float32 or p.device.type != "cpu" or p.is_sparse:
                raise TypeError(
                    f"simdoptim.torch: parameters must be dense float32 CPU tensors, got "
                    f"{p.dtype} on {p.device}"
                )
        g = len(self._views)
        names = [(f"group{g}.param{i}", tuple(p.shape)) for i, p in enumerate(params)]
        options = self._to_native(group)
        if self._native is None:
            isa, num_threads = self._runtime
            self._native = _native.Optimizer.create(
                self._native_name, names, options, isa=isa, num_threads=num_threads
            )
        else:
            self._native.add_param_group(names, options)
        views = []
        with _torch.no_grad():
            for i, p in enumerate(params):
                pv = _torch.from_numpy(self._native.param(g, i))
                gv = _torch.from_numpy(self._native.grad(g, i))
                pv.copy_(p.data)
                p.data = pv
                if p.grad is not None:
                    gv.copy_(p.grad)
                    p.grad = gv
                views.append((pv, gv))
        self._views.append(views)
        self._synced.append(options)

    # ---- the step ----

    def _sync(self):
        """Writes changed group options and each parameter's gradient presence into simdoptim;
        adopts gradients and data that torch allocated outside the arenas."""
        native = self._native
        for g, group in enumerate(self.param_groups):
            options = self._to_native(group)
            if options != self._synced[g]:
                native.set_group_options(g, options)
                self._synced[g] = options
            present = []
            for p, (pv, gv) in zip(group["params"], self._views[g]):
                if p.data_ptr() != pv.data_ptr():  # p.data was replaced
                    with _torch.no_grad():
                        pv.copy_(p.data)
                    p.data = pv
                grad = p.grad
                if grad is None:
                    present.append(False)
                    continue
                if grad.data_ptr() != gv.data_ptr():  # a fresh gradient from autograd
                    with _torch.no_grad():
                        gv.copy_(grad)
                    p.grad = gv
                present.append(True)
            native.set_has_grads(g, present)

    def step(self, closure=None):
        """torch's step(closure=None): runs the closure (with grad enabled), then one fused
        simdoptim step over every parameter that has a gradient. Returns the closure's loss."""
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        self._sync()
        self._native.step()
        return loss

    def zero_grad(self, set_to_none=False):
        """Zero-fills every gradient and keeps the arena views (set_to_none is ignored: see the
        module docstring). Gradients outside the arenas are zeroed as torch does."""
        del set_to_none
        self._native.zero_grad_arenas()
        for g, group in enumerate(self.param_groups):
            for p, (_, gv) in zip(group["params"], self._views[g]):
                grad = p.grad
                if grad is not None and grad.data_ptr() != gv.data_ptr():
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    # ---- torch's state_dict format ----

    def _torch_tensor_state(self, entry, p):
        state = {}
        if self._torch_has_step:
            state["step"] = _torch.tensor(float(entry["step"]))
        for name, value in entry["scalars"].items():
            state[name] = _torch.tensor(value)
        for name, array in entry["arrays"].items():
            state[name] = _torch.from_numpy(array).view(p.shape)
        return state

    def state_dict(self):
        """torch's optimizer.state_dict(): {'state': {index: {...}}, 'param_groups': [...]}, with
        copies of the state tensors."""
        self._sync()
        native = self._native.state_dict()
        state, groups, index = {}, [], 0
        for group, native_group in zip(self.param_groups, native):
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for i, (p, entry) in enumerate(zip(group["params"], native_group["tensors"])):
                if entry["initialized"]:
                    state[index + i] = self._torch_tensor_state(entry, p)
            index += len(group["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def _native_tensor_state(self, state, scalar_names):
        entry = {"step": 0, "initialized": False, "arrays": {}, "scalars": {}}
        if not state:
            return entry
        for name, value in state.items():
            if value is None:  # torch's SGD keeps momentum_buffer=None without momentum
                continue
            if name == "step":
                entry["step"] = int(value.item() if _torch.is_tensor(value) else value)
                entry["initialized"] = True
            elif name in scalar_names:
                entry["scalars"][name] = float(value)
                entry["initialized"] = True
            else:
                tensor = value.detach().to(dtype=_torch.float32, device="cpu").contiguous()
                entry["arrays"][name] = tensor.reshape(-1).numpy()
                entry["initialized"] = True
        return entry

    def load_state_dict(self, state_dict):
        """torch's load_state_dict(): restores options and state from a torch-format dict (from
        this class or from the torch.optim class it replaces). Everything is checked before
        anything changes; a mismatch raises ValueError or RuntimeError."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        saved_state = state_dict["state"]
        scalar_names = set(self._torch_scalar_state)
        new_groups, native_groups = [], []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_group = dict(saved)
            new_group["params"] = group["params"]
            options = self._native.group_options(g)
            options.update(self._to_native(new_group))
            tensors = [
                self._native_tensor_state(saved_state.get(index), scalar_names)
                for index in saved["params"]
            ]
            native_groups.append({"options": options, "tensors": tensors})
            new_groups.append(new_group)
        self._native.load_state_dict(native_groups)
        self.param_groups = new_groups
        self._synced = [self._to_native(group) for group in new_groups]
        self.state.clear()

    # ---- simdoptim extras ----

    @property
    def native(self):
        """The simdoptim.Optimizer underneath (arenas, isa, num_threads, checkpoints)."""
        return self._native

    @property
    def isa(self):
        return self._native.isa

    @property
    def num_threads(self):
        return self._native.num_threads

    def clip_grad_norm_(self, max_norm, norm_type=2.0, error_if_nonfinite=False):
        """torch.nn.utils.clip_grad_norm_ over this optimizer's parameters, in the arenas
        (one fused pass); returns the total norm as a float32 tensor, as torch."""
        self._sync()
        norm = self._native.clip_grad_norm_(
            float(max_norm), float(norm_type), bool(error_if_nonfinite)
        )
        return _torch.tensor(norm, dtype=_torch.float32)


def _switch_kwargs(foreach=None, capturable=False, differentiable=False, fused=False):
    return dict(foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused)


class SGD(SimdOptimizer):
    """torch.optim.SGD."""

    _native_name = "sgd"
    _torch_has_step = False

    def __init__(self, params, lr=_required, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 isa=None, num_threads=0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Adam(SimdOptimizer):
    """torch.optim.Adam."""

    _native_name = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class AdamW(SimdOptimizer):
    """torch.optim.AdamW."""

    _native_name = "adamw"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False, isa=None,
                 num_threads=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        foreach=foreach, maximize=maximize, capturable=capturable)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class RMSprop(SimdOptimizer):
    """torch.optim.RMSprop."""

    _native_name = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, foreach=None, maximize=False, differentiable=False, *,
                 isa=None, num_threads=0):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Adagrad(SimdOptimizer):
    """torch.optim.Adagrad."""

    _native_name = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Adadelta(SimdOptimizer):
    """torch.optim.Adadelta."""

    _native_name = "adadelta"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 maximize=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Adamax(SimdOptimizer):
    """torch.optim.Adamax."""

    _native_name = "adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class NAdam(SimdOptimizer):
    """torch.optim.NAdam (plus torch 2.x's decoupled_weight_decay)."""

    _native_name = "nadam"
    _torch_scalar_state = ("mu_product",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, foreach=None, *, decoupled_weight_decay=False, isa=None,
                 num_threads=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, foreach=foreach,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class RAdam(SimdOptimizer):
    """torch.optim.RAdam (plus torch 2.x's decoupled_weight_decay)."""

    _native_name = "radam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, decoupled_weight_decay=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Rprop(SimdOptimizer):
    """torch.optim.Rprop."""

    _native_name = "rprop"

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), foreach=None,
                 maximize=False, *, isa=None, num_threads=0):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class ASGD(SimdOptimizer):
    """torch.optim.ASGD."""

    _native_name = "asgd"
    _torch_scalar_state = ("eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, *, isa=None, num_threads=0):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class LBFGS(SimdOptimizer):
    """torch.optim.LBFGS: step(closure) only; one param group. Its state (the curvature history)
    is not exchanged in torch's format: state_dict()/load_state_dict() raise."""

    _native_name = "lbfgs"

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None, *, isa=None,
                 num_threads=0):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError("only 'strong_wolfe' is supported")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)

    def _to_native(self, group):
        options = super()._to_native(group)
        options["strong_wolfe"] = 1.0 if group.get("line_search_fn") == "strong_wolfe" else 0.0
        return options

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def step(self, closure):
        """Runs up to max_iter L-BFGS iterations; `closure` must zero the gradients, compute the
        loss, call backward() and return the loss. Returns the first loss."""
        if closure is None:
            raise ValueError("LBFGS needs a closure")
        first = []

        def evaluate():
            with _torch.enable_grad():
                loss = closure()
            self._sync()
            first.append(loss)
            return float(loss)

        self._sync()
        self._native.step_closure(evaluate)
        return first[0] if first else None

    def state_dict(self):
        raise NotImplementedError("simdoptim.torch.LBFGS: state in torch's format is not supported")

    def load_state_dict(self, state_dict):
        raise NotImplementedError("simdoptim.torch.LBFGS: state in torch's format is not supported")


class Lion(SimdOptimizer):
    """Lion (Chen et al. 2023; lion-pytorch's signature)."""

    _native_name = "lion"

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False,
                 isa=None, num_threads=0):
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Lamb(SimdOptimizer):
    """LAMB (timm.optim.Lamb's signature)."""

    _native_name = "lamb"

    def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6,
                 weight_decay=0.01, grad_averaging=True, max_grad_norm=1.0, trust_clip=False,
                 always_adapt=False, *, isa=None, num_threads=0):
        defaults = dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                        weight_decay=weight_decay, grad_averaging=grad_averaging,
                        max_grad_norm=max_grad_norm, trust_clip=trust_clip,
                        always_adapt=always_adapt)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Lars(SimdOptimizer):
    """LARS (timm.optim.Lars's signature, plus exclude_1d)."""

    _native_name = "lars"

    def __init__(self, params, lr=1.0, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 trust_coeff=0.001, eps=1e-8, trust_clip=False, always_adapt=False, *,
                 exclude_1d=False, isa=None, num_threads=0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, trust_coeff=trust_coeff, eps=eps,
                        trust_clip=trust_clip, always_adapt=always_adapt, exclude_1d=exclude_1d)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Adafactor(SimdOptimizer):
    """Adafactor (torch 2.5's torch.optim.Adafactor signature; eps=(eps1, eps2), eps1 None for
    float32's machine epsilon)."""

    _native_name = "adafactor"

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False, isa=None, num_threads=0):
        eps1 = _torch.finfo(_torch.float32).eps if eps[0] is None else eps[0]
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps[1], d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)
