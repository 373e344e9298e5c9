#pragma once
/// Umbrella header: the whole public C++ API.
#include "simdoptim/adam.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/group_options.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/lr_scheduler.hpp"
#include "simdoptim/model_spec.hpp"
#include "simdoptim/optimizer.hpp"
#include "simdoptim/param_group.hpp"
#include "simdoptim/sgd.hpp"
#include "simdoptim/types.hpp"
#include "simdoptim/version.hpp"
