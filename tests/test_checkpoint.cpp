// Checkpoints: CRC-32C, state_dict round trips, the file format, and every way a load must fail
// while leaving the optimizer exactly as it was.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/crc32c.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/lr_scheduler.hpp"
#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

namespace {

std::vector<ParamSpec> specs(const std::vector<std::pair<std::string, Shape>>& shapes) {
  std::vector<ParamSpec> out;
  float v = 0.25f;
  for (const auto& [name, shape] : shapes) {
    ParamSpec s{name, shape, {}};
    s.init.resize(numel_of(shape));
    for (float& x : s.init) x = (v = v * 1.37f - static_cast<float>(static_cast<int>(v * 1.37f)));
    out.push_back(std::move(s));
  }
  return out;
}

// Adam with two groups (sizes around the 16-float alignment), stepped `steps` times; "skipped"
// never has a gradient, so it has no state.
std::unique_ptr<Adam> make_adam(int steps, double lr = 1e-2) {
  auto opt = std::make_unique<Adam>(AdamOptions{.lr = lr, .amsgrad = true}, RuntimeOptions{});
  opt->add_param_group(specs({{"a", {3, 5}}, {"b", {16}}, {"skipped", {17}}, {"c", {1}}}));
  opt->add_param_group(specs({{"d", {33}}, {"e", {}}}), {{"lr", lr / 2}, {"initial_lr", lr}});
  for (int s = 0; s < steps; ++s) {
    opt->zero_grad();
    for (auto& group : opt->param_groups())
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (group.info(i).name == "skipped") continue;
        auto g = group.grad(i).data;
        for (std::size_t j = 0; j < g.size(); ++j) g[j] = 0.1f * static_cast<float>(j + 1 + s);
      }
    opt->step();
  }
  return opt;
}

std::vector<std::byte> bytes_of(Optimizer& opt) {
  return encode_checkpoint(state_dict(opt));
}

// Recomputes the header and section CRCs after a deliberate edit.
void fix_crcs(std::vector<std::byte>& b) {
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = std::byte(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  auto get = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t(std::to_integer<std::uint8_t>(b[at + i])) << (8 * i);
    return v;
  };
  put32(16, detail::crc32c(0, b.data(), 16));
  for (std::size_t at = 20; at < b.size();) {
    const std::size_t len = get(at + 4, 8);
    put32(at + 12 + len, detail::crc32c(0, b.data() + at, 12 + len));
    at += 16 + len;
  }
}

// Offset of the first occurrence of `text` in `b`.
std::size_t find_text(const std::vector<std::byte>& b, const std::string& text) {
  for (std::size_t i = 0; i + text.size() <= b.size(); ++i)
    if (std::memcmp(b.data() + i, text.data(), text.size()) == 0) return i;
  FAIL("text not found: " << text);
  return 0;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("simdoptim_ckpt_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

}  // namespace

TEST_CASE("CRC-32C matches RFC 3720's test vectors", "[checkpoint][crc]") {
  std::vector<unsigned char> zeros(32, 0), ones(32, 0xFF), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<unsigned char>(i);
    dec[i] = static_cast<unsigned char>(31 - i);
  }
  // An iSCSI read command PDU (RFC 3720, B.4).
  const unsigned char pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0,    0, 0,    0, 0, 0,    0, 0, 0, 0,
                                 0x14, 0,    0, 0, 0, 0, 0x04, 0, 0,    0, 0, 0x14, 0, 0, 0, 0x18,
                                 0x28, 0,    0, 0, 0, 0, 0,    0, 0x02, 0, 0, 0,    0, 0, 0, 0};
  const std::string check = "123456789";
  for (auto fn : {detail::crc32c, detail::crc32c_table}) {
    CHECK(fn(0, zeros.data(), 32) == 0x8A9136AAu);
    CHECK(fn(0, ones.data(), 32) == 0x62A8AB43u);
    CHECK(fn(0, inc.data(), 32) == 0x46DD794Eu);
    CHECK(fn(0, dec.data(), 32) == 0x113FDB5Cu);
    CHECK(fn(0, pdu, 48) == 0xD9963A56u);
    CHECK(fn(0, check.data(), check.size()) == 0xE3069283u);
    CHECK(fn(0, nullptr, 0) == 0u);
    // Continuation at every split point equals one pass.
    for (std::size_t split = 0; split <= 48; ++split)
      CHECK(fn(fn(0, pdu, split), pdu + split, 48 - split) == 0xD9963A56u);
  }
  std::vector<unsigned char> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>(i * 131 + 7);
  for (std::size_t n = 0; n + 3 <= big.size(); n += 37)
    CHECK(detail::crc32c(0, big.data() + 3, n) == detail::crc32c_table(0, big.data() + 3, n));
}

