#pragma once
/// Umbrella header: the torch.optim.lr_scheduler family, WarmupLR and timm's CosineLRScheduler.
#include "simdoptim/lr_scheduler/composite_lr.hpp"
#include "simdoptim/lr_scheduler/cosine_annealing_lr.hpp"
#include "simdoptim/lr_scheduler/cyclic_lr.hpp"
#include "simdoptim/lr_scheduler/factor_lr.hpp"
#include "simdoptim/lr_scheduler/lambda_lr.hpp"
#include "simdoptim/lr_scheduler/one_cycle_lr.hpp"
#include "simdoptim/lr_scheduler/reduce_lr_on_plateau.hpp"
#include "simdoptim/lr_scheduler/scheduler.hpp"
#include "simdoptim/lr_scheduler/step_lr.hpp"
#include "simdoptim/lr_scheduler/swa_lr.hpp"
#include "simdoptim/lr_scheduler/timm_cosine_lr.hpp"
#include "simdoptim/lr_scheduler/warmup_lr.hpp"
