// Checkpoints of groups with 16-bit and 8-bit storage (format version 3,
// docs/checkpoint_format.md):
//   - resume through a file is bit-exact for every parameter, gradient and state dtype, with and
//     without master weights, for SGD with momentum, Adam, AdamW and Lion;
//   - the file holds what the group stores: a q8 state takes about 2 bytes per parameter;
//   - a load into another storage converts each array as the scalar quantizer and nearest-even
//     rounding do;
//   - corrupt or inconsistent q8 arrays are refused;
//   - files of versions 1 (q8 state saved dequantized) and 2 (averaging) still load.
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kernels/half.hpp"
#include "kernels/quant8.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/dtype_convert.hpp"
#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

namespace {

struct Case {
  const char* name;
  GroupOptions options;
};

const Case kCases[] = {
    {"sgd", {{"lr", 1e-2}, {"momentum", 0.9}, {"weight_decay", 1e-2}}},
    {"adam", {{"lr", 1e-3}, {"weight_decay", 1e-2}}},
    {"adamw", {{"lr", 1e-3}, {"weight_decay", 0.1}}},
    {"lion", {{"lr", 1e-4}, {"weight_decay", 0.1}}},
};

// One element, a partial q8 block, several blocks with a partial last one.
const std::size_t kSizes[] = {1, 255, 1000};

std::vector<ParamSpec> params() {
  std::vector<ParamSpec> out;
  for (std::size_t n : kSizes) {
    ParamSpec p{"w" + std::to_string(n), {static_cast<std::int64_t>(n)}, {}};
    for (std::size_t k = 0; k < n; ++k)
      p.init.push_back(0.5f * std::sin(0.37f * static_cast<float>(k + n)));
    out.push_back(std::move(p));
  }
  return out;
}

// Gradients whose magnitude varies within every block (1e-3 to 10).
float gradient(int step, std::size_t tensor, std::size_t k) {
  const float scale[] = {1e-3f, 0.1f, 1.0f, 10.0f};
  return scale[(k / 7) % 4] *
         std::cos(0.11f * static_cast<float>(k) + 1.7f * static_cast<float>(step + 3 * tensor));
}

void write_grads(ParamGroup& g, int step) {
  for (std::size_t i = 0; i < g.size(); ++i) {
    const TensorView v = g.grad(i);
    for (std::size_t k = 0; k < g.info(i).numel; ++k) {
      const float x = gradient(step, i, k);
      if (v.dtype == DType::f32)
        v.data[k] = x;
      else
        v.data16[k] = to_bits16(v.dtype, x);
    }
  }
}

// Everything a group holds, bit for bit: the file bytes of its state as stored.
std::vector<std::byte> snapshot(Optimizer& opt) {
  return encode_checkpoint(state_dict(opt, {.as_stored = true}));
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("simdoptim_ckpt_storage_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::unique_ptr<Optimizer> stepped(const Case& c, const StorageOptions& storage, int steps) {
  auto opt = make_optimizer(c.name);
  ParamGroup& g = opt->add_param_group(params(), c.options, storage);
  for (int s = 1; s <= steps; ++s) {
    write_grads(g, s);
    opt->step();
  }
  return opt;
}

// The storages a group may have (StorageOptions::validate decides).
std::vector<StorageOptions> every_storage() {
  std::vector<StorageOptions> out;
  for (DType param : {DType::f32, DType::bf16, DType::f16})
    for (DType grad : {DType::f32, DType::bf16, DType::f16})
      for (DType state : {DType::f32, DType::bf16, DType::q8})
        for (int mode = 0; mode < 3; ++mode) {  // plain, master weights, stochastic rounding
          StorageOptions s{.param = param,
                           .grad = grad,
                           .state = state,
                           .master_weights = mode == 1,
                           .stochastic_rounding = mode == 2,
                           .seed = 11};
          try {
            s.validate();
          } catch (const std::invalid_argument&) {
            continue;
          }
          out.push_back(s);
        }
  return out;
}

std::string describe(const StorageOptions& s) {
  return std::string("param ") + dtype_name(s.param) + (s.master_weights ? "+master" : "") +
         (s.stochastic_rounding ? "+sr" : "") + ", grad " + dtype_name(s.grad) + ", state " +
         dtype_name(s.state);
}

std::uint32_t bits(float x) {
  return std::bit_cast<std::uint32_t>(x);
}

}  // namespace

TEST_CASE("resume through a file is bit-exact for every storage", "[checkpoint][precision]") {
  const std::string path = temp_path("resume.ckpt");
  std::size_t checked = 0;
  for (const Case& c : kCases)
    for (const StorageOptions& storage : every_storage()) {
      INFO(c.name << ", " << describe(storage));
      auto straight = stepped(c, storage, 5);
      auto first = stepped(c, storage, 3);
      save(*first, path);
      const OptimizerStateDict file = read_checkpoint(path);
      // Recorded unless everything is fp32.
      if (storage.is_default())
        REQUIRE(!file.param_groups[0].storage);
      else
        REQUIRE(file.param_groups[0].storage == storage);
      auto resumed = make_optimizer(c.name);
      ParamGroup& g = resumed->add_param_group(params(), c.options, storage);
      load(*resumed, path);
      CHECK(snapshot(*resumed) == snapshot(*first));
      for (int s = 4; s <= 5; ++s) {
        write_grads(g, s);
        resumed->step();
      }
      CHECK(snapshot(*resumed) == snapshot(*straight));
      ++checked;
    }
  // 4 optimizers x (fp32 params: 3 grads x 3 states; each 16-bit param: 3 x 3 x plain, master
  // and, for bf16, stochastic rounding), less what validate refuses.
  CHECK(checked >= 4 * 27);
  std::filesystem::remove(path);
}

TEST_CASE("a q8 checkpoint holds about 2 bytes per parameter of Adam state",
          "[checkpoint][precision]") {
  const std::string path = temp_path("size.ckpt");
  auto file_size = [&](DType state) {
    auto opt = make_optimizer("adamw");
    std::vector<ParamSpec> p{{"w", {256, 256}, {}}, {"b", {4097}, {}}};
    ParamGroup& g = opt->add_param_group(std::move(p), {}, {.state = state});
    write_grads(g, 1);
    opt->step();
    save(*opt, path, {.include_params = false});
    return static_cast<double>(std::filesystem::file_size(path));
  };
  const double n = 256 * 256 + 4097;
  const double q8 = file_size(DType::q8), bf16 = file_size(DType::bf16),
               f32 = file_size(DType::f32);
  INFO("bytes per parameter: q8 " << q8 / n << ", bf16 " << bf16 / n << ", f32 " << f32 / n);
  // exp_avg and exp_avg_sq: a code each and a 4-byte scale per 256, plus headers.
  CHECK(q8 / n > 2.0 * (1 + 4.0 / 256));
  CHECK(q8 / n < 2.1);
  CHECK(bf16 / n > 4.0);
  CHECK(bf16 / n < 4.1);
  CHECK(f32 / n > 8.0);
  CHECK(f32 / n < 8.1);
  std::filesystem::remove(path);
}

// The scalar references of each conversion, element by element.
std::vector<std::uint8_t> quantized(const std::vector<float>& v, bool non_negative,
                                    std::vector<float>& scales) {
  std::vector<std::uint8_t> codes(v.size());
  scales.clear();
  for (std::size_t b = 0; b < v.size(); b += detail::kQuantBlock)
    scales.push_back(detail::quant8_encode_block(
        v.data() + b, codes.data() + b, std::min(detail::kQuantBlock, v.size() - b), non_negative));
  return codes;
}

std::vector<float> dequantized(const StateArray& a) {
  std::vector<float> out(a.codes.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    const float scale = a.scales[k / detail::kQuantBlock];
    out[k] = a.non_negative ? detail::quant8_decode_unsigned(a.codes[k], scale)
                            : detail::quant8_decode_signed(a.codes[k], scale);
  }
  return out;
}

std::vector<float> widened(const StateArray& a) {
  if (a.dtype == DType::q8) return dequantized(a);
  if (a.dtype == DType::f32) return a.data;
  std::vector<float> out;
  for (std::uint16_t b : a.bits16) out.push_back(detail::f32_from_bf16(b));
  return out;
}

TEST_CASE("loading state of another dtype converts it as the scalar references do",
          "[checkpoint][precision]") {
  const Case& c = kCases[2];  // AdamW: a signed and a non-negative state
  for (DType from : {DType::f32, DType::bf16, DType::q8})
    for (DType to : {DType::f32, DType::bf16, DType::q8}) {
      if (from == to) continue;
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      auto source = stepped(c, {.state = from}, 3);
      const OptimizerStateDict saved = state_dict(*source, {.as_stored = true});
      auto target = make_optimizer(c.name);
      target->add_param_group(params(), c.options, {.state = to});
      load_state_dict(*target, decode_checkpoint(encode_checkpoint(saved)));
      const OptimizerStateDict loaded = state_dict(*target, {.as_stored = true});
      std::size_t nonzero = 0;
      for (std::size_t t = 0; t < std::size(kSizes); ++t) {
        const auto& want_arrays = saved.param_groups[0].tensors[t].arrays;
        const auto& got_arrays = loaded.param_groups[0].tensors[t].arrays;
        REQUIRE(got_arrays.size() == 2);
        for (std::size_t a = 0; a < 2; ++a) {
          const StateArray& want = want_arrays[a];
          const StateArray& got = got_arrays[a];
          REQUIRE(got.name == want.name);
          REQUIRE(got.dtype == to);
          const std::vector<float> v = widened(want);
          for (float x : v) nonzero += x != 0.0f;
          if (to == DType::f32) {
            REQUIRE(got.data.size() == v.size());
            for (std::size_t k = 0; k < v.size(); ++k) REQUIRE(bits(got.data[k]) == bits(v[k]));
          } else if (to == DType::bf16) {
            REQUIRE(got.bits16.size() == v.size());
            for (std::size_t k = 0; k < v.size(); ++k)
              REQUIRE(got.bits16[k] == detail::bf16_from_f32(v[k]));
          } else {
            const bool non_negative = want.name == "exp_avg_sq";
            CHECK(got.non_negative == non_negative);
            std::vector<float> scales;
            CHECK(got.codes == quantized(v, non_negative, scales));
            CHECK(got.scales == scales);
          }
        }
      }
      CHECK(nonzero > 1000);
    }
}

TEST_CASE("loading parameters of another dtype converts them", "[checkpoint][precision]") {
  struct Storage {
    DType param;
    bool master;
  };
  const Storage storages[] = {
      {DType::f32, false}, {DType::bf16, false}, {DType::f16, false}, {DType::bf16, true}};
  const Case& c = kCases[1];
  for (const Storage& from : storages)
    for (const Storage& to : storages) {
      INFO(dtype_name(from.param) << (from.master ? "+master" : "") << " -> "
                                  << dtype_name(to.param) << (to.master ? "+master" : ""));
      auto source = stepped(c, {.param = from.param, .master_weights = from.master}, 2);
      auto target = make_optimizer(c.name);
      ParamGroup& g = target->add_param_group(params(), c.options,
                                              {.param = to.param, .master_weights = to.master});
      ParamGroup& s = source->param_groups()[0];
      load_state_dict(
          *target, decode_checkpoint(encode_checkpoint(state_dict(*source, {.as_stored = true}))));
      for (std::size_t i = 0; i < g.size(); ++i) {
        // The source's values: fp32 parameters or master weights, else 16-bit ones widened.
        const TensorView sv = from.master ? s.master_param(i) : s.param(i);
        const TensorView p = g.param(i);
        for (std::size_t k = 0; k < g.info(i).numel; ++k) {
          const float v = sv.dtype == DType::f32 ? sv.data[k] : from_bits16(sv.dtype, sv.data16[k]);
          if (to.param == DType::f32)
            REQUIRE(bits(p.data[k]) == bits(v));
          else
            REQUIRE(p.data16[k] == to_bits16(to.param, v));
          if (to.master) REQUIRE(bits(g.master_param(i).data[k]) == bits(v));
        }
      }
    }
}

TEST_CASE("corrupt or inconsistent q8 arrays are refused", "[checkpoint][precision]") {
  auto opt = stepped(kCases[1], {.param = DType::bf16, .state = DType::q8}, 2);
  const OptimizerStateDict good = state_dict(*opt, {.as_stored = true});
  const std::vector<std::byte> bytes = encode_checkpoint(good);
  REQUIRE(std::to_integer<int>(bytes[8]) == 3);
  auto target = make_optimizer("adam");
  target->add_param_group(params(), kCases[1].options, {.param = DType::bf16, .state = DType::q8});
  const std::vector<std::byte> before = snapshot(*target);

  SECTION("truncated anywhere") {
    for (std::size_t n = 0; n < bytes.size(); n += (n < 256 ? 1 : 97))
      CHECK_THROWS_WITH(decode_checkpoint({bytes.data(), n}), Catch::Contains("truncated"));
  }
  SECTION("any bit flipped") {
    for (std::size_t at = 0; at < bytes.size(); at += 5) {
      auto b = bytes;
      b[at] ^= std::byte{static_cast<std::uint8_t>(1u << (at % 8))};
      CHECK_THROWS_AS(decode_checkpoint(b), CheckpointError);
    }
  }
  auto refused = [&](const OptimizerStateDict& sd, const std::string& message) {
    CHECK_THROWS_WITH(load_state_dict(*target, sd), Catch::Contains(message));
    CHECK(snapshot(*target) == before);
  };
  SECTION("a scale too many or too few") {
    OptimizerStateDict sd = good;
    StateArray& a = sd.param_groups[0].tensors[2].arrays[0];
    REQUIRE(a.dtype == DType::q8);
    a.scales.push_back(1.0f);
    refused(sd, "has 5 scales for 1000 codes, expected 4");
    CHECK_THROWS_WITH(decode_checkpoint(encode_checkpoint(sd)),
                      Catch::Contains("1000 codes need 4 scales, the file has 5"));
    a.scales.resize(3);
    refused(sd, "has 3 scales for 1000 codes, expected 4");
  }
  SECTION("codes of another size") {
    OptimizerStateDict sd = good;
    sd.param_groups[0].tensors[1].arrays[1].codes.push_back(0);
    refused(sd, "state 'exp_avg_sq' has 256 elements, expected 255");
  }
  SECTION("a scale that is not a power of two") {
    OptimizerStateDict sd = good;
    sd.param_groups[0].tensors[2].arrays[0].scales[1] = 3.0f;
    CHECK_THROWS_WITH(decode_checkpoint(encode_checkpoint(sd)),
                      Catch::Contains("is not 0 or a power of two"));
    sd.param_groups[0].tensors[2].arrays[0].scales[1] = -0.5f;
    CHECK_THROWS_WITH(decode_checkpoint(encode_checkpoint(sd)),
                      Catch::Contains("is not 0 or a power of two"));
  }
  SECTION("16-bit parameter bits of another size") {
    OptimizerStateDict sd = good;
    sd.param_groups[0].tensors[0].param16->push_back(0);
    refused(sd, "param has 2 elements, expected 1");
  }
}

// Golden files of the older versions, written by this library before version 3 (the
// "[.generate]" case below rewrites them): version 1 from an AdamW with q8 state (saved
// dequantized, as before version 3) and version 2 from an Adam with an EMA.
namespace {

const std::string kGoldenDir = std::string(SIMDOPTIM_TEST_DATA_DIR) + "/checkpoint/";

std::unique_ptr<Optimizer> golden_q8() {
  return stepped(kCases[2], {.state = DType::q8}, 3);
}

AveragingOptions ema() {
  AveragingOptions a;
  a.mode = AveragingOptions::Mode::ema;
  a.decay = 0.9;
  return a;
}

std::unique_ptr<Optimizer> averaging_adam(int steps) {
  auto opt = make_optimizer("adam");
  opt->set_averaging(ema());
  ParamGroup& g = opt->add_param_group(params(), kCases[1].options);
  for (int s = 1; s <= steps; ++s) {
    write_grads(g, s);
    opt->step();
  }
  return opt;
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("generate the golden files of versions 1 and 2", "[.generate]") {
  // Version 1: the state dict as fp32 values without the storage record, as before version 3.
  OptimizerStateDict q8 = state_dict(*golden_q8());
  q8.param_groups[0].storage.reset();
  write_file(kGoldenDir + "version1_adamw_q8_dequantized.ckpt", encode_checkpoint(q8));
  write_file(kGoldenDir + "version2_adam_ema.ckpt",
             encode_checkpoint(state_dict(*averaging_adam(3))));
}

TEST_CASE("files of versions 1 and 2 still load", "[checkpoint][precision]") {
  SECTION("version 1, q8 state saved dequantized: quantized again to the same codes") {
    const std::string path = kGoldenDir + "version1_adamw_q8_dequantized.ckpt";
    const OptimizerStateDict file = read_checkpoint(path);
    CHECK(!file.param_groups[0].storage);
    CHECK(file.param_groups[0].tensors[0].arrays[0].dtype == DType::f32);
    auto opt = make_optimizer("adamw");
    opt->add_param_group(params(), kCases[2].options, {.state = DType::q8});
    load(*opt, path);
    CHECK(snapshot(*opt) == snapshot(*golden_q8()));
  }
  SECTION("version 2, averaging") {
    const std::string path = kGoldenDir + "version2_adam_ema.ckpt";
    auto opt = make_optimizer("adam");
    opt->set_averaging(ema());
    opt->add_param_group(params(), kCases[1].options);
    load(*opt, path);
    CHECK(snapshot(*opt) == snapshot(*averaging_adam(3)));
    const auto bytes = encode_checkpoint(state_dict(*opt));
    CHECK(std::to_integer<int>(bytes[8]) == 2);  // still written as version 2
  }
}

// Seeds of the checkpoint fuzzer (tests/fuzz/fuzz_checkpoint.cpp) in format version 3: its
// target's tensors, stepped, with each kind of stored array.
TEST_CASE("generate the fuzzer's version 3 seeds", "[.generate]") {
  const std::string dir = std::string(SIMDOPTIM_TEST_DATA_DIR) + "/../fuzz/checkpoint/";
  const std::pair<const char*, StorageOptions> seeds[] = {
      {"seed_v3_bf16_params_q8_state", {.param = DType::bf16, .state = DType::q8}},
      {"seed_v3_master_weights_bf16_state",
       {.param = DType::bf16, .grad = DType::bf16, .state = DType::bf16, .master_weights = true}},
      {"seed_v3_bf16_params_stochastic",
       {.param = DType::bf16, .stochastic_rounding = true, .seed = 5}},
  };
  for (const auto& [name, storage] : seeds) {
    auto opt = make_optimizer("adam");
    std::vector<ParamSpec> first{{"a", {3, 5}, {}}, {"b", {16}, {}}};
    std::vector<ParamSpec> second{{"c", {1}, {}}};
    opt->add_param_group(std::move(first), {}, storage);
    opt->add_param_group(std::move(second), {}, storage);
    for (int s = 1; s <= 2; ++s) {
      for (ParamGroup& g : opt->param_groups()) write_grads(g, s);
      opt->step();
    }
    write_file(dir + name, encode_checkpoint(state_dict(*opt, {.as_stored = true})));
  }
}
