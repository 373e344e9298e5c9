"""simdoptim.torch: drop-in replacements for torch.optim optimizers that run simdoptim's kernels.

    import simdoptim.torch
    opt = simdoptim.torch.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    # the training loop is unchanged: loss.backward(); opt.step(); opt.zero_grad()

Each class subclasses torch.optim.Optimizer with torch's constructor signature and param-group
dicts. The classes are generated from simdoptim's optimizer registry
(``simdoptim.optimizer_info(name)``), one per registered optimizer: the class name, parameters
and their kinds come from torch 1.13's signature of the class it replaces (for an optimizer torch
lacks, its reference implementation's), the defaults from simdoptim's option table, which holds torch's. Options simdoptim has beyond
torch's signature (NAdam's and RAdam's ``decoupled_weight_decay``) follow as keyword-only
arguments. ``LBFGS`` (a closure-driven step) and ``Adafactor`` (an ``eps`` pair whose first entry
may be None) are written by hand, and so are ``Lamb`` and ``Lars`` until the registry describes
them. On construction every parameter's data moves into simdoptim's flat arenas and the torch
tensor becomes a zero-copy view of it (``p.data`` is replaced). Gradients:

* ``step()`` never copies a gradient: one that autograd allocated (after
  ``zero_grad(set_to_none=True)``, PyTorch 2.x's default, or on the first backward) is read in
  place, in the same fused pass, with the same bits as if it had been copied into the arena.
* ``zero_grad(set_to_none=True)`` sets every ``p.grad`` to None, as torch does; a parameter whose
  ``p.grad`` is None at ``step()`` is skipped exactly as torch skips it (no update, no weight
  decay, Adam's ``step`` count not advanced). A parameter that never gets a gradient keeps
  ``grad is None`` and is never updated.
* ``zero_grad()`` (``set_to_none=False``, torch 1.13's default) zero-fills, replacing a gradient
  outside the arena by its zeroed arena view (the values torch's in-place ``zero_()`` leaves, not
  the same tensor object); from then on ``backward()`` accumulates straight into the arena. A
  parameter that had a gradient once and gets none in a later backward has a zero gradient and is
  still updated (momentum and weight decay act), as in torch.
* ``opt.clip_grad_norm_(max_norm)`` computes the norm only; the next ``step()`` multiplies each
  gradient by the clip coefficient as it reads it (bit for bit clip-then-step, without the
  scaling pass), so the gradients themselves stay unscaled.

Group options are read from the group dicts at every ``step()``, so torch's lr schedulers (which
write ``group['lr']``, ``group['betas']``, ``group['momentum']``) work unchanged.
``state_dict()`` / ``load_state_dict()`` use torch's format: a state dict saved from
``torch.optim.AdamW`` loads into ``simdoptim.torch.AdamW`` and back.

Parameters must be float32, bfloat16 or float16 CPU tensors, one dtype per param group: a group
of bfloat16 or float16 parameters keeps them, and their gradients, in 16 bits
(``p.data`` is a torch.bfloat16/float16 view of the arena). Keyword-only storage arguments of the
elementwise optimizers, also accepted per param group (docs/precision.md): ``state_dtype``
(None or "f32": fp32 state; "bf16"; any dtype the library knows), ``master_weights`` (16-bit
groups: fp32 master weights, the 16-bit parameters written from them each step),
``stochastic_rounding`` and ``seed`` (bf16 groups without master weights). They are read when a
group is added. Extra keyword-only arguments ``isa`` ("scalar", "sse2", "avx2", "avx512",
"neon"; None: ``SIMDOPTIM_ISA`` or the best) and ``num_threads`` (0: all cores) choose the kernel
build and thread count.
Guide: docs/python.md.
"""
import collections as _collections
import inspect as _inspect
import warnings as _warnings

import torch as _torch
from torch.optim.optimizer import Optimizer as _TorchOptimizer
from torch.optim.optimizer import required as _required

from . import _simdoptim as _native

# Completed below with every drop-in class, generated or hand-written.
__all__ = ["SimdOptimizer"]