TEST_CASE("state_dict has torch's content and round-trips through the file format",
          "[checkpoint]") {
  auto opt = make_adam(3);
  const OptimizerStateDict sd = state_dict(*opt);
  CHECK(sd.optimizer == "adam");
  REQUIRE(sd.param_groups.size() == 2);
  CHECK(sd.param_groups[1].options.get("lr") == 5e-3);
  CHECK(sd.param_groups[1].options.get("initial_lr") == 1e-2);
  const TensorStateDict& a = sd.param_groups[0].tensors[0];
  CHECK(a.name == "a");
  CHECK(a.shape == Shape{3, 5});
  CHECK(a.step == 3);
  CHECK(a.initialized);
  REQUIRE(a.arrays.size() == 3);  // exp_avg, exp_avg_sq, max_exp_avg_sq
  CHECK(a.arrays[0].data.size() == 15);
  REQUIRE(a.param.has_value());
  const TensorStateDict& skipped = sd.param_groups[0].tensors[2];
  CHECK(skipped.step == 0);
  CHECK(!skipped.initialized);
  CHECK(skipped.arrays.empty());
  CHECK(sd.param_groups[1].tensors[1].shape.empty());  // 0-d tensor

  CHECK(decode_checkpoint(encode_checkpoint(sd)) == sd);
  CHECK(!state_dict(*opt, {.include_params = false}).param_groups[0].tensors[0].param);
  const auto no_params = state_dict(*opt, {.include_params = false});
  CHECK(decode_checkpoint(encode_checkpoint(no_params)) == no_params);

  // Into a fresh optimizer, then both continue identically.
  auto fresh = make_adam(0);
  load_state_dict(*fresh, sd);
  CHECK(bytes_of(*fresh) == bytes_of(*opt));
}

TEST_CASE("save and load a file atomically", "[checkpoint]") {
  auto opt = make_adam(2);
  const std::string path = temp_path("adam.ckpt");
  save(*opt, path);
  save(*opt, path);  // replaces it
  auto fresh = make_adam(0);
  const LoadReport report = load(*fresh, path);
  CHECK(report.missing.empty());
  CHECK(report.unexpected.empty());
  CHECK(bytes_of(*fresh) == bytes_of(*opt));
  // Nothing but the checkpoint is left in the folder.
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    CHECK(entry.path().string().find(std::filesystem::path(path).filename().string() + ".tmp") ==
          std::string::npos);
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(save(*opt, "/nonexistent_simdoptim_dir/x.ckpt"),
                    Catch::Contains("cannot create a temporary file"));
  CHECK_THROWS_AS(load(*fresh, path), CheckpointError);  // gone
}

