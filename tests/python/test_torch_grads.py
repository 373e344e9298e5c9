"""simdoptim.torch with gradients outside the arenas (zero_grad(set_to_none=True), read in place
by step()) and with clip_grad_norm_ fused into step(): torch's semantics, and the same bits as the
arena path and as clipping in place."""
import unittest

import torch

import simdoptim
import simdoptim.torch as st
from torch_models import forward, make_data, make_model, max_param_diff, train, twin_models

# As in test_torch_dropin.py: a few float32 ulps per step against torch's own kernels.
PARAM_ATOL = 1e-5


def params_equal(a, b):
    return all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))


def train_clipped(model, opt, steps, max_norm, set_to_none, clip):
    """`steps` steps with gradient clipping; `clip(opt, params, max_norm)` clips."""
    x, y = make_data()
    norms = []
    for step in range(steps):
        lo = (step * 16) % x.shape[0]
        loss = torch.nn.functional.cross_entropy(forward(model, x[lo:lo + 16]), y[lo:lo + 16])
        opt.zero_grad(set_to_none=set_to_none)
        loss.backward()
        norms.append(float(clip(opt, list(model.parameters()), max_norm)))
        opt.step()
    return norms


class SetToNone(unittest.TestCase):
    def test_set_to_none_is_torch(self):
        # The head gets a gradient on the first step only; torch then leaves grad None, skips
        # the parameter and keeps Adam's step count where it was.
        ref, ours = twin_models(unused_head=True)
        x = torch.randn(4, 8)
        ropt = torch.optim.Adam(ref.parameters(), lr=1e-2)
        oopt = st.Adam(ours.parameters(), lr=1e-2)
        for model, opt in ((ref, ropt), (ours, oopt)):
            model(x).sum().backward()  # the head is used once
            opt.step()
            head = model.unused.weight.detach().clone()
            train(model, opt, 10, zero_grad=lambda o=opt: o.zero_grad(set_to_none=True))
            self.assertIsNone(model.unused.weight.grad)
            self.assertTrue(torch.equal(model.unused.weight.detach(), head))
        self.assertLess(max_param_diff(ref, ours), PARAM_ATOL)
        rsteps = [int(ropt.state[p]["step"]) for p in ref.parameters()]
        osteps = [int(oopt.state[p]["step"]) for p in ours.parameters()]
        self.assertEqual(rsteps, osteps)
        self.assertEqual(osteps[-2:], [1, 1])

    def test_gradients_read_in_place_not_adopted(self):
        model = make_model()
        opt = st.AdamW(model.parameters(), lr=1e-3)
        train(model, opt, 2, zero_grad=lambda: opt.zero_grad(set_to_none=True))
        native = opt.native
        for i, p in enumerate(model.parameters()):
            self.assertNotEqual(p.grad.data_ptr(), native.grad(0, i).ctypes.data)
            self.assertEqual(p.data_ptr(), native.param(0, i).ctypes.data)

    def test_zero_grad_false_binds_the_arena(self):
        model = make_model()
        opt = st.SGD(model.parameters(), lr=0.1)
        train(model, opt, 2, zero_grad=lambda: opt.zero_grad(set_to_none=False))
        for i, p in enumerate(model.parameters()):
            self.assertEqual(p.grad.data_ptr(), opt.native.grad(0, i).ctypes.data)
        opt.zero_grad(set_to_none=False)
        for p in model.parameters():
            self.assertEqual(p.grad.abs().sum().item(), 0.0)

    def test_in_place_equals_arena_every_isa_and_thread_count(self):
        for name, options in (("AdamW", dict(lr=1e-2, weight_decay=0.05)),
                              ("SGD", dict(lr=0.1, momentum=0.9)), ("Lamb", dict(lr=1e-2)),
                              ("Adafactor", dict(lr=1e-2))):
            for isa in simdoptim.supported_isas():
                for threads in (1, 2):
                    with self.subTest(optimizer=name, isa=isa, threads=threads):
                        arena, outside = twin_models()
                        cls = getattr(st, name)
                        aopt = cls(arena.parameters(), isa=isa, num_threads=threads, **options)
                        oopt = cls(outside.parameters(), isa=isa, num_threads=threads, **options)
                        train(arena, aopt, 6, zero_grad=lambda o=aopt: o.zero_grad(False))
                        train(outside, oopt, 6, zero_grad=lambda o=oopt: o.zero_grad(True))
                        self.assertTrue(params_equal(arena, outside))

    def test_non_contiguous_gradient(self):
        a, b = torch.nn.Parameter(torch.ones(3, 4)), torch.nn.Parameter(torch.ones(3, 4))
        opt_a, opt_b = st.SGD([a], lr=0.5), st.SGD([b], lr=0.5)
        g = torch.arange(12.0).reshape(4, 3).t()  # a transposed view
        a.grad = g
        b.grad = g.contiguous()
        opt_a.step()
        opt_b.step()
        self.assertTrue(torch.equal(a.detach(), b.detach()))
        self.assertTrue(torch.equal(a.detach(), 1 - 0.5 * g))


def torch_clip(opt, params, max_norm):
    return torch.nn.utils.clip_grad_norm_(params, max_norm)


def fused_clip(opt, params, max_norm):
    return opt.clip_grad_norm_(max_norm)


def in_place_clip(opt, params, max_norm):
    norm = opt.clip_grad_norm_(max_norm)
    opt._apply_pending_clip()  # the unfused path: scale the gradients, then step
    return norm


class ClipThenStep(unittest.TestCase):
    def test_fused_equals_clip_in_place_then_step(self):
        for isa in simdoptim.supported_isas():
            for threads in (1, 2):
                for set_to_none in (False, True):
                    for max_norm in (0.05, 1e6):  # clips / does not clip
                        with self.subTest(isa=isa, threads=threads, set_to_none=set_to_none,
                                          max_norm=max_norm):
                            a, b = twin_models()
                            kw = dict(lr=1e-2, isa=isa, num_threads=threads)
                            na = train_clipped(a, st.AdamW(a.parameters(), **kw), 5, max_norm,
                                               set_to_none, in_place_clip)
                            nb = train_clipped(b, st.AdamW(b.parameters(), **kw), 5, max_norm,
                                               set_to_none, fused_clip)
                            self.assertEqual(na, nb)
                            self.assertTrue(params_equal(a, b))

    def test_fused_matches_torch(self):
        ref, ours = twin_models()
        rn = train_clipped(ref, torch.optim.AdamW(ref.parameters(), lr=1e-2), 20, 0.05, True,
                           torch_clip)
        on = train_clipped(ours, st.AdamW(ours.parameters(), lr=1e-2), 20, 0.05, True,
                           fused_clip)
        for a, b in zip(rn, on):
            self.assertLessEqual(abs(a - b), 1e-5 * abs(a))
        self.assertLess(max_param_diff(ref, ours), PARAM_ATOL)

    def test_zero_grad_drops_a_pending_coefficient(self):
        p = torch.nn.Parameter(torch.zeros(4))
        opt = st.SGD([p], lr=1.0)
        p.grad = torch.full((4,), 3.0)
        opt.clip_grad_norm_(1.0)
        opt.zero_grad(set_to_none=True)
        p.grad = torch.ones(4)
        opt.step()
        self.assertTrue(torch.equal(p.detach(), torch.full((4,), -1.0)))


if __name__ == "__main__":
    unittest.main()