# torch's tuple arguments -> simdoptim's option keys (also the registry signatures' pair names).
_TUPLE_KEYS = {
    "betas": ("beta1", "beta2"),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
}
# torch's implementation switches: accepted for signature compatibility; simdoptim has one
# implementation, so they change nothing (a True capturable/differentiable/fused is refused).
_SWITCHES = ("foreach", "capturable", "differentiable", "fused")
# Their defaults in every torch.optim signature.
_SWITCH_DEFAULTS = {"foreach": None, "capturable": False, "differentiable": False, "fused": False}
# Optimizers whose state['step'] torch 1.13 keeps as a Python int; the others keep a 0-d float32
# tensor (SGD none).
_INT_STEP = frozenset({"rmsprop", "adadelta", "rprop"})
# Keys a group may carry besides the optimizer's options (set by schedulers).
_EXTRA_KEYS = ("initial_lr", "lr_scale")
# torch dtypes of parameters -> simdoptim's dtype names of the arrays holding them.
_STORAGE_DTYPES = {_torch.float32: "f32", _torch.bfloat16: "bf16", _torch.float16: "f16"}
# The storage arguments of the elementwise drop-ins and their defaults; group dict keys, read when
# the group is added (its arenas are allocated in those formats).
_STORAGE_KEYS = {"state_dtype": None, "master_weights": False, "stochastic_rounding": False,
                 "seed": 0}
# The key of the fp32 master weights in a state_dict() entry (not a torch key: torch.optim keeps
# it as given and never reads it).
_MASTER_KEY = "master_param"


class _ArenaState(_collections.defaultdict):
    """``optimizer.state`` of a drop-in: torch's ``defaultdict(dict)`` keyed by parameter, whose
    entries for the parameters with simdoptim state hold torch's keys: each state array as a
    zero-copy tensor view of its arena (``exp_avg``, ``exp_avg_sq``, ``momentum_buffer``, ...;
    writing it writes the optimizer's state), ``step`` as torch 1.13 keeps it (a 0-d float32
    tensor, a Python int for RMSprop, Adadelta and Rprop, none for SGD), and the per-tensor scalars (NAdam's ``mu_product``) as 0-d tensors. The
    views are made once; ``step`` and the scalars are refreshed in place when the state is read
    after a step. Keys a user adds to an entry are kept."""

    def __init__(self, optimizer):
        super().__init__(dict)
        self._optimizer = optimizer
        self._stale = True
        self._ours = {}  # parameter -> the keys this class wrote into its entry

    def _mark_stale(self):
        self._stale = True

    def _refresh(self):
        if not self._stale:
            return
        self._stale = False
        opt = self._optimizer
        native = opt._native
        if native is None or not opt._state_view:
            return
        for g, group in enumerate(opt.param_groups):
            names = None
            # State torch has no dtype for (8-bit blocks) is shown as fp32 copies, re-read here.
            copies = None
            if opt._state_dtypes[g] not in ("f32", "bf16"):
                copies = native.state_dict()[g]["tensors"]
            for i, p in enumerate(group["params"]):
                ours = self._ours.get(p)
                if not native.has_state(g, i):
                    if ours:  # state reset (load_state_dict of an empty state)
                        entry = dict.get(self, p, {})
                        for key in ours:
                            entry.pop(key, None)
                        if not entry:
                            dict.pop(self, p, None)
                        del self._ours[p]
                    continue
                entry = dict.setdefault(self, p, {})
                if ours is None:
                    if names is None:
                        names = native.state_names(g)
                    ours = self._ours[p] = []
                    for name in names:
                        if copies is None:
                            entry[name] = native.state(g, i, name, as_torch=True)
                        else:
                            entry[name] = _torch.empty(p.shape, dtype=_torch.float32)
                        ours.append(name)
                    if opt._torch_has_step:
                        ours.append("step")
                    for name in native.tensor_scalars(g, i):
                        entry[name] = _torch.tensor(0.0)
                        ours.append(name)
                if opt._torch_has_step:
                    count = native.step_count(g, i)
                    if opt._native_name in _INT_STEP:
                        entry["step"] = count
                    elif _torch.is_tensor(entry.get("step")):  # refreshed in place
                        entry["step"].fill_(float(count))
                    else:
                        entry["step"] = _torch.tensor(float(count))
                for name, value in native.tensor_scalars(g, i).items():
                    entry[name].fill_(value)
                if copies is not None:
                    for name, array in copies[i]["arrays"].items():
                        entry[name].copy_(_torch.from_numpy(array).view(p.shape))

    # Every read goes through _refresh, so state created by the last step() is visible.
    def __getitem__(self, key):
        self._refresh()
        return super().__getitem__(key)

    def __contains__(self, key):
        self._refresh()
        return super().__contains__(key)

    def __iter__(self):
        self._refresh()
        return super().__iter__()

    def __len__(self):
        self._refresh()
        return super().__len__()

    def __repr__(self):
        self._refresh()
        return super().__repr__()

    def get(self, key, default=None):
        self._refresh()
        return super().get(key, default)

    def keys(self):
        self._refresh()
        return super().keys()

    def values(self):
        self._refresh()
        return super().values()

    def items(self):
        self._refresh()
        return super().items()

    def clear(self):
        super().clear()
        self._ours.clear()
        self._stale = True

    def __reduce__(self):
        # A plain defaultdict of copies: pickling (copy.deepcopy, torch.save of the optimizer's
        # __dict__) needs no arena.
        self._refresh()
        copied = _collections.defaultdict(dict)
        for p, entry in dict.items(self):
            copied[p] = {k: (v.clone() if _torch.is_tensor(v) else v) for k, v in entry.items()}
        return copied.__reduce__()