TEST_CASE("a corrupted or mismatched checkpoint is refused and changes nothing", "[checkpoint]") {
  const auto good = bytes_of(*make_adam(2));
  auto target = make_adam(1, 3e-3);
  const auto before = bytes_of(*target);
  auto refused = [&](const std::vector<std::byte>& b, const std::string& message) {
    INFO("expected: " << message);
    try {
      load_state_dict(*target, decode_checkpoint(b));
      FAIL("loaded");
    } catch (const CheckpointError& e) {
      CHECK_THAT(e.what(), Catch::Contains(message));
    }
    CHECK(bytes_of(*target) == before);
  };

  SECTION("truncated anywhere") {
    for (std::size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 13))
      refused({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)}, "truncated");
  }
  SECTION("any bit flipped") {
    for (std::size_t at = 0; at < good.size(); at += 7) {
      auto b = good;
      b[at] ^= std::byte{static_cast<std::uint8_t>(1u << (at % 8))};
      INFO("byte " << at);
      try {
        decode_checkpoint(b);
        FAIL("decoded");
      } catch (const CheckpointError& e) {
        const std::string m = e.what();
        CHECK((m.find("CRC") != std::string::npos || m.find("magic") != std::string::npos ||
               m.find("truncated") != std::string::npos));
      }
    }
  }
  SECTION("trailing garbage") {
    auto b = good;
    b.push_back(std::byte{0});
    refused(b, "unexpected bytes after the END section");
  }
  SECTION("a newer format version") {
    auto b = good;
    b[8] = std::byte{4};
    fix_crcs(b);
    refused(b, "format version 4 is newer than this library reads (3)");
  }
  SECTION("another byte order") {
    auto b = good;
    b[12] = std::byte{2};
    fix_crcs(b);
    refused(b, "byte order 2 is not supported");
  }
  SECTION("an unknown dtype") {
    auto b = good;
    b[find_text(b, "skipped") + 7] = std::byte{9};  // the dtype byte follows the name
    fix_crcs(b);
    refused(b, "unknown dtype code 9");
  }
  SECTION("another optimizer type") {
    auto sgd = std::make_unique<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9}, RuntimeOptions{});
    sgd->add_param_group(specs({{"a", {3, 5}}}));
    auto sd = decode_checkpoint(good);
    CHECK_THROWS_WITH(
        load_state_dict(*sgd, sd),
        Catch::Contains("the state is for optimizer 'adam', this optimizer is 'sgd'"));
  }
  auto sd = decode_checkpoint(good);
  auto refused_sd = [&](const OptimizerStateDict& s, const std::string& message) {
    refused(encode_checkpoint(s), message);
  };
  SECTION("mismatched names, shapes, counts, sizes and options") {
    auto s = sd;
    s.param_groups[0].tensors[1].name = "bb";
    refused_sd(s, "group 0 tensor 1 is 'bb' in the state, 'b' in the optimizer");
    s = sd;
    s.param_groups[0].tensors[0].shape = {5, 3};
    refused_sd(s, "tensor 'a': shape [5, 3] in the state, [3, 5] in the optimizer");
    s = sd;
    s.param_groups.pop_back();
    refused_sd(s, "the state has 1 param groups, the optimizer 2");
    s = sd;
    s.param_groups[1].tensors.pop_back();
    refused_sd(s, "group 1 has 1 tensors in the state, 2 in the optimizer");
    s = sd;
    s.param_groups[0].tensors[3].arrays[1].data.push_back(0.0f);
    refused_sd(s, "tensor 'c': state 'exp_avg_sq' has 2 elements, expected 1");
    s = sd;
    s.param_groups[1].options.set("lr", -1.0);
    refused_sd(s, "group 1: ");
    s = sd;
    s.param_groups[1].options.set("momentum", 0.9);
    refused_sd(s, "unknown option 'momentum' for optimizer 'adam'");
    s = sd;
    s.param_groups[0].options.erase("eps");
    refused_sd(s, "option 'eps' is missing");
    s = sd;
    s.param_groups[0].tensors[0].scalars.push_back({"eta", 1.0});
    refused_sd(s, "scalar state {eta} in the state, the optimizer keeps {}");
    s = sd;
    s.param_groups[0].tensors[2].arrays = s.param_groups[0].tensors[0].arrays;
    s.param_groups[0].tensors[2].shape = {3, 5};
    s.param_groups[0].tensors[2].param.reset();
    refused_sd(s, "tensor 'skipped': shape [3, 5]");
  }
  SECTION("a file that does not exist or is not a checkpoint") {
    CHECK_THROWS_WITH(load(*target, temp_path("missing.ckpt")), Catch::Contains("cannot open"));
    auto sched_bytes = encode_scheduler_checkpoint(SchedulerState{"StepLR", {}, {}});
    refused(sched_bytes, "this is scheduler checkpoint, not an optimizer checkpoint");
    std::vector<std::byte> text(40, std::byte{'x'});
    refused(text, "not a simdoptim checkpoint");
  }
}

