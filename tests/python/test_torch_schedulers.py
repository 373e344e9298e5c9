"""torch's own lr schedulers drive simdoptim.torch optimizers unchanged: the lr they write into
the group dicts reaches the kernels at every step."""
import unittest

import torch
from torch.optim import lr_scheduler

import simdoptim.torch as st
from torch_models import max_param_diff, train, twin_models

PARAM_ATOL = 1e-5  # as test_torch_dropin.py


class TorchSchedulers(unittest.TestCase):
    def check(self, torch_cls, simd_cls, options, make_scheduler, steps=30):
        ref, ours = twin_models()
        ropt, oopt = torch_cls(ref.parameters(), **options), simd_cls(ours.parameters(), **options)
        rsched, osched = make_scheduler(ropt), make_scheduler(oopt)
        ref_lrs, our_lrs = [], []
        for _ in range(steps):
            train(ref, ropt, 1, scheduler=rsched)
            train(ours, oopt, 1, scheduler=osched)
            ref_lrs.append(rsched.get_last_lr())
            our_lrs.append(osched.get_last_lr())
        self.assertEqual(ref_lrs, our_lrs)
        # The kernels used the scheduled lr: the trajectories agree, and the native group has it.
        self.assertLess(max_param_diff(ref, ours), PARAM_ATOL)
        oopt.step()  # syncs the group dicts
        for g, group in enumerate(oopt.param_groups):
            self.assertEqual(oopt.native.group_options(g)["lr"], group["lr"])

    def test_step_lr(self):
        self.check(torch.optim.AdamW, st.AdamW, dict(lr=1e-2),
                   lambda o: lr_scheduler.StepLR(o, step_size=5, gamma=0.5))

    def test_cosine_annealing(self):
        self.check(torch.optim.SGD, st.SGD, dict(lr=0.1, momentum=0.9),
                   lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=1e-3))

    def test_lambda_and_sequential(self):
        def make(o):
            warm = lr_scheduler.LambdaLR(o, lambda e: (e + 1) / 5)
            cos = lr_scheduler.CosineAnnealingLR(o, T_max=25)
            return lr_scheduler.SequentialLR(o, [warm, cos], milestones=[5])

        self.check(torch.optim.Adam, st.Adam, dict(lr=3e-3), make)

    def test_one_cycle_linear_ends_negative_and_still_saves(self):
        """torch lets OneCycleLR step once past its last phase, where the linear anneal goes
        below zero; torch saves that state. simdoptim.torch saves it too and refuses the
        negative lr at the next step() (torch would step with it)."""
        _, ours = twin_models()
        opt = st.SGD(ours.parameters(), lr=0.1, momentum=0.9)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="linear")
        train(ours, opt, 10, scheduler=sched)
        self.assertLess(opt.param_groups[0]["lr"], 0.0)
        state = opt.state_dict()
        self.assertEqual(state["param_groups"][0]["lr"], opt.param_groups[0]["lr"])
        with self.assertRaisesRegex(ValueError, "lr"):
            opt.step()

    def test_one_cycle_cycles_momentum_and_betas(self):
        # OneCycleLR writes group['momentum'] for SGD and group['betas'] for Adam.
        self.check(torch.optim.SGD, st.SGD, dict(lr=0.1, momentum=0.9),
                   lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=40))
        self.check(torch.optim.AdamW, st.AdamW, dict(lr=1e-2),
                   lambda o: lr_scheduler.OneCycleLR(o, max_lr=1e-2, total_steps=40))

    def test_swalr(self):
        # torch's SWALR writes group['swa_lr'], a key the drop-ins keep in the dict only.
        from torch.optim import swa_utils

        def make(o):
            cos = lr_scheduler.CosineAnnealingLR(o, T_max=10)
            swa = swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=5)
            return lr_scheduler.SequentialLR(o, [cos, swa], milestones=[10])

        self.check(torch.optim.SGD, st.SGD, dict(lr=0.1, momentum=0.9), make)

    def test_reduce_on_plateau(self):
        ref, ours = twin_models()
        ropt = torch.optim.SGD(ref.parameters(), lr=0.1)
        oopt = st.SGD(ours.parameters(), lr=0.1)
        rs = lr_scheduler.ReduceLROnPlateau(ropt, patience=0, factor=0.5)
        os_ = lr_scheduler.ReduceLROnPlateau(oopt, patience=0, factor=0.5)
        for k in range(8):
            metric = 1.0 if k % 2 else 2.0  # no improvement every other step
            for model, opt, sched in ((ref, ropt, rs), (ours, oopt, os_)):
                train(model, opt, 1)
                sched.step(metric)
        self.assertEqual(ropt.param_groups[0]["lr"], oopt.param_groups[0]["lr"])
        self.assertLess(oopt.param_groups[0]["lr"], 0.1)
        self.assertLess(max_param_diff(ref, ours), PARAM_ATOL)

    def test_bad_lr_from_a_scheduler_is_refused(self):
        ref, ours = twin_models()
        opt = st.SGD(ours.parameters(), lr=0.1)
        opt.param_groups[0]["lr"] = -1.0
        with self.assertRaises(ValueError):
            train(ours, opt, 1)


if __name__ == "__main__":
    unittest.main()
