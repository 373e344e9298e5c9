"""state_dict() / load_state_dict() in torch's format, both ways between torch.optim and
simdoptim.torch."""
import copy
import os
import subprocess
import sys
import tempfile
import unittest

import torch

import simdoptim
import simdoptim.torch as st
from torch_models import make_data, make_model, max_param_diff, train, twin_models

PARAM_ATOL = 1e-5  # as test_torch_dropin.py


class StateDictInterop(unittest.TestCase):
    def resume(self, first_cls, second_cls, options):
        """Train 5 steps with first_cls, hand its state dict to second_cls, train 5 more;
        compare with 10 uninterrupted torch steps."""
        ref, ours = twin_models()
        ropt = getattr(torch.optim, first_cls.__name__)(ref.parameters(), **options)
        train(ref, ropt, 10)

        first = first_cls(ours.parameters(), **options)
        train(ours, first, 5)
        state = copy.deepcopy(first.state_dict())
        second = second_cls(ours.parameters(), **options)
        second.load_state_dict(state)
        # the loss loop resumes where it stopped: batches 5..9
        from torch_models import make_data
        x, y = make_data()
        for step in range(5, 10):
            lo = (step * 16) % x.shape[0]
            loss = torch.nn.functional.cross_entropy(ours(x[lo:lo + 16]), y[lo:lo + 16])
            second.zero_grad()
            loss.backward()
            second.step()
        self.assertLess(max_param_diff(ref, ours), PARAM_ATOL)

    def test_torch_to_simdoptim(self):
        for name, options in (("AdamW", dict(lr=1e-2, amsgrad=True)),
                              ("SGD", dict(lr=0.1, momentum=0.9)),
                              ("Adagrad", dict(lr=1e-2)),
                              ("Rprop", dict(lr=1e-2))):
            with self.subTest(optimizer=name):
                self.resume(getattr(torch.optim, name), getattr(st, name), options)

    # NAdam's and ASGD's 0-d state (mu_product; eta, mu) goes through
    # Optimizer::save_tensor_scalars.
    def test_torch_to_simdoptim_scalar_state(self):
        self.resume(torch.optim.NAdam, st.NAdam, dict(lr=2e-3))
        self.resume(torch.optim.ASGD, st.ASGD, dict(lr=1e-2, t0=3))

    def test_simdoptim_to_torch(self):
        for name, options in (("AdamW", dict(lr=1e-2)), ("RMSprop", dict(lr=1e-2, momentum=0.5))):
            with self.subTest(optimizer=name):
                self.resume(getattr(st, name), getattr(torch.optim, name), options)

    def test_format_matches_torch(self):
        ref, ours = twin_models()
        ropt = torch.optim.AdamW(ref.parameters(), lr=1e-2)
        oopt = st.AdamW(ours.parameters(), lr=1e-2)
        train(ref, ropt, 3)
        train(ours, oopt, 3)
        rs, os_ = ropt.state_dict(), oopt.state_dict()
        self.assertEqual(rs["param_groups"], os_["param_groups"])
        self.assertEqual(sorted(rs["state"]), sorted(os_["state"]))
        for k in rs["state"]:
            self.assertEqual(set(rs["state"][k]), set(os_["state"][k]))
            for name, value in rs["state"][k].items():
                self.assertEqual(value.shape, os_["state"][k][name].shape)
                self.assertTrue(torch.allclose(value, os_["state"][k][name], atol=1e-6), name)
        # torch.save / torch.load round trip of our dict
        import io
        buffer = io.BytesIO()
        torch.save(os_, buffer)
        buffer.seek(0)
        oopt.load_state_dict(torch.load(buffer))

    def test_load_restores_group_options(self):
        _, ours = twin_models()
        opt = st.AdamW(ours.parameters(), lr=1e-2)
        state = opt.state_dict()
        state["param_groups"][0]["lr"] = 5e-4
        state["param_groups"][0]["betas"] = (0.8, 0.99)
        opt.load_state_dict(state)
        self.assertEqual(opt.param_groups[0]["lr"], 5e-4)
        options = opt.native.group_options(0)
        self.assertEqual((options["lr"], options["beta1"], options["beta2"]), (5e-4, 0.8, 0.99))
        self.assertIs(opt.param_groups[0]["params"][0], next(ours.parameters()))

    def test_mismatch_is_refused_and_changes_nothing(self):
        _, ours = twin_models()
        opt = st.AdamW(ours.parameters(), lr=1e-2)
        train(ours, opt, 2)
        good = opt.state_dict()
        bad = copy.deepcopy(good)
        bad["state"][0]["exp_avg"] = torch.zeros(7)
        with self.assertRaises(RuntimeError):
            opt.load_state_dict(bad)
        bad = copy.deepcopy(good)
        bad["param_groups"][0]["params"] = bad["param_groups"][0]["params"][:-1]
        with self.assertRaises(ValueError):
            opt.load_state_dict(bad)
        after = opt.state_dict()
        self.assertEqual(good["param_groups"], after["param_groups"])
        for k in good["state"]:
            for name in good["state"][k]:
                self.assertTrue(torch.equal(good["state"][k][name], after["state"][k][name]))

    def test_step_type_as_torch(self):
        """torch 1.13 keeps state['step'] as a Python int for RMSprop, Adadelta and Rprop, a 0-d
        float32 tensor for the others."""
        for name in ("RMSprop", "Adadelta", "Rprop", "Adam", "NAdam"):
            with self.subTest(optimizer=name):
                types = []
                for cls in (getattr(torch.optim, name), getattr(st, name)):
                    _, model = twin_models()
                    opt = cls(model.parameters(), lr=1e-2)
                    train(model, opt, 2)
                    step = opt.state_dict()["state"][0]["step"]
                    types.append((type(step), getattr(step, "dtype", None)))
                    self.assertEqual(float(step), 2.0)
                self.assertEqual(types[0], types[1])

    def test_another_optimizers_state_is_refused(self):
        _, ours = twin_models()
        adamw = st.AdamW(ours.parameters(), lr=1e-2)
        train(ours, adamw, 1)
        sgd = st.SGD(ours.parameters(), lr=0.1, momentum=0.9)
        with self.assertRaisesRegex(RuntimeError, "unknown state array 'exp_avg'"):
            sgd.load_state_dict(adamw.state_dict())
        state = adamw.state_dict()
        del state["state"][0]["exp_avg_sq"]
        with self.assertRaisesRegex(RuntimeError, "state array 'exp_avg_sq' is missing"):
            adamw.load_state_dict(state)

    def test_scalar_state_with_a_parameter_never_stepped(self):
        """NAdam's and ASGD's per-parameter scalars: a parameter without a gradient yet has no
        state in torch's dict, and loads as a fresh one (from simdoptim's dict or torch's)."""
        for name, options in (("NAdam", dict(lr=2e-3)), ("ASGD", dict(lr=1e-2, t0=3))):
            with self.subTest(optimizer=name):
                results = []
                for source in (getattr(st, name), getattr(torch.optim, name)):
                    params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]
                    first = source(params, **options)
                    for _ in range(2):
                        first.zero_grad()
                        params[0].sum().backward()
                        first.step()
                    state = copy.deepcopy(first.state_dict())
                    self.assertEqual(list(state["state"]), [0])
                    ours = [torch.nn.Parameter(p.detach().clone()) for p in params]
                    second = getattr(st, name)(ours, **options)
                    second.load_state_dict(state)
                    second.zero_grad()
                    (ours[0].sum() + ours[1].sum()).backward()
                    second.step()
                    results.append([p.detach().clone() for p in ours])
                for a, b in zip(*results):
                    self.assertTrue(torch.allclose(a, b, atol=1e-6))

    def test_state_dict_is_a_copy(self):
        _, ours = twin_models()
        opt = st.Adam(ours.parameters(), lr=1e-2)
        train(ours, opt, 1)
        state = opt.state_dict()
        before = state["state"][0]["exp_avg"].clone()
        train(ours, opt, 1)
        self.assertTrue(torch.equal(state["state"][0]["exp_avg"], before))



TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                    "convert_checkpoint.py")


class ConvertCheckpoint(unittest.TestCase):
    """tools/convert_checkpoint.py on storage it must convert and an optimizer torch.optim does
    not have."""

    def test_stored_state_converts_to_torch_fp32(self):
        """A checkpoint of bf16 parameters with q8 or bf16 state (format version 3, state saved
        as stored) converts to torch's fp32 state: the tool's dequantization and widening give
        the same bits as the library's (the drop-in's state_dict)."""
        for state_dtype in ("q8", "bf16"):
            with self.subTest(state_dtype=state_dtype), tempfile.TemporaryDirectory() as tmp:
                model = make_model(seed=3).to(torch.bfloat16)
                opt = st.AdamW(model.parameters(), lr=1e-2, state_dtype=state_dtype)
                x, y = make_data()
                for step in range(3):
                    batch = slice(step * 16, step * 16 + 16)
                    loss = torch.nn.functional.cross_entropy(
                        model(x[batch].to(torch.bfloat16)).float(), y[batch])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                ckpt, pt = os.path.join(tmp, "ours.ckpt"), os.path.join(tmp, "ours.pt")
                opt.native.save(ckpt)
                with open(ckpt, "rb") as f:
                    self.assertEqual(f.read()[8], 3)  # the version that records storage
                run = subprocess.run([sys.executable, "-B", TOOL, "to-torch", ckpt, pt],
                                     capture_output=True, text=True)
                self.assertEqual(run.returncode, 0, run.stderr)
                converted = torch.load(pt)["state"]
                expected = opt.state_dict()["state"]
                self.assertEqual(sorted(converted), sorted(expected))
                nonzero = 0
                for index, s in expected.items():
                    for name in ("exp_avg", "exp_avg_sq"):
                        got = converted[index][name]
                        self.assertEqual(got.dtype, torch.float32)
                        self.assertTrue(torch.equal(got.view(torch.int32),
                                                    s[name].float().view(torch.int32)), name)
                        nonzero += int(got.count_nonzero())
                self.assertGreater(nonzero, 100)

    def test_lion_has_no_torch_equivalent(self):
        tool = TOOL
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = os.path.join(tmp, "lion.ckpt")
            opt = simdoptim.Optimizer.create("lion", [("w", (4,))], {"lr": 1e-4})
            opt.set_has_grad(0, 0, True)
            opt.step()
            opt.save(ckpt)
            run = subprocess.run([sys.executable, "-B", tool, "to-torch", ckpt,
                                  os.path.join(tmp, "lion.pt")], capture_output=True, text=True)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("lion has no torch equivalent", run.stderr)
        self.assertNotIn("Traceback", run.stderr)


if __name__ == "__main__":
    unittest.main()