TEST_CASE("non-strict load matches tensors by name and reports the rest", "[checkpoint]") {
  auto source = make_adam(2);
  auto sd = state_dict(*source);
  auto target = std::make_unique<Adam>(AdamOptions{.lr = 1e-2}, RuntimeOptions{});
  // "d" moved to the first group, "a" is gone, "new" is new.
  target->add_param_group(specs({{"d", {33}}, {"new", {4}}, {"b", {16}}}));
  target->add_param_group(specs({{"c", {1}}}), {{"lr", 1.0}});
  CHECK_THROWS_AS(load_state_dict(*target, sd), CheckpointError);  // strict
  const LoadReport report = load_state_dict(*target, sd, {.strict = false});
  CHECK(report.missing == std::vector<std::string>{"new"});
  CHECK(report.unexpected == std::vector<std::string>{"a", "skipped", "e"});
  CHECK(target->param_groups()[1].lr() == 5e-3);  // group options restored by index
  const auto got = state_dict(*target);
  CHECK(got.param_groups[0].tensors[0].arrays == sd.param_groups[1].tensors[0].arrays);
  CHECK(got.param_groups[0].tensors[0].param == sd.param_groups[1].tensors[0].param);
  CHECK(got.param_groups[0].tensors[0].step == 2);
  CHECK(got.param_groups[0].tensors[1].step == 0);
  CHECK(got.param_groups[1].tensors[0].arrays == sd.param_groups[0].tensors[3].arrays);

  // Without parameters.
  auto again = std::make_unique<Adam>(AdamOptions{.lr = 1e-2}, RuntimeOptions{});
  again->add_param_group(specs({{"b", {16}}}));
  const auto p0 = std::vector<float>(again->param("b").data.begin(), again->param("b").data.end());
  load_state_dict(*again, sd, {.strict = false, .load_params = false});
  CHECK(std::vector<float>(again->param("b").data.begin(), again->param("b").data.end()) == p0);
  CHECK(state_dict(*again).param_groups[0].tensors[0].arrays ==
        sd.param_groups[0].tensors[1].arrays);
}

TEST_CASE("loading an earlier state zeroes state created since", "[checkpoint]") {
  auto early = make_adam(0);
  const auto sd0 = state_dict(*early);
  auto opt = make_adam(3);
  load_state_dict(*opt, sd0);
  CHECK(bytes_of(*opt) == bytes_of(*early));
  // The arrays still exist, zeroed.
  REQUIRE(opt->param_groups()[0].state_names().size() == 3);
  CHECK(opt->param_groups()[0].state_arena("exp_avg")[0] == 0.0f);
  CHECK(early->param_groups()[0].state_names().empty());
  const auto sd = state_dict(*opt);
  CHECK(sd.param_groups[0].tensors[0].step == 0);
  CHECK(!sd.param_groups[0].tensors[0].initialized);
  // Stepping both gives the same result.
  for (Optimizer* o : {static_cast<Optimizer*>(opt.get()), static_cast<Optimizer*>(early.get())}) {
    o->zero_grad();
    for (auto& group : o->param_groups())
      for (std::size_t i = 0; i < group.size(); ++i) group.grad(i).data[0] = 0.5f;
    o->step();
  }
  CHECK(bytes_of(*opt) == bytes_of(*early));
}

