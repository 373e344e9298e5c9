"""optimizer.state on the drop-ins: torch's keys, keyed by parameter, as zero-copy views of the
arenas that follow the steps, and consistent with state_dict() and load_state_dict()."""
import copy
import unittest

import torch

import simdoptim.torch as st
from torch_models import train, twin_models

# Torch and simdoptim round a few float32 operations differently (tests/python/
# test_torch_dropin.py): after 3 steps the state differs by a few ulps; 1e-5 is far below
# what a wrong key or a stale view gives.
STATE_ATOL = 1e-5

CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05)),
    ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=1e-2)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=2e-3)),
    ("NAdam", dict(lr=2e-3)),
    ("RAdam", dict(lr=1e-3)),
    ("Rprop", dict(lr=1e-2)),
    ("ASGD", dict(lr=1e-2, t0=5)),
]


def shares_memory(tensor, array):
    return tensor.data_ptr() == array.__array_interface__["data"][0]


class StateLikeTorch(unittest.TestCase):
    def test_same_keys_and_values_as_torch(self):
        for name, options in CASES:
            with self.subTest(optimizer=name):
                ref, ours = twin_models()
                ropt = getattr(torch.optim, name)(ref.parameters(), **options)
                oopt = getattr(st, name)(ours.parameters(), **options)
                train(ref, ropt, 3)
                train(ours, oopt, 3)
                self.assertEqual(len(oopt.state), len(ropt.state))
                for rp, op in zip(ref.parameters(), ours.parameters()):
                    self.assertIn(op, oopt.state)
                    rs = {k: v for k, v in ropt.state[rp].items() if v is not None}
                    os_ = oopt.state[op]
                    self.assertEqual(set(os_), set(rs))
                    for key, value in rs.items():
                        got = os_[key]
                        if not torch.is_tensor(value):  # torch 1.13's int step (RMSprop, ...)
                            self.assertIs(type(got), type(value), key)
                            self.assertEqual(got, value, key)
                            continue
                        self.assertTrue(torch.is_tensor(got), key)
                        self.assertEqual(got.dtype, value.dtype, key)
                        self.assertEqual(got.shape, value.shape, key)
                        self.assertTrue(torch.allclose(got, value, atol=STATE_ATOL), key)

    def test_empty_before_the_first_step(self):
        ref, ours = twin_models()
        opt = st.AdamW(ours.parameters())
        self.assertEqual(len(opt.state), 0)
        self.assertNotIn(next(ours.parameters()), opt.state)
        self.assertEqual(dict(opt.state.items()), {})


    def test_lbfgs_shows_no_state(self):
        # torch keeps LBFGS's history in state[first param] under other keys: nothing is shown
        # rather than something torch never has.
        _, model = twin_models()
        opt = st.LBFGS(model.parameters(), max_iter=2)
        x, y = torch.randn(8, 8), torch.randint(0, 3, (8,))

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss

        opt.step(closure)
        self.assertEqual(len(opt.state), 0)


class ZeroCopyState(unittest.TestCase):
    def test_views_share_the_arena_and_follow_steps(self):
        _, model = twin_models()
        opt = st.AdamW(model.parameters(), lr=1e-2)
        train(model, opt, 1)
        for i, p in enumerate(model.parameters()):
            state = opt.state[p]
            self.assertTrue(shares_memory(state["exp_avg"], opt.native.state(0, i, "exp_avg")))
            self.assertTrue(shares_memory(state["exp_avg_sq"],
                                          opt.native.state(0, i, "exp_avg_sq")))
            self.assertEqual(float(state["step"]), 1.0)
        p = next(model.parameters())
        held = opt.state[p]["exp_avg"]  # a reference kept across steps, as loggers do
        step = opt.state[p]["step"]
        before = held.clone()
        train(model, opt, 1)
        self.assertFalse(torch.equal(before, held))
        self.assertIs(opt.state[p]["exp_avg"], held)
        self.assertEqual(float(step), 2.0)
        # Writing the view writes the optimizer's state.
        held.fill_(0.25)
        self.assertTrue((opt.native.state(0, 0, "exp_avg") == 0.25).all())
        self.assertTrue(torch.equal(opt.state_dict()["state"][0]["exp_avg"], held))

    def test_user_keys_are_kept(self):
        _, model = twin_models()
        opt = st.SGD(model.parameters(), lr=0.1, momentum=0.9)
        p = next(model.parameters())
        opt.state[p]["ema"] = torch.zeros_like(p)  # defaultdict, as torch's
        train(model, opt, 2)
        self.assertEqual(set(opt.state[p]), {"ema", "momentum_buffer"})

    def test_per_tensor_scalars(self):
        ref, ours = twin_models()
        ropt = torch.optim.NAdam(ref.parameters(), lr=2e-3)
        oopt = st.NAdam(ours.parameters(), lr=2e-3)
        train(ref, ropt, 4)
        train(ours, oopt, 4)
        for rp, op in zip(ref.parameters(), ours.parameters()):
            self.assertAlmostEqual(float(oopt.state[op]["mu_product"]),
                                   float(ropt.state[rp]["mu_product"]), places=6)


class StateAndCheckpoints(unittest.TestCase):
    def test_load_state_dict_keeps_views_and_shows_loaded_state(self):
        _, a = twin_models()
        _, b = twin_models()
        opt_a = st.Adam(a.parameters(), lr=1e-2)
        opt_b = st.Adam(b.parameters(), lr=1e-2)
        train(a, opt_a, 3)
        train(b, opt_b, 1)
        p = next(b.parameters())
        held = opt_b.state[p]["exp_avg"]
        opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
        self.assertIs(opt_b.state[p]["exp_avg"], held)
        self.assertTrue(torch.equal(held, opt_a.state[next(a.parameters())]["exp_avg"]))
        self.assertEqual(float(opt_b.state[p]["step"]), 3.0)

    def test_load_of_an_empty_state_empties_it(self):
        _, model = twin_models()
        opt = st.Adam(model.parameters(), lr=1e-2)
        fresh = copy.deepcopy(opt.state_dict())
        train(model, opt, 2)
        self.assertEqual(len(opt.state), len(list(model.parameters())))
        opt.load_state_dict(fresh)
        self.assertEqual(len(opt.state), 0)

    def test_state_dict_matches_state(self):
        _, model = twin_models()
        opt = st.RMSprop(model.parameters(), lr=1e-2, momentum=0.5)
        train(model, opt, 2)
        saved = opt.state_dict()["state"]
        for i, p in enumerate(model.parameters()):
            self.assertEqual(set(saved[i]), set(opt.state[p]))
            for key, value in saved[i].items():
                if torch.is_tensor(value):
                    self.assertTrue(torch.equal(value, opt.state[p][key]), key)
                else:
                    self.assertEqual(value, opt.state[p][key], key)


if __name__ == "__main__":
    unittest.main()
