// Resuming is exact: N steps straight equal k steps, save, load in a new process, N - k steps,
// bit for bit (parameters, state, step counts, lr, scheduler), whatever the instruction set and
// thread count of each process.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "checkpoint_recipe.hpp"
#include "simdoptim/checkpoint.hpp"
#include "thread_counts.hpp"

using namespace checkpoint_recipe;

namespace {

std::string temp_dir() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("simdoptim_resume_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

int run_helper(const std::string& args) {
  const std::string command =
      std::string(SIMDOPTIM_RESUME_LAUNCHER " '") + SIMDOPTIM_RESUME_HELPER + "' " + args;
  return std::system(command.c_str());
}

}  // namespace

TEST_CASE("training resumed in a new process equals training straight, bit for bit",
          "[checkpoint][resume]") {
  constexpr std::int64_t kSteps = 12;
  constexpr std::int64_t kSaveAt = 5;
  const std::string dir = temp_dir();
  const Isa first_isa = supported_isas().size() > 1 ? supported_isas()[1] : Isa::scalar;
  for (const std::string& name : optimizers()) {
    INFO("optimizer " << name);
    auto opt = make_optimizer(name, {best_isa(), thread_counts::capped(2)});
    add_groups(*opt);
    auto sched = make_scheduler(*opt);
    train(*opt, *sched, 0, kSteps);

    const std::string ckpt = dir + "/" + name + "_k";
    const std::string out = dir + "/" + name + "_final";
    REQUIRE(run_helper(name + " " + isa_name(first_isa) + " 1 first " + std::to_string(kSaveAt) +
                       " " + ckpt) == 0);
    REQUIRE(run_helper(name + " " + isa_name(best_isa()) + " " +
                       std::to_string(thread_counts::capped(3)) + " resume " +
                       std::to_string(kSaveAt) + " " + std::to_string(kSteps) + " " + ckpt + " " +
                       out) == 0);

    // The encoding holds every bit of the state, so equal bytes mean an equal state.
    const OptimizerStateDict resumed = read_checkpoint(out + ".opt");
    CHECK(encode_checkpoint(resumed) == encode_checkpoint(state_dict(*opt)));
    CHECK(resumed.param_groups[0].tensors[0].step == kSteps);
    auto fresh = make_optimizer(name, {});
    add_groups(*fresh);
    auto fresh_sched = make_scheduler(*fresh);
    load(*fresh_sched, out + ".sched");
    CHECK(fresh_sched->state_dict() == sched->state_dict());
    CHECK(fresh_sched->get_last_lr() == sched->get_last_lr());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("resuming in the same process continues the same trajectory", "[checkpoint][resume]") {
  for (const std::string& name : optimizers()) {
    INFO("optimizer " << name);
    auto straight = make_optimizer(name, {Isa::scalar, 1});
    add_groups(*straight);
    auto straight_sched = make_scheduler(*straight);
    train(*straight, *straight_sched, 0, 9);

    auto first = make_optimizer(name, {best_isa(), thread_counts::capped(4)});
    add_groups(*first);
    auto first_sched = make_scheduler(*first);
    train(*first, *first_sched, 0, 4);
    const OptimizerStateDict saved = decode_checkpoint(encode_checkpoint(state_dict(*first)));
    const SchedulerState saved_sched = first_sched->state_dict();

    auto second = make_optimizer(name, {best_isa(), thread_counts::capped(2)});
    add_groups(*second);
    auto second_sched = make_scheduler(*second);
    load_state_dict(*second, saved);
    second_sched->load_state_dict(saved_sched);
    train(*second, *second_sched, 4, 9);
    CHECK(encode_checkpoint(state_dict(*second)) == encode_checkpoint(state_dict(*straight)));
  }
}