TEST_CASE("Adafactor's factored statistics are saved, checked and restored", "[checkpoint]") {
  auto make = [](int steps) {
    auto opt = std::make_unique<Adafactor>(AdafactorOptions{}, RuntimeOptions{});
    opt->add_param_group(specs({{"w", {2, 3, 5}}, {"b", {5}}, {"skipped", {4, 4}}}));
    for (int s = 0; s < steps; ++s) {
      opt->zero_grad();
      auto& group = opt->param_groups()[0];
      for (std::size_t i = 0; i < 2; ++i) {
        auto g = group.grad(i).data;
        for (std::size_t j = 0; j < g.size(); ++j) g[j] = 0.1f * static_cast<float>(j + 1 + s);
      }
      opt->step();
    }
    return opt;
  };
  const auto sd = state_dict(*make(3));
  const auto& w = sd.param_groups[0].tensors[0];
  REQUIRE(w.arrays.size() == 2);
  CHECK(w.arrays[0].name == "row_var");
  CHECK(w.arrays[0].data.size() == 6);   // 2 slices x 3 rows
  CHECK(w.arrays[1].data.size() == 10);  // 2 slices x 5 columns
  CHECK(w.arrays[0].data[0] != 0.0f);
  CHECK(sd.param_groups[0].tensors[1].arrays.at(0).name == "variance");
  CHECK(sd.param_groups[0].tensors[2].arrays.empty());  // never stepped

  // Through the file format, into an optimizer that has not stepped: the same state, and the
  // same next step.
  auto resumed = make(0);
  load_state_dict(*resumed, decode_checkpoint(encode_checkpoint(sd)));
  CHECK(state_dict(*resumed) == sd);
  auto straight = make(4);
  resumed->zero_grad();
  auto& group = resumed->param_groups()[0];
  for (std::size_t i = 0; i < 2; ++i) {
    auto g = group.grad(i).data;
    for (std::size_t j = 0; j < g.size(); ++j) g[j] = 0.1f * static_cast<float>(j + 4);
  }
  resumed->step();
  CHECK(bytes_of(*resumed) == bytes_of(*straight));  // parameters included

  // A side array of the wrong size is refused before anything changes.
  auto bad = sd;
  bad.param_groups[0].tensors[0].arrays[1].data.pop_back();
  const auto before = bytes_of(*resumed);
  CHECK_THROWS_WITH(load_state_dict(*resumed, bad),
                    Catch::Contains("'col_var' has 9 elements, expected 10"));
  CHECK(bytes_of(*resumed) == before);
}

TEST_CASE("Adagrad starts a tensor loaded without state at initial_accumulator_value",
          "[checkpoint]") {
  auto make = [] {
    auto opt = std::make_unique<Adagrad>(AdagradOptions{.initial_accumulator_value = 0.5},
                                         RuntimeOptions{});
    opt->add_param_group(specs({{"a", {3}}, {"b", {5}}}));
    return opt;
  };
  auto stepped = make();
  for (auto& g : stepped->param_groups()[0].grad(0).data) g = 1.0f;
  stepped->step();
  auto sd = state_dict(*stepped);
  REQUIRE(sd.param_groups[0].tensors[1].initialized);  // torch creates every sum up front
  sd.param_groups[0].tensors[1].initialized = false;
  sd.param_groups[0].tensors[1].arrays.clear();

  auto opt = make();
  load_state_dict(*opt, sd);
  opt->zero_grad();
  for (auto& g : opt->param_groups()[0].grad(0).data) g = 1.0f;
  opt->step();  // "b" has no gradient: its sum is created, not updated
  const auto after = state_dict(*opt);
  REQUIRE(after.param_groups[0].tensors[1].initialized);
  for (float x : after.param_groups[0].tensors[1].arrays.at(0).data) CHECK(x == 0.5f);
  CHECK(after.param_groups[0].tensors[0].arrays.at(0).data[0] == 2.5f);  // 0.5 + 1 + 1
}

TEST_CASE("schedulers save and load, refusing another kind or a corrupt file",
          "[checkpoint][scheduler]") {
  auto opt = make_adam(0);
  StepLR sched(*opt, 3, 0.5);
  for (int i = 0; i < 7; ++i) sched.step();
  const std::string path = temp_path("steplr.ckpt");
  save(sched, path);
  auto opt2 = make_adam(0);
  StepLR restored(*opt2, 3, 0.5);
  load(restored, path);
  CHECK(restored.state_dict() == sched.state_dict());
  CHECK(restored.last_epoch() == 7);

  ExponentialLR other(*opt2, 0.9);
  const auto other_before = other.state_dict();
  CHECK_THROWS_WITH(load(other, path),
                    Catch::Contains("the checkpoint is for scheduler 'StepLR', this scheduler is "
                                    "'ExponentialLR'"));
  CHECK(other.state_dict() == other_before);

  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(45);  // inside META's payload
    f.put('\x7f');
  }
  CHECK_THROWS_WITH(load(restored, path), Catch::Contains("CRC-32C mismatch"));
  CHECK_THROWS_WITH(load(*opt2, path), Catch::Contains("not an optimizer checkpoint"));

  // A nested state round-trips.
  SchedulerState nested{"SequentialLR",
                        {{"last_epoch", {3}}, {"_last_lr", {0.1, 0.2}}},
                        {SchedulerState{"LinearLR", {{"x", {}}}, {}}}};
  CHECK(decode_scheduler_checkpoint(encode_scheduler_checkpoint(nested)) == nested);

  ReduceLROnPlateau plateau(*opt2);
  plateau.step(1.0);
  plateau.step(2.0);
  save(plateau, path);
  ReduceLROnPlateau plateau2(*opt2);
  load(plateau2, path);
  CHECK(plateau2.state_dict() == plateau.state_dict());
  std::filesystem::remove(path);
}

