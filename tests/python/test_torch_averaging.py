"""Weight averaging with the drop-ins: torch's own AveragedModel and SWALR on a simdoptim
optimizer, unchanged, and the native EMA/SWA whose averages are torch tensors over the arena."""
import copy
import unittest

import torch
from torch.optim.swa_utils import SWALR, AveragedModel

import simdoptim.torch as so

# Adam's step differs from torch's by about an ulp per step (tests/test_torch_sgd_adam.cpp says
# why); the averages inherit it. 1e-5 relative is that test's bound with margin.
RTOL, ATOL = 1e-5, 1e-6


def model_and_grads(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    x = torch.randn(11, 7)
    return model, x


def train(model, opt, x, steps, after_step=None, scheduler=None):
    for t in range(steps):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        if after_step is not None:
            after_step(t + 1)


class TestTorchAveraging(unittest.TestCase):
    def test_averaged_model_and_swalr_unchanged(self):
        results = []
        for cls in (torch.optim.Adam, so.Adam):
            model, x = model_and_grads()
            opt = cls(model.parameters(), lr=1e-2)
            swa = AveragedModel(model)
            sched = SWALR(opt, swa_lr=5e-3, anneal_epochs=3)
            train(model, opt, x, 8, lambda t: swa.update_parameters(model) if t >= 3 else None,
                  sched)
            results.append([p.detach().clone() for p in swa.parameters()])
        for ours, theirs in zip(results[1], results[0]):
            torch.testing.assert_close(ours, theirs, rtol=RTOL, atol=ATOL)

    def test_native_ema_matches_model_ema_v2(self):
        model, x = model_and_grads(1)
        reference = copy.deepcopy(model)
        ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-2)
        ema = [p.detach().clone() for p in reference.parameters()]

        def ema_update(_):
            with torch.no_grad():  # timm's ModelEmaV2._update
                for e, p in zip(ema, reference.parameters()):
                    e.copy_(e * 0.9 + (1.0 - 0.9) * p)

        train(reference, ref_opt, x, 6, ema_update)
        opt = so.Adam(model.parameters(), lr=1e-2)
        opt.set_averaging("ema", decay=0.9)
        train(model, opt, x, 6)
        self.assertEqual(opt.n_averaged, 6)
        averaged = opt.averaged_params()
        self.assertEqual(len(averaged), len(ema))
        for ours, theirs in zip(averaged, ema):
            torch.testing.assert_close(ours, theirs, rtol=RTOL, atol=ATOL)

    def test_native_swa_swap_evaluates_with_the_average(self):
        model, x = model_and_grads(2)
        opt = so.SGD(model.parameters(), lr=0.1)
        opt.set_averaging("swa", start=2)
        train(model, opt, x, 5)
        self.assertEqual(opt.n_averaged, 4)
        averaged = [a.clone() for a in opt.averaged_params()]
        raw = [p.detach().clone() for p in model.parameters()]
        opt.swap_averaged_params()
        for p, a in zip(model.parameters(), averaged):
            self.assertTrue(torch.equal(p.detach(), a))
        opt.swap_averaged_params()
        for p, r in zip(model.parameters(), raw):
            self.assertTrue(torch.equal(p.detach(), r))
        with self.assertRaises(ValueError):
            opt.set_averaging("emaa")

    def test_native_model_ema_v3_matches_timm(self):
        # timm's ModelEmaV3 on torch 1.13 (no _foreach_lerp_): mul_ then add_(alpha=1 - d),
        # with its get_decay; ours keeps ModelEmaV2's arithmetic, equal up to rounding.
        model, x = model_and_grads(3)
        reference = copy.deepcopy(model)
        ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-2)
        ema = [p.detach().clone() for p in reference.parameters()]

        def get_decay(step):  # update_after_step=1, use_warmup, gamma 1, power 2/3
            s = max(0, step - 1 - 1)
            if s <= 0:
                return 0.0
            return max(min(1 - (1 + s) ** (-2 / 3), 0.99), 0.0)

        def ema_update(step):
            d = get_decay(step)
            with torch.no_grad():
                for e, p in zip(ema, reference.parameters()):
                    e.mul_(d).add_(p, alpha=1.0 - d)

        train(reference, ref_opt, x, 7, ema_update)
        opt = so.Adam(model.parameters(), lr=1e-2)
        opt.set_averaging("ema", decay=0.99, warmup=True, v3=True, update_after_step=1)
        train(model, opt, x, 7)
        for ours, theirs in zip(opt.averaged_params(), ema):
            torch.testing.assert_close(ours, theirs, rtol=RTOL, atol=ATOL)

    def test_native_bf16_average_is_a_bf16_tensor_over_the_arena(self):
        model, x = model_and_grads(4)
        opt = so.Adam(model.parameters(), lr=1e-2)
        opt.set_averaging("ema", decay=0.5, dtype="bf16")
        reference = copy.deepcopy(model)
        ref_opt = so.Adam(reference.parameters(), lr=1e-2)
        ref_opt.set_averaging("ema", decay=0.5)
        train(model, opt, x, 4)
        train(reference, ref_opt, x, 4)
        averaged = opt.averaged_params()
        self.assertTrue(all(a.dtype == torch.bfloat16 for a in averaged))
        for ours, fp32 in zip(averaged, ref_opt.averaged_params()):
            # each update rounds to bf16 (2^-9 relative): 4 updates, halving the older errors
            torch.testing.assert_close(ours.float(), fp32, rtol=2 ** -7, atol=1e-6)
        with self.assertRaises(RuntimeError):
            opt.swap_averaged_params()  # fp32 parameters, bf16 average: not without rounding


if __name__ == "__main__":
    unittest.main()