class SimdOptimizer(_TorchOptimizer):
    """Base of the drop-ins: a torch.optim.Optimizer whose parameters live in simdoptim arenas."""

    #: simdoptim's optimizer name (Optimizer.name).
    _native_name = None
    #: Whether torch keeps state['step'] for this optimizer (SGD does not); from the registry.
    _torch_has_step = True
    #: torch's 0-d state tensors that simdoptim keeps as per-tensor scalars; from the registry.
    _torch_scalar_state = ()
    #: Whether ``self.state`` shows the arenas (LBFGS's torch state has another shape).
    _state_view = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_native_name" in cls.__dict__:
            info = _native.optimizer_info(cls._native_name)
            cls._torch_has_step = info["torch_step"]
            cls._torch_scalar_state = tuple(info["tensor_scalars"])

    def __init__(self, params, defaults, *, isa=None, num_threads=0):
        for switch in ("capturable", "differentiable", "fused"):
            if defaults.get(switch):
                raise ValueError(f"simdoptim.torch: {switch}=True is not supported (CPU only)")
        self._runtime = (isa, int(num_threads))
        self._native = None
        self._native_keys = frozenset(_native.optimizer_defaults(self._native_name))
        self._views = []  # per group: [(param view, grad view)] as torch tensors
        self._masters = []  # per group: the fp32 master weights' views, or None
        self._state_dtypes = []  # per group: its state's dtype name
        self._synced = []  # per group: the options last written to the native group
        self._clip_coef = None  # a clip_grad_norm_ coefficient the next step() applies
        super().__init__(params, defaults)
        # torch's defaultdict(dict), replaced by one that shows the arenas (torch: state[p]).
        self.state = _ArenaState(self)

    # ---- construction ----

    def _to_native(self, group):
        """The simdoptim options of a torch group dict (torch keyword names -> option keys)."""
        options = {}
        for key, value in group.items():
            if key == "params" or key in _SWITCHES or key in _STORAGE_KEYS or value is None:
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
        super().add_param_group(param_group)  # torch's checks (and its duplicate warning)
        group = self.param_groups[-1]
        unique = list({id(p): p for p in group["params"]}.values())
        if len(unique) != len(group["params"]):
            # One arena slot per tensor: a parameter listed twice is stored and updated once,
            # where torch.optim updates it once per listing.
            _warnings.warn(
                f"simdoptim.torch.{type(self).__name__}: a parameter listed more than once in a "
                "param group is kept once and updated once per step (torch.optim would update "
                "it once per listing)",
                UserWarning,
                stacklevel=3,
            )
            group["params"] = unique
        params = group["params"]
        for p in params:
            if p.dtype not in _STORAGE_DTYPES or p.device.type != "cpu" or p.is_sparse:
                raise TypeError(
                    f"simdoptim.torch: parameters must be dense float32, bfloat16 or float16 CPU "
                    f"tensors, got {p.dtype} on {p.device}"
                )
        dtypes = sorted({str(p.dtype) for p in params})
        if len(dtypes) > 1:
            raise TypeError(
                f"simdoptim.torch: the parameters of a param group must share one dtype (one "
                f"arena per group), got {', '.join(dtypes)}: give each dtype its own group"
            )
        g = len(self._views)
        names = [(f"group{g}.param{i}", tuple(p.shape)) for i, p in enumerate(params)]
        options = self._to_native(group)
        storage = self._storage_of(group, params[0].dtype if params else _torch.float32)
        if self._native is None:
            isa, num_threads = self._runtime
            self._native = _native.Optimizer.create(
                self._native_name, names, options, isa=isa, num_threads=num_threads,
                storage=storage
            )
        else:
            self._native.add_param_group(names, options, storage)
        native = self._native
        masters = [] if native.group_dtypes(g)["master_weights"] else None
        views = []
        with _torch.no_grad():
            for i, p in enumerate(params):
                pv = native.param(g, i, as_torch=True)
                gv = native.grad(g, i, as_torch=True)
                pv.copy_(p.data)
                if masters is not None:
                    masters.append(native.master_param(g, i, as_torch=True))
                    masters[-1].copy_(p.data)  # exact: the 16-bit values widened
                p.data = pv
                if p.grad is not None:
                    gv.copy_(p.grad)
                    p.grad = gv
                views.append((pv, gv))
        self._views.append(views)
        self._masters.append(masters)
        self._state_dtypes.append(native.group_dtypes(g)["state"])
        self._synced.append(options)

    def _storage_of(self, group, dtype):
        """The native storage of a group whose parameters are `dtype`: parameters and gradients
        in that dtype (torch's gradients have their parameter's), the state, master weights and
        stochastic rounding as the group says; master weights and stochastic rounding apply to
        16-bit groups only (an fp32 group is its own master). {} for fp32 everywhere."""
        storage = {}
        if dtype != _torch.float32:
            storage["param_dtype"] = storage["grad_dtype"] = _STORAGE_DTYPES[dtype]
            for key in ("master_weights", "stochastic_rounding"):
                if group.get(key):
                    storage[key] = True
            if group.get("seed"):
                storage["seed"] = int(group["seed"])
        state = group.get("state_dtype")
        if state is not None:
            storage["state_dtype"] = _STORAGE_DTYPES.get(state, state)
        return storage

    def sync_master_weights(self):
        """Sets the fp32 master weights of the groups that have them to their 16-bit parameters
        (widened, exact). Call it after writing the parameters in place (model.load_state_dict,
        an initialisation under no_grad): the step updates the master weights and writes the
        parameters from them, so an in-place write the master weights do not see is lost."""
        with _torch.no_grad():
            for group, masters in zip(self.param_groups, self._masters):
                for p, master in zip(group["params"], masters or ()):
                    master.copy_(p.data)

    # ---- the step ----

    def _sync(self, adopt=False):
        """Writes changed group options into simdoptim, adopts parameter data torch replaced, and
        returns the gradients to step on: None when every present gradient is its arena view
        (each parameter's presence is then written into simdoptim), else one entry per parameter
        over all groups (None, or the address of a float32 contiguous gradient, read in place)
        and the tensors those addresses need kept alive. With `adopt` (LBFGS, whose kernels read
        the arena), gradients outside the arena are copied in and p.grad becomes the view."""
        native = self._native
        grads, keep, in_arena = [], [], True
        mixed = len(self._grad_dtypes()) > 1
        for g, group in enumerate(self.param_groups):
            options = self._to_native(group)
            if options != self._synced[g]:
                native.set_group_options(g, options)
                self._synced[g] = options
            present = []
            masters = self._masters[g]
            for k, (p, (pv, gv)) in enumerate(zip(group["params"], self._views[g])):
                if p.data_ptr() != pv.data_ptr():  # p.data was replaced
                    with _torch.no_grad():
                        pv.copy_(p.data)
                        if masters is not None:
                            masters[k].copy_(p.data)
                    p.data = pv
                grad = p.grad
                if grad is None:
                    present.append(False)
                    grads.append(None)
                    continue
                if grad.is_sparse:  # torch's dense optimizers refuse them too
                    raise RuntimeError(
                        f"simdoptim.torch.{type(self).__name__} does not support sparse "
                        "gradients (nn.Embedding(sparse=True), ...): use dense gradients, or "
                        "torch.optim.SparseAdam for those parameters"
                    )
                if grad.data_ptr() != gv.data_ptr():
                    if adopt:
                        with _torch.no_grad():
                            gv.copy_(grad)
                        p.grad = gv
                    elif not mixed:  # autograd's own gradient (set_to_none=True): read in place
                        in_arena = False
                        if (grad.dtype != gv.dtype or grad.device.type != "cpu"
                                or not grad.is_contiguous()):
                            grad = grad.detach().to(device="cpu", dtype=gv.dtype)
                            grad = grad.contiguous()
                            keep.append(grad)
                        present.append(False)
                        grads.append(grad.data_ptr())
                        continue
                    else:  # groups of several dtypes: one step reads one gradient dtype
                        with _torch.no_grad():
                            gv.copy_(grad)
                present.append(True)
                grads.append(gv.data_ptr())
            native.set_has_grads(g, present)
        return (None if in_arena else grads), keep

    def _grad_dtypes(self):
        """The dtype names of the groups' gradients."""
        return {_STORAGE_DTYPES[views[0][1].dtype] for views in self._views if views}

    def _apply_pending_clip(self):
        """Scales the gradients in place by a clip coefficient step() has not yet applied (the
        product the fused step would have read)."""
        coef, self._clip_coef = self._clip_coef, None
        if coef is None or coef == 1.0:
            return
        with _torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.mul_(coef)

    def step(self, closure=None):
        """torch's step(closure=None): runs the closure (with grad enabled), then one fused
        simdoptim step over every parameter that has a gradient, reading gradients outside the
        arenas in place, and applying the clip coefficient of a clip_grad_norm_ called since the
        last step. Returns the closure's loss."""
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        grads, keep = self._sync()
        coef, self._clip_coef = self._clip_coef, None
        if grads is None and coef is None:
            self._native.step()
        else:
            dtypes = self._grad_dtypes()
            self._native.step_grads(grads, 1.0 if coef is None else coef,
                                    grad_dtype=dtypes.pop() if len(dtypes) == 1 else None)
        del keep
        self.state._mark_stale()
        return loss

    def zero_grad(self, set_to_none=False):
        """torch's zero_grad. set_to_none=True sets every p.grad to None (the next backward
        allocates fresh gradients, which step() reads in place). set_to_none=False zero-fills:
        a gradient outside the arena is replaced by its zeroed arena view (the values torch's
        in-place zero_() leaves, though not the same tensor object), so that backward from then
        on accumulates straight into the arena."""
        self._clip_coef = None
        if set_to_none:
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad = None
            return
        self._native.zero_grad_arenas()
        for g, group in enumerate(self.param_groups):
            for p, (_, gv) in zip(group["params"], self._views[g]):
                if p.grad is not None and p.grad.data_ptr() != gv.data_ptr():
                    p.grad = gv

    # ---- torch's state_dict format ----

    def _torch_tensor_state(self, entry, p, master):
        state = {}
        if self._torch_has_step:
            count = int(entry["step"])
            state["step"] = count if self._native_name in _INT_STEP else _torch.tensor(float(count))
        for name, value in entry["scalars"].items():
            state[name] = _torch.tensor(value)
        for name, array in entry["arrays"].items():
            state[name] = _torch.from_numpy(array).view(p.shape)
        if master is not None:
            state[_MASTER_KEY] = master.detach().clone()
        return state

    def state_dict(self):
        """torch's optimizer.state_dict(): {'state': {index: {...}}, 'param_groups': [...]}, with
        copies of the state tensors, always float32 whatever the state's storage (bf16 widened
        exactly, 8-bit blocks dequantized), as torch.optim keeps them for float32 parameters
        (torch.optim casts them to its parameters' dtype when it loads them). Groups with master
        weights add each parameter's fp32 master weights under 'master_param'. Options are
        taken from the group dicts as they are: an invalid value (a scheduler's lr below zero)
        is refused at step(), as the state is saved whatever the options."""
        native = self._native.state_dict()
        state, groups, index = {}, [], 0
        for group, native_group in zip(self.param_groups, native):
            # Storage keys at their defaults are left out: torch's format, key for key.
            packed = {k: v for k, v in group.items()
                      if k != "params" and not (k in _STORAGE_KEYS and v == _STORAGE_KEYS[k])}
            packed["params"] = list(range(index, index + len(group["params"])))
            masters = self._masters[len(groups)] or [None] * len(group["params"])
            for i, (p, entry) in enumerate(zip(group["params"], native_group["tensors"])):
                if entry["initialized"]:
                    state[index + i] = self._torch_tensor_state(entry, p, masters[i])
            index += len(group["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def _native_tensor_state(self, state, scalar_names):
        entry = {"step": 0, "initialized": False, "arrays": {}, "scalars": {}}
        if not state:
            return entry
        for name, value in state.items():
            if value is None or name == _MASTER_KEY:  # SGD's momentum_buffer=None; restored apart
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
        anything changes; a mismatch raises ValueError or RuntimeError, and so does a state array
        this optimizer does not keep (another optimizer's state) or one it needs that is
        missing."""
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
        # Master weights: the dict's when it has them, else the parameters widened.
        master_values = []
        for group, saved, masters in zip(self.param_groups, saved_groups, self._masters):
            for p, index, master in zip(group["params"], saved["params"], masters or ()):
                value = (saved_state.get(index) or {}).get(_MASTER_KEY)
                if value is not None and tuple(value.shape) != tuple(p.shape):
                    raise ValueError(
                        f"loaded state dict has master weights of shape {tuple(value.shape)} "
                        f"for a parameter of shape {tuple(p.shape)}"
                    )
                master_values.append((master, p.data if value is None else value))
        new_groups, native_groups = [], []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_group = dict(saved)
            new_group["params"] = group["params"]
            for key in _STORAGE_KEYS:  # the arenas' formats stay as they were made
                if key in group:
                    new_group[key] = group[key]
                else:
                    new_group.pop(key, None)
            options = self._native.group_options(g)
            options.update(self._to_native(new_group))
            tensors = [
                self._native_tensor_state(saved_state.get(index), scalar_names)
                for index in saved["params"]
            ]
            native_groups.append({"options": options, "tensors": tensors})
            new_groups.append(new_group)
        self._native.load_state_dict(native_groups)
        with _torch.no_grad():
            for master, value in master_values:
                master.copy_(value)
        self.param_groups = new_groups
        self._synced = [self._to_native(group) for group in new_groups]
        # The arenas were overwritten in place: the views stay, step and scalars are re-read,
        # and parameters whose state the dict did not have lose theirs.
        self.state._mark_stale()

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

    @property
    def flush_subnormal_state(self):
        """Whether stored state below FLT_MIN (1.2e-38) becomes zero (the default): late in
        training, decayed state would otherwise turn subnormal and slow every step. torch keeps
        the subnormals; set False for its arithmetic."""
        return self._native.flush_subnormal_state

    @flush_subnormal_state.setter
    def flush_subnormal_state(self, on):
        self._native.flush_subnormal_state = bool(on)

    def set_averaging(self, mode, **options):
        """Keeps an average of the parameters, updated in each step's own pass
        (docs/averaging.md): mode 'ema' (timm's ModelEmaV2; decay, warmup, start, every;
        v3=True with update_after_step, gamma, power, min_decay: timm's ModelEmaV3 decay), 'swa'
        (torch's AveragedModel running mean; start, every), 'lookahead' (timm's Lookahead; alpha,
        k) or 'none'; dtype: how the average is stored ('f32', 'bf16', 'f16'). The averages start
        as the current parameters. With the drop-ins, torch's own AveragedModel and SWALR also
        work unchanged; this keeps the average in the arena instead, without another pass over
        the parameters."""
        self._native.set_averaging(mode, **options)

    def averaged_params(self):
        """The averaged copy of every parameter, in param_groups order, as tensors of the
        average's dtype that share the arena (torch: list(AveragedModel(model).parameters()))."""
        return [
            self._native.averaged_param(f"group{g}.param{i}", as_torch=True)
            for g, group in enumerate(self.param_groups)
            for i in range(len(group["params"]))
        ]

    def swap_averaged_params(self):
        """Exchanges every parameter with its average in place: the model then evaluates with
        the averaged weights; call it again to swap back."""
        self._native.swap_averaged_params()

    @property
    def n_averaged(self):
        """Averaging updates made (torch: AveragedModel.n_averaged)."""
        return self._native.n_averaged

    def clip_grad_norm_(self, max_norm, norm_type=2.0, error_if_nonfinite=False):
        """torch.nn.utils.clip_grad_norm_ over this optimizer's parameters; returns the total norm
        as a float32 tensor, as torch. Only the norm is computed here (one read of the
        gradients): the next step() multiplies each gradient by the clip coefficient as it reads
        it, bit for bit what clipping in place then stepping gives, so the gradients themselves
        are left unscaled. zero_grad() drops a pending coefficient; another clip_grad_norm_
        first applies it in place."""
        self._apply_pending_clip()
        if self._grad_dtypes() - {"f32"}:
            # 16-bit gradients: torch's own function, in place (the library clips fp32 only).
            params = [p for group in self.param_groups for p in group["params"]]
            return _torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type,
                                                   error_if_nonfinite)
        grads, keep = self._sync()
        norm, coef = self._native.compute_clip_grad_norm(
            float(max_norm), float(norm_type), bool(error_if_nonfinite), grads
        )
        del keep
        self._clip_coef = coef
        return _torch.tensor(norm, dtype=_torch.float32)


# ---- the drop-ins generated from the registry ----

_Parameter = _inspect.Parameter


def _parse_signature(text):
    """'Adam(params, lr, betas, *, foreach)' -> ('Adam', [(name, kind, required)]): the registry's
    torch signature (simdoptim/optimizer_registry.hpp, optimizer_torch_signature)."""
    class_name, _, rest = text.partition("(")
    if not class_name or not rest.endswith(")"):
        raise ValueError(f"simdoptim.torch: malformed torch signature {text!r}")
    kind, parameters = _Parameter.POSITIONAL_OR_KEYWORD, []
    for token in rest[:-1].split(","):
        token = token.strip()
        if token == "*":
            kind = _Parameter.KEYWORD_ONLY
            continue
        name, _, marker = token.partition("=")
        parameters.append((name, kind, marker == "required"))
    return class_name, parameters


def _python_default(value, flag):
    return bool(value) if flag else value


def _drop_in_signature(info):
    """The class name, the inspect.Signature of __init__ (torch's parameters with the option
    table's defaults, then the options torch does not name, then isa and num_threads) and the
    argument docs, of a registry entry (simdoptim.optimizer_info)."""
    options = {key: (default, doc, flag) for key, default, doc, flag in info["options"]}
    class_name, torch_parameters = _parse_signature(info["torch_signature"])
    parameters = [_Parameter("self", _Parameter.POSITIONAL_OR_KEYWORD)]
    docs, named = [], set()
    for name, kind, required in torch_parameters:
        if name == "params":
            parameters.append(_Parameter(name, kind))
            docs.append((name, "an iterable of tensors, or of dicts defining parameter groups"))
            continue
        if name in _SWITCH_DEFAULTS:
            default = _SWITCH_DEFAULTS[name]
            doc = ("torch's implementation switch, accepted for compatibility; simdoptim has one "
                   "implementation" + (" (True is refused)" if name != "foreach" else ""))
        elif name in _TUPLE_KEYS:
            keys = _TUPLE_KEYS[name]
            default = tuple(options[key][0] for key in keys)
            doc = "; ".join(f"{key}: {options[key][1]}" for key in keys)
            named.update(keys)
        else:
            value, doc, flag = options[name]
            default = _required if required else _python_default(value, flag)
            if required:
                doc += " (required, as in torch)"
        named.add(name)
        parameters.append(_Parameter(name, kind, default=default))
        docs.append((name, doc))
    for key, (value, doc, flag) in options.items():
        if key not in named:  # simdoptim's addition to torch's signature
            parameters.append(
                _Parameter(key, _Parameter.KEYWORD_ONLY, default=_python_default(value, flag))
            )
            docs.append((key, doc + " (simdoptim's addition to torch's signature)"))
    if info["storage"]:
        for key, default in _STORAGE_KEYS.items():
            parameters.append(_Parameter(key, _Parameter.KEYWORD_ONLY, default=default))
        docs.append(("state_dtype", 'the state\'s storage: None or "f32", "bf16", or any dtype '
                                    "the library knows (docs/precision.md)"))
        docs.append(("master_weights", "bfloat16/float16 parameters: keep fp32 master weights"))
        docs.append(("stochastic_rounding", "bfloat16 parameters without master weights: round "
                                            "stochastically, seeded by seed"))
        docs.append(("seed", "the seed of stochastic rounding"))
    parameters.append(_Parameter("isa", _Parameter.KEYWORD_ONLY, default=None))
    parameters.append(_Parameter("num_threads", _Parameter.KEYWORD_ONLY, default=0))
    docs.append(("isa", 'the kernel build ("scalar", "sse2", "avx2", "avx512", "neon"); None: '
                        "SIMDOPTIM_ISA or the best"))
    docs.append(("num_threads", "threads of a step; 0: all cores"))
    return class_name, _inspect.Signature(parameters), docs


def _make_drop_in(name, info):
    """The drop-in class of registered optimizer `name`."""
    class_name, signature, arg_docs = _drop_in_signature(info)
    replaces = (f"torch.optim.{class_name}" if hasattr(_torch.optim, class_name)
                else f"{class_name} (torch.optim-style constructor)")
    doc = "\n".join(
        [f"Drop-in for {replaces} on simdoptim's kernels (optimizer '{name}').", "",
         "Args:"] + [f"    {arg}: {text}" for arg, text in arg_docs]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        params = arguments.pop("params")
        isa, num_threads = arguments.pop("isa"), arguments.pop("num_threads")
        super(cls, self).__init__(params, arguments, isa=isa, num_threads=num_threads)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{class_name}.__init__"
    __init__.__module__ = __name__
    cls = type(
        class_name,
        (SimdOptimizer,),
        {"__init__": __init__, "__doc__": doc, "__module__": __name__, "_native_name": name},
    )
    return cls


# ---- the drop-ins written by hand ----
# Hand-written defaults come from the registry (optimizer_defaults); only the signatures, and
# what the generic class cannot express, are spelled here.

_LBFGS_DEFAULTS = _native.optimizer_defaults("lbfgs")
_ADAFACTOR_DEFAULTS = _native.optimizer_defaults("adafactor")
_LAMB_DEFAULTS = _native.optimizer_defaults("lamb")
_LARS_DEFAULTS = _native.optimizer_defaults("lars")


class LBFGS(SimdOptimizer):
    """torch.optim.LBFGS: step(closure) only; one param group. Its state (the curvature history)
    is not exchanged in torch's format: state_dict()/load_state_dict() raise."""

    _native_name = "lbfgs"
    # torch keeps LBFGS's history in state[first param] (d, t, old_dirs, ...): not shown.
    _state_view = False

    # torch's signature; max_eval None and line_search_fn have no option of their own.
    def __init__(self, params, lr=_LBFGS_DEFAULTS["lr"],
                 max_iter=int(_LBFGS_DEFAULTS["max_iter"]), max_eval=None,
                 tolerance_grad=_LBFGS_DEFAULTS["tolerance_grad"],
                 tolerance_change=_LBFGS_DEFAULTS["tolerance_change"],
                 history_size=int(_LBFGS_DEFAULTS["history_size"]), line_search_fn=None, *,
                 isa=None, num_threads=0):
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
            self._sync(adopt=True)
            first.append(loss)
            return float(loss)

        self._sync(adopt=True)
        self._native.step_closure(evaluate)
        return first[0] if first else None

    def state_dict(self):
        raise NotImplementedError("simdoptim.torch.LBFGS: state in torch's format is not supported")

    def load_state_dict(self, state_dict):
        raise NotImplementedError("simdoptim.torch.LBFGS: state in torch's format is not supported")



class Adafactor(SimdOptimizer):
    """Adafactor (torch 2.5's torch.optim.Adafactor signature; eps=(eps1, eps2), eps1 None for
    float32's machine epsilon)."""

    _native_name = "adafactor"

    # eps is a pair whose first entry may be None, which the registry's signatures cannot say.
    def __init__(self, params, lr=_ADAFACTOR_DEFAULTS["lr"],
                 beta2_decay=_ADAFACTOR_DEFAULTS["beta2_decay"],
                 eps=(None, _ADAFACTOR_DEFAULTS["eps2"]), d=_ADAFACTOR_DEFAULTS["d"],
                 weight_decay=_ADAFACTOR_DEFAULTS["weight_decay"], *, foreach=None,
                 maximize=bool(_ADAFACTOR_DEFAULTS["maximize"]), isa=None, num_threads=0):
        eps1 = _torch.finfo(_torch.float32).eps if eps[0] is None else eps[0]
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps[1], d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Lamb(SimdOptimizer):
    """LAMB (timm.optim.Lamb's signature). Written by hand until the registry describes lamb
    (its passes are not a description file yet); then the generated class replaces it."""

    _native_name = "lamb"

    def __init__(self, params, lr=_LAMB_DEFAULTS["lr"],
                 bias_correction=bool(_LAMB_DEFAULTS["bias_correction"]),
                 betas=(_LAMB_DEFAULTS["beta1"], _LAMB_DEFAULTS["beta2"]),
                 eps=_LAMB_DEFAULTS["eps"], weight_decay=_LAMB_DEFAULTS["weight_decay"],
                 grad_averaging=bool(_LAMB_DEFAULTS["grad_averaging"]),
                 max_grad_norm=_LAMB_DEFAULTS["max_grad_norm"],
                 trust_clip=bool(_LAMB_DEFAULTS["trust_clip"]),
                 always_adapt=bool(_LAMB_DEFAULTS["always_adapt"]), *, isa=None, num_threads=0):
        defaults = dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                        weight_decay=weight_decay, grad_averaging=grad_averaging,
                        max_grad_norm=max_grad_norm, trust_clip=trust_clip,
                        always_adapt=always_adapt)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


class Lars(SimdOptimizer):
    """LARS (timm.optim.Lars's signature, plus exclude_1d). Written by hand until the registry
    describes lars (its passes are not a description file yet); then the generated class
    replaces it."""

    _native_name = "lars"

    def __init__(self, params, lr=_LARS_DEFAULTS["lr"], momentum=_LARS_DEFAULTS["momentum"],
                 dampening=_LARS_DEFAULTS["dampening"],
                 weight_decay=_LARS_DEFAULTS["weight_decay"],
                 nesterov=bool(_LARS_DEFAULTS["nesterov"]),
                 trust_coeff=_LARS_DEFAULTS["trust_coeff"], eps=_LARS_DEFAULTS["eps"],
                 trust_clip=bool(_LARS_DEFAULTS["trust_clip"]),
                 always_adapt=bool(_LARS_DEFAULTS["always_adapt"]), *,
                 exclude_1d=bool(_LARS_DEFAULTS["exclude_1d"]), isa=None, num_threads=0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, trust_coeff=trust_coeff, eps=eps,
                        trust_clip=trust_clip, always_adapt=always_adapt, exclude_1d=exclude_1d)
        super().__init__(params, defaults, isa=isa, num_threads=num_threads)


# ---- every registered optimizer as a drop-in ----

# Behaviour the generic class cannot express: these replace the generated class.
_SPECIAL = {cls._native_name: cls for cls in (LBFGS, Adafactor)}
# Registered without a torch signature yet: used until the registry has one.
_UNTIL_DESCRIBED = {cls._native_name: cls for cls in (Lamb, Lars)}


def _drop_ins():
    """{class name: drop-in class} for every registered optimizer, in the registry's order."""
    classes = {}
    for name in _native.optimizer_names():
        info = _native.optimizer_info(name)
        if name in _SPECIAL:
            cls = _SPECIAL[name]
        elif info["torch_signature"]:
            cls = _make_drop_in(name, info)
        elif name in _UNTIL_DESCRIBED:
            cls = _UNTIL_DESCRIBED[name]
        else:
            continue  # no signature to follow (tests/python/test_torch_signatures.py fails)
        classes[cls.__name__] = cls
    return classes


_DROP_INS = _drop_ins()
globals().update(_DROP_INS)
__all__ += list(_DROP_INS)
