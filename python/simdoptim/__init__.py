"""simdoptim: SIMD CPU optimizers over flat parameter arenas.

    import simdoptim
    opt = simdoptim.Optimizer.create("adamw", [("w", (256, 256))], {"lr": 1e-3})
    w, g = opt.param(0, 0), opt.grad(0, 0)      # numpy views of the arenas
    opt.set_has_grad(0, 0, True); g[:] = ...; opt.step()

The torch drop-in lives in ``simdoptim.torch`` (imported on first use, so that this package does
not need torch): ``simdoptim.torch.AdamW(model.parameters(), lr=1e-3)``. Guide: docs/python.md.
"""
import importlib as _importlib

from ._simdoptim import (  # noqa: F401
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CosineLRScheduler,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    Optimizer,
    PolynomialLR,
    SWALR,
    Scheduler,
    StepLR,
    build_optimizer,
    build_scheduler,
    default_isa,
    optimizer_defaults,
    optimizer_info,
    optimizer_names,
    scheduler_names,
    supported_isas,
    version,
)

__version__ = version()


def __getattr__(name):
    # `simdoptim.torch` without an explicit import, loaded only when asked for.
    if name == "torch":
        return _importlib.import_module(".torch", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
