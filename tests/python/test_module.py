"""The native module without torch: optimizers, numpy views of the arenas, schedulers,
build_optimizer / build_scheduler, checkpoints and errors."""
import os
import tempfile
import unittest

import numpy as np

import simdoptim


class NativeModule(unittest.TestCase):
    def test_version_and_names(self):
        self.assertEqual(simdoptim.__version__, simdoptim.version())
        self.assertIn("adamw", simdoptim.optimizer_names())
        self.assertEqual(simdoptim.supported_isas()[0], "scalar")
        self.assertIn(simdoptim.default_isa(), simdoptim.supported_isas())
        self.assertEqual(simdoptim.optimizer_defaults("adamw")["weight_decay"], 1e-2)

    def test_views_and_step(self):
        opt = simdoptim.Optimizer.create("sgd", [("w", (3, 4)), ("b", (4,))], {"lr": 0.5},
                                         isa="scalar", num_threads=1)
        self.assertEqual((opt.name, opt.isa, opt.num_threads), ("sgd", "scalar", 1))
        w, gw = opt.param(0, 0), opt.grad(0, 0)
        self.assertEqual(w.shape, (3, 4))
        w[:] = np.arange(12, dtype=np.float32).reshape(3, 4)
        gw[:] = 1.0
        opt.set_has_grads(0, [True, False])
        opt.step()
        np.testing.assert_array_equal(opt.param(0, 0), np.arange(12).reshape(3, 4) - 0.5)
        np.testing.assert_array_equal(opt.param(0, 1), 0.0)  # no gradient: skipped
        del opt  # the views keep the arena alive
        self.assertEqual(w[0, 0], -0.5)

    def test_16bit_storage(self):
        opt = simdoptim.Optimizer.create("adamw", [("w", (3,))], {"lr": 0.1})
        opt.add_param_group([("v", (4,))], {"lr": 0.1},
                            {"param_dtype": "bf16", "grad_dtype": "bf16", "state_dtype": "bf16",
                             "master_weights": True})
        self.assertEqual(opt.group_dtypes(1), {"param": "bf16", "grad": "bf16",
                                               "state": "bf16", "master_weights": True})
        v, g, master = opt.param(1, 0), opt.grad(1, 0), opt.master_param(1, 0)
        self.assertEqual((v.dtype, g.dtype, master.dtype), (np.uint16, np.uint16, np.float32))

        def bf16(x):  # float32 values to bf16 bits (these round exactly)
            return (np.asarray(x, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)

        master[:] = [1.0, -2.0, 0.5, 4.0]
        g[:] = bf16([1.0, 1.0, -1.0, 0.0])
        opt.set_has_grads(0, [False])
        opt.step()
        # AdamW's first step: p * (1 - lr wd) - lr * sign(g) (g = 0: only the decay)
        want = np.float32([1.0, -2.0, 0.5, 4.0]) * np.float32(1 - 0.1 * 0.01) - \
            np.float32(0.1) * np.float32([1, 1, -1, 0])
        np.testing.assert_allclose(master, want, rtol=1e-6)
        widened = (v.astype(np.uint32) << 16).view(np.float32)
        np.testing.assert_allclose(widened, master, rtol=2 ** -8)
        self.assertEqual(opt.state(1, 0, "exp_avg").dtype, np.uint16)
        opt.clip_grad_value_(0.5)  # clamps the bf16 gradients in place
        np.testing.assert_array_equal(g, bf16([0.5, 0.5, -0.5, 0.0]))
        with self.assertRaises(ValueError):
            opt.add_param_group([("u", (1,))], {}, {"state_dtype": "f16"})
        with self.assertRaises(ValueError):
            opt.add_param_group([("u", (1,))], {}, {"colour": "bf16"})

    def test_state_and_groups(self):
        opt = simdoptim.Optimizer.create("adamw", [("w", (5,))], {"lr": 0.1})
        opt.add_param_group([("v", (2,))], {"weight_decay": 0.0})
        self.assertEqual(opt.num_groups, 2)
        self.assertEqual(opt.param_names(1), ["v"])
        opt.grad(0, 0)[:] = 1.0
        opt.set_has_grad(0, 0, True)
        opt.step()
        self.assertEqual(opt.step_count(0, 0), 1)
        self.assertEqual(opt.step_count(1, 0), 0)
        np.testing.assert_allclose(opt.state(0, 0, "exp_avg"), 0.1)
        opt.set_group_options(0, {"lr": 0.01})
        self.assertEqual(opt.group_options(0)["lr"], 0.01)
        with self.assertRaises(ValueError):
            opt.set_group_options(0, {"lr": -1.0})
        with self.assertRaises(ValueError):
            opt.set_group_options(0, {"momentum": 0.9})
        self.assertEqual(opt.group_options(0)["lr"], 0.01)
        with self.assertRaises(IndexError):
            opt.param(0, 5)
        with self.assertRaises(IndexError):
            opt.group_options(2)

    def test_grad_marks_present_names_and_pairs(self):
        # Writing through grad() is enough for step(), as in C++ and C.
        opt = simdoptim.Optimizer.create("adam", [("w", (3,)), ("b", (2,))],
                                         {"lr": 0.1, "betas": (0.8, 0.99)})
        self.assertEqual((opt.group_options(0)["beta1"], opt.group_options(0)["beta2"]),
                         (0.8, 0.99))
        opt.grad(0, 0)[:] = 1.0
        opt.step()
        self.assertEqual(opt.step_count(0, 0), 1)
        self.assertEqual(opt.step_count(0, 1), 0)
        # By name.
        np.testing.assert_array_equal(opt.param("w"), opt.param(0, 0))
        opt.grad("b")[:] = 1.0
        self.assertTrue(opt.has_grad(0, 1))
        with self.assertRaises(IndexError):
            opt.param("nope")
        with self.assertRaisesRegex(ValueError, "takes 2 values"):
            simdoptim.Optimizer.create("adam", [("w", (3,))], {"betas": (0.9,)})
        rprop = simdoptim.Optimizer.create("rprop", [("w", (3,))],
                                           {"etas": [0.4, 1.3], "step_sizes": (1e-5, 10.0)})
        self.assertEqual(rprop.group_options(0)["etaplus"], 1.3)
        self.assertEqual(rprop.group_options(0)["step_size_min"], 1e-5)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "adamx"):
            simdoptim.Optimizer.create("adamx", [("w", (2,))])
        with self.assertRaisesRegex(ValueError, "momentun"):
            simdoptim.Optimizer.create("sgd", [("w", (2,))], {"momentun": 0.9})
        with self.assertRaises(ValueError):
            simdoptim.Optimizer.create("sgd", [("w", (2,))], isa="avx9000")

    def test_schedulers(self):
        opt = simdoptim.Optimizer.create("sgd", [("w", (2,))], {"lr": 0.1})
        sched = simdoptim.StepLR(opt, step_size=2, gamma=0.5)
        lrs = []
        for _ in range(5):
            lrs.append(sched.get_last_lr()[0])
            sched.step()
        self.assertEqual(lrs, [0.1, 0.1, 0.05, 0.05, 0.025])
        lam = simdoptim.LambdaLR(opt, lambda epoch: 1.0 / (epoch + 1))
        lam.step()
        self.assertAlmostEqual(opt.group_options(0)["lr"], 0.1 / 2)

    def test_swalr_as_torch(self):
        import torch
        from torch.optim import swa_utils

        for swa_lr, kwargs in ((0.02, {}), ([0.05], dict(anneal_epochs=3,
                                                        anneal_strategy="linear"))):
            opt = simdoptim.Optimizer.create("sgd", [("w", (2,))], {"lr": 0.1})
            sched = simdoptim.SWALR(opt, swa_lr, **kwargs)
            ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
            ref = swa_utils.SWALR(ref_opt, swa_lr[0] if isinstance(swa_lr, list) else swa_lr,
                                  **kwargs)
            for _ in range(15):
                self.assertEqual(sched.get_last_lr(), ref.get_last_lr())
                ref_opt.step()
                sched.step()
                ref.step()
        with self.assertRaisesRegex(ValueError, "anneal_strategy"):
            simdoptim.SWALR(opt, 0.1, anneal_strategy="cosine")

    def test_build_optimizer_and_scheduler(self):
        config = ("TRAIN:\n  EPOCHS: 4\n  WARMUP_EPOCHS: 1\n  BASE_LR: 0.01\n  WARMUP_LR: 0.0\n"
                  "  OPTIMIZER:\n    NAME: adamw\n")
        opt = simdoptim.build_optimizer(config, [("fc.weight", (4, 4)), ("fc.bias", (4,)),
                                                 ("stem.weight", (4, 4), False)])
        self.assertEqual(opt.name, "adamw")
        self.assertEqual(opt.num_groups, 2)
        self.assertEqual(opt.group_options(1)["weight_decay"], 0.0)
        sched = simdoptim.build_scheduler(config, opt, steps_per_epoch=10)
        sched.step()
        self.assertAlmostEqual(opt.group_options(0)["lr"], 0.01 / 10)
        with self.assertRaisesRegex(ValueError, "BASE_LRR"):
            simdoptim.build_optimizer("TRAIN:\n  BASE_LRR: 1\n", [("w", (2,))])

    def test_checkpoint_round_trip(self):
        opt = simdoptim.Optimizer.create("adam", [("w", (3,))], {"lr": 0.1})
        opt.grad(0, 0)[:] = 1.0
        opt.set_has_grad(0, 0, True)
        opt.step()
        saved = opt.param(0, 0).copy()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "adam.ckpt")
            opt.save(path)
            opt.step()
            opt.load(path)
            np.testing.assert_array_equal(opt.param(0, 0), saved)
            with open(path, "wb") as f:
                f.write(b"garbage")
            with self.assertRaises(RuntimeError):
                opt.load(path)
        np.testing.assert_array_equal(opt.param(0, 0), saved)

    def test_clip_and_closure(self):
        opt = simdoptim.Optimizer.create("lbfgs", [("x", (4,))], {"strong_wolfe": 1})
        x, g = opt.param(0, 0), opt.grad(0, 0)
        opt.set_has_grad(0, 0, True)

        def closure():
            g[:] = 2.0 * (x - 3.0)
            return float(((x - 3.0) ** 2).sum())

        self.assertEqual(opt.step_closure(closure), 36.0)
        np.testing.assert_allclose(x, 3.0, atol=1e-4)
        g[:] = [3.0, 4.0, 0.0, 0.0]
        self.assertAlmostEqual(opt.clip_grad_norm_(1.0), 5.0, places=5)
        np.testing.assert_allclose(g[:2], [0.6, 0.8], rtol=1e-5)


if __name__ == "__main__":
    unittest.main()