TEST_CASE("a torch 1.13 Adam state converted by convert_checkpoint.py resumes like torch",
          "[checkpoint][torch]") {
  // tools/gen_golden_checkpoint.py: torch ran 3 steps ("b" had no gradient on step 2), its
  // state_dict was converted; torch's step 4 is in torch_adam_next.txt.
  const std::string dir = std::string(SIMDOPTIM_TEST_DATA_DIR) + "/checkpoint/";
  Adam opt(AdamOptions{.lr = 1e-2, .weight_decay = 0.01}, RuntimeOptions{});
  opt.add_param_group({{"w", {3, 5}, {}}, {"b", {5}, {}}});
  opt.add_param_group({{"v", {17}, {}}}, {{"lr", 5e-3}});
  load(opt, dir + "torch_adam.ckpt");
  CHECK(opt.param_groups()[0].step_count(0) == 3);
  CHECK(opt.param_groups()[0].step_count(1) == 2);
  CHECK(opt.param_groups()[1].lr() == 5e-3);
  CHECK(opt.param_groups()[0].options().get("beta2") == 0.999);

  std::ifstream next(dir + "torch_adam_next.txt");
  REQUIRE(next);
  std::map<std::string, std::vector<float>> want;
  std::string line;
  auto parse = [](std::istringstream& in) {
    std::vector<float> v;
    std::string word;
    while (in >> word) {
      const auto bits = static_cast<std::uint32_t>(std::stoul(word, nullptr, 16));
      float f;
      std::memcpy(&f, &bits, 4);
      v.push_back(f);
    }
    return v;
  };
  opt.zero_grad();
  while (std::getline(next, line)) {
    std::istringstream in(line);
    std::string kind, name;
    in >> kind >> name;
    const auto values = parse(in);
    if (kind == "grad")
      std::copy(values.begin(), values.end(), opt.grad(name).data.begin());
    else
      want[name] = values;
  }
  opt.step();
  REQUIRE(want.size() == 3);
  for (const auto& [name, values] : want) {
    INFO(name);
    const auto got = opt.param(name).data;
    REQUIRE(got.size() == values.size());
    // torch's Adam and ours differ only in float32 rounding order (see test_torch_sgd_adam).
    for (std::size_t i = 0; i < values.size(); ++i)
      CHECK(got[i] == Approx(values[i]).epsilon(1e-6).margin(1e-7));
  }
}

TEST_CASE("state arrays must be the ones the optimizer declares", "[checkpoint][schema]") {
  const auto sd = state_dict(*make_adam(2));
  auto target = make_adam(1, 3e-3);
  const auto before = bytes_of(*target);
  auto refused = [&](const OptimizerStateDict& s, const std::string& message) {
    INFO("expected: " << message);
    CHECK_THROWS_WITH(load_state_dict(*target, decode_checkpoint(encode_checkpoint(s))),
                      Catch::Contains(message));
    CHECK(bytes_of(*target) == before);
  };
  SECTION("a renamed array") {
    auto s = sd;
    s.param_groups[0].tensors[0].arrays[0].name = "exp_avX";
    refused(s,
            "tensor 'a': unknown state array 'exp_avX' (optimizer 'adam' keeps exp_avg, "
            "exp_avg_sq, max_exp_avg_sq)");
  }
  SECTION("an added array") {
    auto s = sd;
    s.param_groups[1].tensors[1].arrays.push_back({"junk0", DType::f32, {1.0f}});
    refused(s, "tensor 'e': unknown state array 'junk0'");
  }
  SECTION("a dropped array of an initialized tensor") {
    auto s = sd;
    s.param_groups[0].tensors[1].arrays.erase(s.param_groups[0].tensors[1].arrays.begin());
    refused(s, "tensor 'b': state array 'exp_avg' is missing");
    s = sd;
    s.param_groups[0].tensors[1].arrays.pop_back();  // amsgrad is on
    refused(s, "tensor 'b': state array 'max_exp_avg_sq' is missing");
  }
  SECTION("a step count past 2^53") {
    auto s = sd;
    s.param_groups[0].tensors[0].step = std::numeric_limits<std::int64_t>::max();
    refused(s, "tensor 'a': step 9223372036854775807 exceeds 9007199254740992");
  }
  SECTION("an array of an option that is off may be there or not") {
    auto s = sd;
    s.param_groups[0].options.set("amsgrad", 0.0);
    load_state_dict(*target, s);
    s.param_groups[0].tensors[0].arrays.pop_back();
    load_state_dict(*target, s);
  }
}

