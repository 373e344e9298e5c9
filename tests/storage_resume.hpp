#pragma once
// The resume check of the storage tests (test_storage_precision, test_state_q8): 3 steps, a
// save through the file format, a load into a new optimizer and 2 more steps must equal 5 steps
// without the checkpoint, bit for bit (snapshot: every value the group holds, as bits).
#include <catch2/catch.hpp>
#include <string>

#include "simdoptim/simdoptim.hpp"

namespace storage_resume {

using namespace simdoptim;

// add_group(optimizer) adds the group under test; write_grads(group, step) writes a step's
// gradients.
template <class AddGroup, class WriteGrads, class Snapshot>
void check_resume(const std::string& name, AddGroup add_group, WriteGrads write_grads,
                  Snapshot snapshot) {
  auto straight = make_optimizer(name);
  auto first = make_optimizer(name);
  auto resumed = make_optimizer(name);
  ParamGroup& gs = add_group(*straight);
  ParamGroup& g1 = add_group(*first);
  ParamGroup& g2 = add_group(*resumed);
  for (int step = 1; step <= 5; ++step) {
    write_grads(gs, step);
    straight->step();
  }
  for (int step = 1; step <= 3; ++step) {
    write_grads(g1, step);
    first->step();
  }
  load_state_dict(*resumed, decode_checkpoint(encode_checkpoint(state_dict(*first))));
  CHECK(snapshot(g2) == snapshot(g1));
  for (int step = 4; step <= 5; ++step) {
    write_grads(g2, step);
    resumed->step();
  }
  CHECK(snapshot(g2) == snapshot(gs));
}

}  // namespace storage_resume
