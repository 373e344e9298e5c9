"""16-bit storage through simdoptim.torch and the native module (docs/precision.md): models in
torch.bfloat16 and torch.float16 whose parameters and gradients live in 16-bit arenas, fp32 master
weights, stochastic rounding, bf16 state, state_dict round trips, torch views of 16-bit arenas,
and step_grads with 16-bit gradients in and 16-bit parameters out."""
import copy
import unittest

import numpy as np
import torch

import simdoptim
import simdoptim.torch as st
from torch_models import make_data, make_model

# The master weights of a step against torch.optim.AdamW in fp32 on the same gradients: a few
# float32 ulps per step (torch fuses some operations), as test_torch_dropin.py.
MASTER_ATOL = 1e-5


def bf16_model(seed=0):
    return make_model(seed).to(torch.bfloat16)


def train(model, opt, steps, set_to_none=False, clip=None):
    """`steps` steps of cross-entropy on fixed batches in the model's dtype; returns the list of
    the gradients of every step (float32 copies)."""
    x, y = make_data()
    x = x.to(next(model.parameters()).dtype)
    grads = []
    for step in range(steps):
        lo = (step * 16) % x.shape[0]
        opt.zero_grad(set_to_none=set_to_none)
        loss = torch.nn.functional.cross_entropy(model(x[lo:lo + 16]).float(), y[lo:lo + 16])
        loss.backward()
        if clip is not None:
            opt.clip_grad_norm_(clip)
        grads.append([p.grad.float().clone() for p in model.parameters()])
        opt.step()
    return grads


def bits(model):
    return [p.detach().view(torch.int16).clone() for p in model.parameters()]