TEST_CASE("the multi-pass optimizers' arrays are checked too", "[checkpoint][schema]") {
  auto lamb = std::make_unique<Lamb>(LambOptions{}, RuntimeOptions{});
  lamb->add_param_group(specs({{"w", {4, 3}}}));
  for (auto& g : lamb->param_groups()[0].grad(0).data) g = 0.5f;
  lamb->step();
  auto s = state_dict(*lamb);
  s.param_groups[0].tensors[0].arrays.pop_back();
  CHECK_THROWS_WITH(load_state_dict(*lamb, s),
                    Catch::Contains("tensor 'w': state array 'exp_avg_sq' is missing"));

  auto ada = std::make_unique<Adafactor>(AdafactorOptions{}, RuntimeOptions{});
  ada->add_param_group(specs({{"w", {4, 3}}, {"b", {3}}}));
  for (std::size_t i = 0; i < 2; ++i)
    for (auto& g : ada->param_groups()[0].grad(i).data) g = 0.5f;
  ada->step();
  s = state_dict(*ada);
  s.param_groups[0].tensors[0].arrays.pop_back();
  CHECK_THROWS_WITH(load_state_dict(*ada, s),
                    Catch::Contains("tensor 'w': state array 'col_var' is missing"));
  s = state_dict(*ada);
  s.param_groups[0].tensors[1].arrays[0].name = "row_var";
  CHECK_THROWS_WITH(load_state_dict(*ada, s),
                    Catch::Contains("tensor 'b': unknown state array 'row_var'"));
}

TEST_CASE("an option switched on after the last step still gives a loadable state dict",
          "[checkpoint][schema]") {
  auto opt = std::make_unique<RMSprop>(RMSpropOptions{}, RuntimeOptions{});
  opt->add_param_group(specs({{"w", {5}}}));
  for (auto& g : opt->param_groups()[0].grad(0).data) g = 0.5f;
  opt->step();
  opt->param_groups()[0].options().set("centered", 1.0);  // grad_avg does not exist yet
  const auto sd = state_dict(*opt);
  REQUIRE(sd.param_groups[0].tensors[0].arrays.size() == 2);
  CHECK(sd.param_groups[0].tensors[0].arrays[1].name == "grad_avg");
  auto fresh = std::make_unique<RMSprop>(RMSpropOptions{}, RuntimeOptions{});
  fresh->add_param_group(specs({{"w", {5}}}));
  load_state_dict(*fresh, sd);
  CHECK(state_dict(*fresh) == sd);
}

namespace {

// Adam's name and options with a load that runs out of memory reserving group 1's scalars,
// after group 0's new arrays were allocated.
class OutOfMemoryOnLoad final : public Optimizer {
 public:
  OutOfMemoryOnLoad() : Optimizer(AdamOptions{}.to_group_options(), RuntimeOptions{}) {}
  std::string_view name() const noexcept override { return "adam"; }
  void validate(const GroupOptions&) const override {}
  void reserve_tensor_scalars(std::size_t group) override {
    if (group == 1) throw std::bad_alloc();
  }

 protected:
  void step_group(ParamGroup&) override {}
};

}  // namespace

