// The second process of test_checkpoint_resume. Usage:
//   checkpoint_resume_helper <optimizer> <isa> <threads> first  <k>    <ckpt_prefix>
//   checkpoint_resume_helper <optimizer> <isa> <threads> resume <k> <n> <ckpt_prefix> <out>
// `first` trains steps [0, k) and saves the optimizer and scheduler checkpoints; `resume` builds
// a fresh optimizer and scheduler, loads them, trains steps [k, n) and saves the final state to
// <out>.opt and <out>.sched. Exit code 0 on success, 1 with a message on any error.
#include <cstdio>
#include <exception>
#include <string>

#include "checkpoint_recipe.hpp"
#include "simdoptim/checkpoint.hpp"

int main(int argc, char** argv) {
  using namespace checkpoint_recipe;
  try {
    if (argc < 7) throw std::invalid_argument("usage: see checkpoint_resume_helper.cpp");
    const std::string name = argv[1];
    const RuntimeOptions rt{parse_isa(argv[2]), std::stoi(argv[3])};
    const std::string mode = argv[4];
    const std::int64_t k = std::stoll(argv[5]);
    auto opt = make_optimizer(name, rt);
    add_groups(*opt);
    auto sched = make_scheduler(*opt);
    if (mode == "first") {
      train(*opt, *sched, 0, k);
      save(*opt, std::string(argv[6]) + ".opt");
      save(*sched, std::string(argv[6]) + ".sched");
    } else if (mode == "resume" && argc == 9) {
      const std::int64_t n = std::stoll(argv[6]);
      load(*opt, std::string(argv[7]) + ".opt");
      load(*sched, std::string(argv[7]) + ".sched");
      train(*opt, *sched, k, n);
      save(*opt, std::string(argv[8]) + ".opt");
      save(*sched, std::string(argv[8]) + ".sched");
    } else {
      throw std::invalid_argument("bad mode or argument count");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_resume_helper: %s\n", e.what());
    return 1;
  }
}