def same_bits(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


class DropIn16(unittest.TestCase):
    def test_parameters_and_gradients_are_16bit_views_of_the_arena(self):
        model = bf16_model()
        opt = st.AdamW(model.parameters(), lr=1e-2, state_dtype="bf16")
        self.assertEqual(
            opt.native.group_dtypes(0),
            {"param": "bf16", "grad": "bf16", "state": "bf16", "master_weights": False})
        train(model, opt, 2)
        for i, p in enumerate(model.parameters()):
            self.assertEqual(p.dtype, torch.bfloat16)
            self.assertEqual(p.data_ptr(), opt.native.param(0, i, as_torch=True).data_ptr())
            self.assertEqual(p.grad.data_ptr(), opt.native.grad(0, i, as_torch=True).data_ptr())
            state = opt.state[p]
            self.assertEqual(state["exp_avg"].dtype, torch.bfloat16)
            self.assertEqual(state["exp_avg"].data_ptr(),
                             opt.native.state(0, i, "exp_avg", as_torch=True).data_ptr())
            self.assertEqual(int(state["step"]), 2)

    def test_gradients_read_in_place_equal_the_arena_path(self):
        # set_to_none=True: autograd's bf16 gradients are read in place; False: backward
        # accumulates into the arena. The same bits either way, with or without clipping.
        for clip in (None, 0.5):
            runs = []
            for set_to_none in (False, True):
                model = bf16_model()
                opt = st.AdamW(model.parameters(), lr=1e-2, stochastic_rounding=True, seed=3)
                train(model, opt, 4, set_to_none=set_to_none, clip=clip)
                runs.append(bits(model))
            self.assertTrue(same_bits(*runs), clip)

    def test_master_weights_follow_torch_adamw_in_fp32(self):
        model = bf16_model()
        reference = [p.detach().float().clone().requires_grad_() for p in model.parameters()]
        opt = st.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1, master_weights=True)
        ref_opt = torch.optim.AdamW(reference, lr=1e-2, weight_decay=0.1)
        for step_grads in train(model, opt, 6):
            for p, g in zip(reference, step_grads):
                p.grad = g
            ref_opt.step()
        for i, (p, r) in enumerate(zip(model.parameters(), reference)):
            master = opt.native.master_param(0, i, as_torch=True)
            self.assertLess((master - r.detach()).abs().max().item(), MASTER_ATOL)
            # The bf16 parameters are the master weights rounded to nearest-even.
            self.assertTrue(torch.equal(p.detach(), master.to(torch.bfloat16)))

    def test_plain_bf16_is_close_to_fp32_and_rounding_matters(self):
        model = bf16_model()
        reference = [p.detach().float().clone().requires_grad_() for p in model.parameters()]
        opt = st.Adam(model.parameters(), lr=1e-3)
        ref_opt = torch.optim.Adam(reference, lr=1e-3)
        for step_grads in train(model, opt, 3):
            for p, g in zip(reference, step_grads):
                p.grad = g
            ref_opt.step()
        moved = 0
        for p, r in zip(model.parameters(), reference):
            # One bf16 rounding per step: within 3 bf16 ulps (2^-8 relative) of fp32 Adam.
            tol = 3 * 2.0 ** -8 * r.detach().abs() + 1e-6
            self.assertTrue(bool(((p.detach().float() - r.detach()).abs() <= tol).all()))
            moved += int((p.detach().float() != r.detach()).sum())
        self.assertGreater(moved, 0)

    def test_stochastic_rounding_same_bits_on_every_isa_and_thread_count(self):
        torch.manual_seed(0)
        p0 = torch.randn(40000).to(torch.bfloat16)  # past one chunk: 2 threads split it
        runs = []
        for isa, threads, seed in (("scalar", 1, 7), (None, 2, 7), (None, 1, 7), (None, 1, 8)):
            p = torch.nn.Parameter(p0.clone())
            opt = st.AdamW([p], lr=1e-3, stochastic_rounding=True, seed=seed, isa=isa,
                           num_threads=threads)
            for k in range(3):
                p.grad = (torch.sin(p0.float() * (k + 1))).to(torch.bfloat16)
                opt.step()
            runs.append(p.detach().view(torch.int16).clone())
        self.assertTrue(torch.equal(runs[0], runs[1]))
        self.assertTrue(torch.equal(runs[0], runs[2]))
        self.assertFalse(torch.equal(runs[0], runs[3]))  # another seed rounds otherwise

    def test_float16_parameters(self):
        # torch 1.13 has no fp16 matmul on CPU: an elementwise model.
        torch.manual_seed(1)
        target = torch.randn(300)
        for master in (False, True):
            p = torch.nn.Parameter(torch.zeros(300, dtype=torch.float16))
            opt = st.SGD([p], lr=0.5, momentum=0.5, master_weights=master)
            self.assertEqual(opt.native.group_dtypes(0)["grad"], "f16")
            for _ in range(40):
                opt.zero_grad(set_to_none=True)
                ((p.float() - target) ** 2).mean().mul(150.0).backward()
                self.assertEqual(p.grad.dtype, torch.float16)
                opt.step()
            self.assertEqual(p.dtype, torch.float16)
            self.assertLess((p.detach().float() - target).abs().max().item(), 0.05)

    def test_state_dict_round_trip_is_bit_exact(self):
        for kwargs in ({"master_weights": True, "state_dtype": "bf16"},
                       {"stochastic_rounding": True, "seed": 5},
                       {"state_dtype": "bf16"}):
            with self.subTest(**kwargs):
                model = bf16_model()
                opt = st.AdamW(model.parameters(), lr=1e-2, **kwargs)
                train(model, opt, 3)
                saved_model = copy.deepcopy(model.state_dict())
                saved = copy.deepcopy(opt.state_dict())
                for entry in saved["state"].values():
                    self.assertEqual(entry["exp_avg"].dtype, torch.float32)
                    self.assertEqual(entry["master_param"].dtype if kwargs.get(
                        "master_weights") else torch.float32, torch.float32)
                train(model, opt, 3)
                resumed = bf16_model(seed=4)
                resumed.load_state_dict(saved_model)
                opt2 = st.AdamW(resumed.parameters(), lr=0.5, **kwargs)
                opt2.load_state_dict(saved)
                self.assertEqual(opt2.param_groups[0]["lr"], 1e-2)
                train(resumed, opt2, 3)
                self.assertTrue(same_bits(bits(model), bits(resumed)))

    def test_master_weights_without_saved_ones_come_from_the_parameters(self):
        model = bf16_model()
        opt = st.AdamW(model.parameters(), lr=1e-2, master_weights=True)
        train(model, opt, 2)
        saved = opt.state_dict()
        for entry in saved["state"].values():
            del entry["master_param"]  # as torch.optim.AdamW's dict
        opt.load_state_dict(saved)
        for i, p in enumerate(model.parameters()):
            self.assertTrue(torch.equal(opt.native.master_param(0, i, as_torch=True),
                                        p.detach().float()))
        # After an in-place write the master weights are synced explicitly.
        with torch.no_grad():
            next(model.parameters()).fill_(0.5)
        opt.sync_master_weights()
        self.assertEqual(opt.native.master_param(0, 0, as_torch=True)[0, 0].item(), 0.5)

    def test_state_dict_loads_into_torch_adamw(self):
        model = bf16_model()
        opt = st.AdamW(model.parameters(), lr=1e-2, state_dtype="bf16")
        train(model, opt, 2)
        twin = copy.deepcopy(model)
        ref = torch.optim.AdamW(twin.parameters(), lr=1e-2)
        ref.load_state_dict(opt.state_dict())
        for p, q in zip(model.parameters(), twin.parameters()):
            self.assertTrue(torch.equal(ref.state[q]["exp_avg"], opt.state[p]["exp_avg"]))
        back = st.AdamW(copy.deepcopy(model).parameters(), lr=1e-2, state_dtype="bf16")
        back.load_state_dict(ref.state_dict())
        for p, q in zip(model.parameters(), back.param_groups[0]["params"]):
            self.assertTrue(torch.equal(back.state[q]["exp_avg_sq"], opt.state[p]["exp_avg_sq"]))

    def test_averaging_with_16bit_parameters(self):
        model = bf16_model()
        opt = st.AdamW(model.parameters(), lr=1e-2, master_weights=True)
        opt.set_averaging("ema", decay=0.5)
        train(model, opt, 3)
        averages = opt.averaged_params()
        self.assertEqual([a.dtype for a in averages], [torch.float32] * len(averages))
        for i, a in enumerate(averages):
            self.assertFalse(torch.equal(a, opt.native.master_param(0, i, as_torch=True)))
        # Swapped in, the model's bf16 parameters are the averages rounded; then swapped back.
        before, averaged = bits(model), [a.clone() for a in averages]
        opt.swap_averaged_params()
        for p, a in zip(model.parameters(), averaged):
            self.assertTrue(torch.equal(p.detach(), a.to(torch.bfloat16)))
        opt.swap_averaged_params()
        self.assertTrue(same_bits(bits(model), before))
        # Without master weights the average reads the bf16 parameters; an fp32 average cannot
        # be swapped into them without rounding, a bf16 one can.
        model = bf16_model()
        plain = st.AdamW(model.parameters(), lr=1e-2)
        plain.set_averaging("ema", decay=0.5)
        self.assertTrue(all(a.dtype == torch.float32 for a in plain.averaged_params()))
        with self.assertRaisesRegex(RuntimeError, "without rounding"):
            plain.swap_averaged_params()
        plain.set_averaging("ema", decay=0.5, dtype="bf16")
        averaged = [a.clone() for a in plain.averaged_params()]
        plain.swap_averaged_params()
        for p, a in zip(model.parameters(), averaged):
            self.assertTrue(torch.equal(p.detach(), a))

    def test_groups_of_several_dtypes(self):
        model = make_model()
        first, second = list(model.children())[0], list(model.children())[2]
        first.to(torch.bfloat16)
        opt = st.AdamW([{"params": first.parameters(), "state_dtype": "bf16"},
                        {"params": second.parameters()}], lr=1e-2)
        self.assertEqual(opt.native.group_dtypes(0)["state"], "bf16")
        self.assertEqual(opt.native.group_dtypes(1)["param"], "f32")
        x, y = make_data()
        for set_to_none in (True, False):
            opt.zero_grad(set_to_none=set_to_none)
            h = torch.tanh(first(x.to(torch.bfloat16)).float())
            torch.nn.functional.cross_entropy(second(h), y).backward()
            before = first.weight.detach().clone()
            opt.step()
            self.assertFalse(torch.equal(before, first.weight.detach()))

    def test_errors(self):
        p = torch.nn.Parameter(torch.ones(4, dtype=torch.bfloat16))
        q = torch.nn.Parameter(torch.ones(4))
        with self.assertRaisesRegex(TypeError, "share one dtype"):
            st.AdamW([p, q])
        with self.assertRaisesRegex(TypeError, "float32, bfloat16 or float16"):
            st.AdamW([torch.nn.Parameter(torch.ones(4, dtype=torch.float64))])
        with self.assertRaisesRegex(ValueError, "stochastic_rounding"):
            st.AdamW([torch.nn.Parameter(torch.ones(4, dtype=torch.float16))],
                     stochastic_rounding=True)
        with self.assertRaisesRegex(ValueError, "dtype"):
            st.AdamW([p], state_dtype="f8")
        with self.assertRaises(ValueError):
            st.Lamb([p])  # not elementwise: fp32 only