TEST_CASE("a load that runs out of memory changes nothing", "[checkpoint][schema]") {
  const auto sd = state_dict(*make_adam(2));
  OutOfMemoryOnLoad opt;
  opt.add_param_group(specs({{"a", {3, 5}}, {"b", {16}}, {"skipped", {17}}, {"c", {1}}}));
  opt.add_param_group(specs({{"d", {33}}, {"e", {}}}));
  const auto before = state_dict(opt);
  CHECK_THROWS_AS(load_state_dict(opt, sd), std::bad_alloc);
  CHECK(opt.param_groups()[0].state_names().empty());
  CHECK(state_dict(opt) == before);
}

TEST_CASE("loose content is refused: META trailing bytes, a reserved header field",
          "[checkpoint][format]") {
  const auto good = bytes_of(*make_adam(1));
  auto b = good;
  b[14] = std::byte{1};  // the reserved u16 after the file kind
  fix_crcs(b);
  CHECK_THROWS_WITH(decode_checkpoint(b), Catch::Contains("header reserved field is 1, not 0"));

  // One byte more at the end of META's payload, its length and CRC updated.
  b = good;
  const std::size_t meta = 20, length_at = meta + 4;
  std::size_t length = 0;
  for (int i = 0; i < 8; ++i)
    length |= std::size_t(std::to_integer<std::uint8_t>(b[length_at + i])) << (8 * i);
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(meta + 12 + length), std::byte{0});
  b[length_at] = std::byte(static_cast<std::uint8_t>(length + 1));
  REQUIRE(length + 1 < 256);
  fix_crcs(b);
  CHECK_THROWS_WITH(decode_checkpoint(b), Catch::Contains("META: 1 unexpected trailing bytes"));
}

TEST_CASE("a scheduler file must have the scheduler's keys and per-group list lengths",
          "[checkpoint][scheduler]") {
  auto opt = make_adam(0);  // two groups
  StepLR sched(*opt, 3, 0.5);
  sched.step();
  const std::string path = temp_path("steplr_schema.ckpt");
  const auto before = sched.state_dict();
  auto refused = [&](SchedulerState s, const std::string& message) {
    const auto bytes = encode_scheduler_checkpoint(s);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    CHECK_THROWS_WITH(load(sched, path), Catch::Contains(message));
    CHECK(sched.state_dict() == before);
  };
  auto s = before;
  s.set("base_lrs", std::vector<double>{0.1, 0.2, 0.3});
  refused(s, "'base_lrs' has 3 values, expected 2");
  s = before;
  s.set("_last_lr", std::vector<double>{0.1});
  refused(s, "'_last_lr' has 1 values, expected 2");
  s = before;
  s.set("gamma_typo", 0.5);
  refused(s, "unknown key 'gamma_typo'");
  s = before;
  s.values.erase("_step_count");
  refused(s, "key '_step_count' is missing");
  s = before;
  s.set("last_epoch", 1e300);
  refused(s, "out of range");
  std::filesystem::remove(path);
}

TEST_CASE("a save removes the temporaries a killed save to the same path left",
          "[checkpoint][file]") {
  const std::string path = temp_path("stale.ckpt");
  auto touch = [](const std::string& p) { std::ofstream(p) << "partial"; };
  const std::string stale = path + ".tmp.Ab12Xy", live = path + ".tmp.Zz9900",
                    other = temp_path("other.ckpt") + ".tmp.Ab12Xy", unlike = path + ".tmp.keep";
  for (const auto& p : {stale, live, other, unlike}) touch(p);
  // A save in progress holds a lock on its temporary.
  const int held = ::open(live.c_str(), O_RDONLY);
  REQUIRE(held >= 0);
  REQUIRE(::flock(held, LOCK_EX) == 0);
  auto opt = make_adam(1);
  save(*opt, path);
  CHECK(!std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(other));
  CHECK(std::filesystem::exists(unlike));
  ::close(held);
  save(*opt, path);
  CHECK(!std::filesystem::exists(live));
  CHECK(read_checkpoint(path) == state_dict(*opt));
  for (const auto& p : {path, other, unlike}) std::filesystem::remove(p);
}
