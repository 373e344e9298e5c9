// libFuzzer target: the checkpoint reader. Any input must either decode or throw
// CheckpointError, and a decoded state must either load into a small Adam, fp32 or with bf16
// parameters and q8 state (a load converting arrays of another dtype), or throw
// CheckpointError (leaving it unchanged), and a scheduler state must either load into a StepLR
// or throw; never crash, hang or trip a sanitizer. Each input is
// tried as is and with its CRCs recomputed, so that mutations reach the parser behind them.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <vector>

#include "checkpoint/crc32c.hpp"
#include "simdoptim/adam.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/lr_scheduler.hpp"

using namespace simdoptim;

namespace {

std::unique_ptr<Adam> target(const StorageOptions& storage = {}) {
  auto opt = std::make_unique<Adam>(AdamOptions{}, RuntimeOptions{Isa::scalar, 1});
  opt->add_param_group({{"a", {3, 5}, {}}, {"b", {16}, {}}}, {}, storage);
  opt->add_param_group({{"c", {1}, {}}}, {}, storage);
  return opt;
}

// Rewrites the header CRC and every section CRC that fits in the input.
std::vector<std::byte> with_fixed_crcs(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> b(reinterpret_cast<const std::byte*>(data),
                           reinterpret_cast<const std::byte*>(data) + size);
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i)
      b[at + i] = std::byte(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  if (b.size() < 20) return b;
  put32(16, simdoptim::detail::crc32c(0, b.data(), 16));
  for (std::size_t at = 20; at + 16 <= b.size();) {
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < 8; ++i)
      len |= std::uint64_t(std::to_integer<std::uint8_t>(b[at + 4 + i])) << (8 * i);
    if (len > b.size() - at - 16) break;
    put32(at + 12 + len, simdoptim::detail::crc32c(0, b.data() + at, 12 + len));
    at += 16 + len;
  }
  return b;
}

void run(std::span<const std::byte> bytes) {
  try {
    const OptimizerStateDict state = decode_checkpoint(bytes);
    for (const StorageOptions& storage :
         {StorageOptions{}, StorageOptions{.param = DType::bf16, .state = DType::q8}}) {
      auto opt = target(storage);
      for (bool strict : {true, false}) {
        const auto before = encode_checkpoint(state_dict(*opt, {.as_stored = true}));
        try {
          load_state_dict(*opt, state, {.strict = strict});
        } catch (const CheckpointError&) {
          // changed on failure
          if (encode_checkpoint(state_dict(*opt, {.as_stored = true})) != before) __builtin_trap();
        }
      }
    }
  } catch (const CheckpointError&) {
  }
  try {
    // A decoded scheduler state goes into a scheduler of its kind's shape: counts of any size
    // must be refused before a conversion, never cast.
    const SchedulerState state = decode_scheduler_checkpoint(bytes);
    auto opt = target();
    StepLR sched(*opt, 3, 0.5);
    sched.load_state_dict(state);
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run({reinterpret_cast<const std::byte*>(data), size});
  run(with_fixed_crcs(data, size));
  return 0;
}