class Native16(unittest.TestCase):
    def make(self, storage):
        return simdoptim.Optimizer.create("adamw", [("w", (5, 7)), ("b", (9,))], {"lr": 0.01},
                                          storage=storage)

    def test_torch_views_share_the_arena(self):
        opt = self.make({"param_dtype": "bf16", "grad_dtype": "f16", "master_weights": True})
        p, g = opt.param(0, 0, as_torch=True), opt.grad(0, 1, as_torch=True)
        self.assertEqual((p.dtype, g.dtype, tuple(p.shape)),
                         (torch.bfloat16, torch.float16, (5, 7)))
        p[0, 0] = 1.5
        self.assertEqual(opt.param(0, 0)[0, 0], np.uint16(0x3FC0))  # bf16 bits of 1.5
        self.assertEqual(opt.master_param(0, 1, as_torch=True).dtype, torch.float32)
        self.assertEqual(opt.param(0, 0, as_torch=False).dtype, np.uint16)

    def test_step_grads16_and_params_out_equal_the_arena_path(self):
        for dtype, torch_dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
            storage = {"param_dtype": dtype, "grad_dtype": dtype, "master_weights": True}
            ref, sub = self.make(storage), self.make(storage)
            torch.manual_seed(2)
            for o in (ref, sub):
                for i, shape in enumerate(((5, 7), (9,))):
                    o.master_param(0, i, as_torch=True).copy_(torch.ones(shape))
                    o.param(0, i, as_torch=True).fill_(1.0)
            out = [torch.zeros(5, 7, dtype=torch_dtype), None]
            for step in range(3):
                grads = [torch.randn(5, 7).to(torch_dtype), torch.randn(9).to(torch_dtype)]
                if step == 1:
                    grads[1] = None  # no gradient: skipped
                for i, g in enumerate(grads):
                    if g is None:
                        ref.set_has_grad(0, i, False)
                    else:
                        ref.grad(0, i, as_torch=True).copy_(g)
                ref.step()
                sub.step_grads(grads, params_out=out)
                self.assertTrue(torch.equal(ref.master_param(0, 0, as_torch=True),
                                            sub.master_param(0, 0, as_torch=True)))
                self.assertTrue(torch.equal(ref.param(0, 0, as_torch=True).view(torch.int16),
                                            out[0].view(torch.int16)))
                self.assertTrue(torch.equal(ref.param(0, 1, as_torch=True),
                                            sub.param(0, 1, as_torch=True)))
                # The arena's copy of an output tensor is left as it was.
                self.assertTrue(bool((sub.param(0, 0, as_torch=True) == 1.0).all()))
            # Addresses need the dtype; mixed dtypes and fp32 outputs are refused.
            addresses = [g.data_ptr() for g in grads]
            sub.step_grads(addresses, grad_dtype=dtype)
            with self.assertRaisesRegex(ValueError, "bits need the dtype"):
                sub.step_grads([g.view(torch.int16).numpy() for g in grads])
            with self.assertRaisesRegex(ValueError, "where the others are"):
                sub.step_grads([grads[0], torch.zeros(9)])
            with self.assertRaisesRegex(ValueError, "params_out"):
                sub.step_grads(grads, params_out=[torch.zeros(5, 7), None])

    def test_params_out_needs_master_weights(self):
        opt = self.make({"param_dtype": "bf16", "grad_dtype": "bf16"})
        grads = [torch.ones(5, 7, dtype=torch.bfloat16), torch.ones(9, dtype=torch.bfloat16)]
        with self.assertRaisesRegex(ValueError, "master weights"):
            opt.step_grads(grads, params_out=[torch.zeros(5, 7, dtype=torch.bfloat16), None])


if __name__ == "__main__":
    unittest.main()
