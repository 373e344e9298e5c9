"""simdoptim.torch's classes are generated from the optimizer registry: every registered
optimizer is a drop-in, and each one's constructor has torch's parameters, kinds and defaults."""
import inspect
import pydoc
import unittest

import torch
from torch.optim.optimizer import required

import simdoptim
import simdoptim.torch as st

# simdoptim's keyword-only arguments after torch's (and after the options torch lacks).
# The storage arguments of the elementwise optimizers come before them.
STORAGE = ["state_dtype", "master_weights", "stochastic_rounding", "seed"]
RUNTIME = ["isa", "num_threads"]
PAIRS = {"betas": ("beta1", "beta2"), "etas": ("etaminus", "etaplus"),
         "step_sizes": ("step_size_min", "step_size_max"),
         # LBFGS's line_search_fn="strong_wolfe" is the option strong_wolfe.
         "line_search_fn": ("strong_wolfe",)}


def drop_ins():
    return [getattr(st, name) for name in st.__all__ if name != "SimdOptimizer"]


def torch_parameters(cls):
    return list(inspect.signature(getattr(torch.optim, cls.__name__).__init__).parameters.values())


def added_options(cls, torch_names):
    """The registry options of `cls` that torch's signature does not name, in table order."""
    named = set(torch_names)
    for pair, keys in PAIRS.items():
        if pair in named:
            named.update(keys)
    info = simdoptim.optimizer_info(cls._native_name)
    return [(key, default, flag) for key, default, _, flag in info["options"] if key not in named]


class Signatures(unittest.TestCase):
    def test_every_registered_optimizer_is_a_drop_in(self):
        by_name = {cls._native_name: cls for cls in drop_ins()}
        self.assertEqual(sorted(by_name), sorted(simdoptim.optimizer_names()))
        for cls in drop_ins():
            self.assertTrue(issubclass(cls, st.SimdOptimizer))
            self.assertTrue(issubclass(cls, torch.optim.Optimizer))
            self.assertIs(getattr(st, cls.__name__), cls)
        self.assertEqual(len(st.__all__), len(set(st.__all__)))

    def test_class_names_come_from_the_registry(self):
        for cls in drop_ins():
            signature = simdoptim.optimizer_info(cls._native_name)["torch_signature"]
            if signature:
                self.assertEqual(cls.__name__, signature.partition("(")[0])

    def test_torch_signature_names_kinds_defaults(self):
        checked = []
        for cls in drop_ins():
            if not hasattr(torch.optim, cls.__name__):
                continue  # Lion, Lamb, Lars, Adafactor: not in torch 1.13
            with self.subTest(optimizer=cls.__name__):
                theirs = torch_parameters(cls)
                ours = list(inspect.signature(cls.__init__).parameters.values())
                for a, b in zip(theirs, ours):
                    self.assertEqual((a.name, a.kind), (b.name, b.kind))
                    self.assertEqual(a.default, b.default, a.name)
                    self.assertEqual(type(a.default) is bool, type(b.default) is bool, a.name)
                    if a.default is required:
                        self.assertIs(b.default, required)
                extras = ours[len(theirs):]
                added = added_options(cls, [p.name for p in theirs])
                storage = STORAGE if cls not in (st.LBFGS,) else []
                self.assertEqual([p.name for p in extras],
                                 [k for k, _, _ in added] + storage + RUNTIME)
                for p in extras:
                    self.assertEqual(p.kind, inspect.Parameter.KEYWORD_ONLY)
                for p, (_, default, flag) in zip(extras, added):
                    self.assertEqual(p.default, bool(default) if flag else default)
                self.assertEqual([p.default for p in extras[-2:]], [None, 0])
                checked.append(cls.__name__)
        for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                     "RAdam", "Rprop", "ASGD", "LBFGS"):
            self.assertIn(name, checked)

    def test_group_dicts_hold_torch_keys_and_defaults(self):
        for cls in drop_ins():
            if not hasattr(torch.optim, cls.__name__) or cls is st.LBFGS:
                continue
            with self.subTest(optimizer=cls.__name__):
                theirs = getattr(torch.optim, cls.__name__)([torch.nn.Parameter(torch.ones(3))],
                                                           lr=0.5).param_groups[0]
                ours = cls([torch.nn.Parameter(torch.ones(3))], lr=0.5).param_groups[0]
                skip = {k for k, _, _ in added_options(cls, list(theirs))} | {"params"}
                skip |= set(STORAGE)
                self.assertEqual({k: v for k, v in ours.items() if k not in skip},
                                 {k: v for k, v in theirs.items() if k != "params"})

    def test_positional_arguments_and_errors(self):
        p = torch.nn.Parameter(torch.ones(4))
        opt = st.Adam([p], 1e-2, (0.8, 0.9), 1e-6)
        group = opt.param_groups[0]
        self.assertEqual((group["lr"], group["betas"], group["eps"]), (1e-2, (0.8, 0.9), 1e-6))
        self.assertEqual(opt.native.group_options(0)["beta1"], 0.8)
        with self.assertRaises(TypeError):
            st.Adam([p], lr=1e-3, betaz=(0.9, 0.99))
        with self.assertRaises(TypeError):
            st.Adam([p], 1e-3, (0.9, 0.99), 1e-8, 0, False, False)  # maximize is keyword-only
        with self.assertRaisesRegex(ValueError, "required"):
            st.SGD([p])  # torch: lr is required
        self.assertEqual(st.NAdam([p], decoupled_weight_decay=True).param_groups[0]
                         ["decoupled_weight_decay"], True)

    def test_registry_facts_and_docs(self):
        self.assertFalse(st.SGD._torch_has_step)
        self.assertTrue(st.Adam._torch_has_step)
        self.assertEqual(st.NAdam._torch_scalar_state, ("mu_product",))
        self.assertEqual(st.ASGD._torch_scalar_state, ("eta", "mu"))
        text = pydoc.render_doc(st.Adam)
        self.assertIn("betas=(0.9, 0.999)", text)
        self.assertIn("decay of the running mean of gradients", text)
        self.assertIn("torch.optim.Adam", st.Adam.__doc__)
        self.assertEqual(str(inspect.signature(st.Rprop)).split(", *")[0],
                         "(params, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-06, 50.0), "
                         "foreach=None, maximize=False")


if __name__ == "__main__":
    unittest.main()
