// Gradient clipping over bf16 and fp16 arena gradients: the norm is the fp32 gradients' norm of
// the widened values (the same reduction, so the same bits), the in-place scaling is torch's
// g.mul_(clip_coef) on a 16-bit tensor (the coefficient rounded to the tensor's format, the
// product rounded to nearest-even: golden bits from torch 1.13), clamping is torch's clamp_ on
// a 16-bit tensor (bounds rounded to the format), every build and thread count agree, the fused
// clip+step equals clip then step, and skip_if_nonfinite reads them.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/clip_kernel.hpp"
#include "kernels/half.hpp"
#include "simdoptim/clip_grad.hpp"
#include "simdoptim/dtype_convert.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// AdamW with two groups of random gradients stored as `grad` (one tensor of each group absent),
// sizes around a batch and across reduction chunks. fp32 `grad` holds the 16-bit values of
// `values` widened: the twin of the 16-bit optimizer.
std::unique_ptr<Optimizer> optimizer(RuntimeOptions rt, DType grad, DType values) {
  auto opt = make_optimizer("adamw", rt);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int group = 0; group < 2; ++group) {
    std::vector<ParamSpec> specs;
    for (std::int64_t n : {1, 17, 1009, 70001})
      specs.push_back({"g" + std::to_string(group) + "_" + std::to_string(n), {n}, {}});
    opt->add_param_group(std::move(specs), {}, {.grad = grad});
  }
  for (auto& group : opt->param_groups())
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (i == 1) continue;  // absent
      const TensorView v = group.grad(i);
      for (std::size_t k = 0; k < group.info(i).numel; ++k) {
        const std::uint16_t h = to_bits16(values, normal(rng) * 4.0f);
        if (grad == DType::f32)
          v.data[k] = from_bits16(values, h);
        else
          v.data16[k] = h;
      }
    }
  return opt;
}

// Every gradient of every group, widened, as bits.
std::vector<std::uint32_t> grad_bits(Optimizer& opt) {
  std::vector<std::uint32_t> out;
  for (auto& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) {
      const TensorView v = g.grad(i);
      for (std::size_t k = 0; k < g.info(i).numel; ++k) {
        const float x = v.dtype == DType::f32 ? v.data[k] : from_bits16(v.dtype, v.data16[k]);
        std::uint32_t u;
        std::memcpy(&u, &x, 4);
        out.push_back(u);
      }
    }
  return out;
}

// Every parameter and state value, as bits.
std::vector<std::uint32_t> state_bits(Optimizer& opt) {
  std::vector<std::uint32_t> out;
  auto add = [&](std::span<const float> v) {
    for (float x : v) {
      std::uint32_t u;
      std::memcpy(&u, &x, 4);
      out.push_back(u);
    }
  };
  for (auto& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) {
      add(g.param(i).data);
      if (i == 1) continue;  // absent: never stepped, no state
      for (const std::string& name : g.state_names()) add(g.state(i, name).data);
    }
  return out;
}

bool same(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("clip_grad_norm_ over 16-bit gradients: the widened values' norm, torch's scaling",
          "[clip][precision]") {
  for (DType d : {DType::bf16, DType::f16})
    for (double norm_type : {2.0, kInf, 3.0}) {
      INFO(static_cast<int>(d) << " norm_type " << norm_type);
      auto half = optimizer({Isa::scalar, 1}, d, d);
      auto twin = optimizer({Isa::scalar, 1}, DType::f32, d);
      const std::vector<std::uint32_t> before = grad_bits(*twin);
      const ClipGradNorm want = compute_clip_grad_norm(*twin, 1.0, norm_type);
      REQUIRE(want.clip_coef < 1.0f);
      const double total = clip_grad_norm_(*half, 1.0, norm_type);
      CHECK(same(total, want.total_norm));
      // Each element: widened, times the coefficient rounded to the format, rounded.
      const float coef = from_bits16(d, to_bits16(d, want.clip_coef));
      const std::vector<std::uint32_t> after = grad_bits(*half);
      std::size_t bad = 0;
      for (std::size_t k = 0; k < before.size(); ++k) {
        float x;
        std::memcpy(&x, &before[k], 4);
        const float y = from_bits16(d, to_bits16(d, x * coef));
        std::uint32_t u;
        std::memcpy(&u, &y, 4);
        bad += u != after[k];
      }
      CHECK(bad == 0);
    }
}

// torch 1.13: g = torch.tensor(values).to(dtype); g.mul_(torch.tensor(0.123456789)) (the
// coefficient's float32 bits 0x3dfcd6ea), for g in bf16 and fp16.
TEST_CASE("scaling 16-bit gradients in place gives torch's bits", "[clip][precision]") {
  using detail::Storage;
  struct Golden {
    Storage format;
    std::uint16_t in[7], out[7];
  };
  const Golden golden[] = {
      {Storage::bf16,
       {0x3f80, 0xc049, 0x3c00, 0x4780, 0x0001, 0x7f62, 0x8000},
       {0x3dfd, 0xbec7, 0x3a7d, 0x45fd, 0x0000, 0x7ddf, 0x8000}},
      {Storage::f16,
       {0x3c00, 0xc248, 0x2000, 0x7bff, 0x0000, 0x7c00, 0x8000},
       {0x2fe7, 0xb634, 0x13e7, 0x6fe6, 0x0000, 0x7c00, 0x8000}},
  };
  const float coef = 0.123456789f;
  for (const Golden& g : golden)
    for (Isa isa : supported_isas()) {
      INFO(static_cast<int>(g.format) << " " << isa_name(isa));
      detail::AlignedBuffer buffer(32, 0);  // 64 halves: whole batches of every build
      auto* x = reinterpret_cast<std::uint16_t*>(buffer.data());
      std::fill(x, x + 64, std::uint16_t{0});
      std::copy(std::begin(g.in), std::end(g.in), x);
      detail::ClipScaleArgs args;
      args.x16 = x;
      args.format16 = g.format;
      args.factor = g.format == Storage::bf16 ? detail::f32_from_bf16(detail::bf16_from_f32(coef))
                                              : detail::f32_from_f16(detail::f16_from_f32(coef));
      detail::clip_scale_kernel(isa)(args, 0, 64);
      CHECK(std::equal(std::begin(g.out), std::end(g.out), x));
    }
}

TEST_CASE("clipping 16-bit gradients gives the same bits on every build and thread count",
          "[clip][precision][threads]") {
  struct Op {
    const char* name;
    double (*run)(Optimizer&);
  };
  const Op ops[] = {
      {"norm2", [](Optimizer& o) { return clip_grad_norm_(o, 1.0); }},
      {"norm_inf", [](Optimizer& o) { return clip_grad_norm_(o, 1.0, kInf); }},
      {"value", [](Optimizer& o) { return clip_grad_value_(o, 1.006), 0.0; }},
  };
  for (DType d : {DType::bf16, DType::f16})
    for (const Op& op : ops) {
      auto ref = optimizer({Isa::scalar, 1}, d, d);
      const double ref_total = op.run(*ref);
      const auto ref_grads = grad_bits(*ref);
      for (Isa isa : supported_isas())
        for (int threads : thread_counts::up_to_cap({1, 2, 3})) {
          INFO(static_cast<int>(d)
               << " " << op.name << " " << isa_name(isa) << " " << threads << " threads");
          auto opt = optimizer({isa, threads}, d, d);
          CHECK(same(op.run(*opt), ref_total));
          CHECK((grad_bits(*opt) == ref_grads));
        }
    }
}

// Rounding is monotone, so clamping then rounding equals clamping at the rounded bounds: the
// 16-bit result is the fp32 twin's at the rounded bounds.
TEST_CASE("clip_grad_value_ over 16-bit gradients equals fp32 clamping at the rounded bounds",
          "[clip][precision]") {
  for (DType d : {DType::bf16, DType::f16}) {
    INFO(static_cast<int>(d));
    // 1.006 is a bf16 tie away from 1.0078125 and fp16 0x3c06 (1.00586): the bound moves.
    const double clip = 1.006;
    const float bound = from_bits16(d, to_bits16(d, static_cast<float>(clip)));
    REQUIRE(bound != static_cast<float>(clip));
    auto half = optimizer({Isa::scalar, 1}, d, d);
    auto twin = optimizer({Isa::scalar, 1}, DType::f32, d);
    clip_grad_value_(*half, clip);
    clip_grad_value_(*twin, bound);
    ParamGroup& g = half->param_groups()[0];
    CHECK(!g.has_grad(1));  // before grad_bits, whose mutable views mark every gradient present
    const std::vector<std::uint32_t> got = grad_bits(*half);
    CHECK((got == grad_bits(*twin)));
    std::size_t at_bound = 0;  // the data reach past the bound, or the check would be vacuous
    for (std::uint32_t u : got) at_bound += u == std::bit_cast<std::uint32_t>(bound);
    CHECK(at_bound > 1000);
    clip_grad_value_(*half, -1.0);  // lo > hi: every value, and so the padding, becomes -1
    CHECK(g.grad(0).data16[0] == to_bits16(d, -1.0f));
    const TensorInfo& t = g.info(0);
    for (std::size_t k = t.offset + t.numel; k < g.info(1).offset; ++k)
      REQUIRE(g.grad16_arena()[k] == 0);
  }
}

// bf16: torch 1.13, g = torch.tensor(bits, dtype=torch.int16).view(torch.bfloat16);
// g.clamp_(min=-c, max=c) (what clip_grad_value_ does), at 16 and 256 elements (its scalar and
// vector paths agree). fp16, which torch 1.13 cannot clamp on the CPU: g.float().clamp_(-c32,
// c32).half() with c32 = float32(c), the same bits since rounding is monotone.
TEST_CASE("clip_grad_value_ over 16-bit gradients gives torch's bits", "[clip][precision]") {
  struct Golden {
    DType dtype;
    std::uint16_t in[16];
    struct {
      double clip;
      std::uint16_t out[16];
    } cases[6];
  };
  const Golden golden[] = {
      {DType::bf16,
       {0x0000, 0x8000, 0x3f80, 0xbf80, 0x3f81, 0xbf81, 0x3f7f, 0x7f80, 0xff80, 0x0001, 0x8001,
        0x3586, 0x3587, 0x4789, 0x478a, 0xc78a},
       {{1.006,
         {0x0000, 0x8000, 0x3f80, 0xbf80, 0x3f81, 0xbf81, 0x3f7f, 0x3f81, 0xbf81, 0x0001, 0x8001,
          0x3586, 0x3587, 0x3f81, 0x3f81, 0xbf81}},
        {0.0,
         {0x0000, 0x8000, 0x0000, 0x8000, 0x0000, 0x8000, 0x0000, 0x0000, 0x8000, 0x0000, 0x8000,
          0x0000, 0x0000, 0x0000, 0x0000, 0x8000}},
        {-1.0,
         {0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80,
          0xbf80, 0xbf80, 0xbf80, 0xbf80, 0xbf80}},
        {1e-6,
         {0x0000, 0x8000, 0x3586, 0xb586, 0x3586, 0xb586, 0x3586, 0x3586, 0xb586, 0x0001, 0x8001,
          0x3586, 0x3586, 0x3586, 0x3586, 0xb586}},
        {70000.0,
         {0x0000, 0x8000, 0x3f80, 0xbf80, 0x3f81, 0xbf81, 0x3f7f, 0x4789, 0xc789, 0x0001, 0x8001,
          0x3586, 0x3587, 0x4789, 0x4789, 0xc789}},
        // Rounded to float32 first (a bf16 tie), then to bf16 (down to 1.0), as torch.
        {1.0 + 0x1p-8 + 0x1p-40,
         {0x0000, 0x8000, 0x3f80, 0xbf80, 0x3f80, 0xbf80, 0x3f7f, 0x3f80, 0xbf80, 0x0001, 0x8001,
          0x3586, 0x3587, 0x3f80, 0x3f80, 0xbf80}}}},
      {DType::f16,
       {0x0000, 0x8000, 0x3c00, 0xbc00, 0x3c01, 0xbc01, 0x3bff, 0x7c00, 0xfc00, 0x0001, 0x8001,
        0x0011, 0x0010, 0x7bff, 0xfbff, 0x3c02},
       {{1.006,
         {0x0000, 0x8000, 0x3c00, 0xbc00, 0x3c01, 0xbc01, 0x3bff, 0x3c06, 0xbc06, 0x0001, 0x8001,
          0x0011, 0x0010, 0x3c06, 0xbc06, 0x3c02}},
        {0.0,
         {0x0000, 0x8000, 0x0000, 0x8000, 0x0000, 0x8000, 0x0000, 0x0000, 0x8000, 0x0000, 0x8000,
          0x0000, 0x0000, 0x0000, 0x8000, 0x0000}},
        {-1.0,
         {0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00,
          0xbc00, 0xbc00, 0xbc00, 0xbc00, 0xbc00}},
        {1e-6,
         {0x0000, 0x8000, 0x0011, 0x8011, 0x0011, 0x8011, 0x0011, 0x0011, 0x8011, 0x0001, 0x8001,
          0x0011, 0x0010, 0x0011, 0x8011, 0x0011}},
        // The bound overflows fp16 to Inf: nothing changes.
        {70000.0,
         {0x0000, 0x8000, 0x3c00, 0xbc00, 0x3c01, 0xbc01, 0x3bff, 0x7c00, 0xfc00, 0x0001, 0x8001,
          0x0011, 0x0010, 0x7bff, 0xfbff, 0x3c02}},
        {1.0 + 0x1p-8 + 0x1p-40,
         {0x0000, 0x8000, 0x3c00, 0xbc00, 0x3c01, 0xbc01, 0x3bff, 0x3c04, 0xbc04, 0x0001, 0x8001,
          0x0011, 0x0010, 0x3c04, 0xbc04, 0x3c02}}}},
  };
  for (const Golden& g : golden)
    for (const auto& c : g.cases)
      for (Isa isa : supported_isas()) {
        INFO(static_cast<int>(g.dtype) << " clip " << c.clip << " " << isa_name(isa));
        // 16 copies: whole batches of every build.
        auto opt = make_optimizer("sgd", {isa, 1});
        opt->add_param_group({{"w", {256}, {}}}, {}, {.grad = g.dtype});
        const TensorView v = opt->param_groups()[0].grad(0);
        for (std::size_t k = 0; k < 256; ++k) v.data16[k] = g.in[k % 16];
        clip_grad_value_(*opt, c.clip);
        for (std::size_t k = 0; k < 256; ++k) REQUIRE(v.data16[k] == c.out[k % 16]);
      }
}

// torch turns a NaN into 0x7fc0 on its scalar path and 0xffff on its vector path; here a NaN
// keeps its sign and payload (a signalling one is quieted, as every conversion does).
TEST_CASE("clip_grad_value_ keeps 16-bit NaN gradients NaN", "[clip][precision]") {
  struct Nan {
    DType dtype;
    std::uint16_t in[4], out[4];
  };
  const Nan nans[] = {
      {DType::bf16, {0x7fc0, 0xffc0, 0x7f81, 0xffff}, {0x7fc0, 0xffc0, 0x7fc1, 0xffff}},
      {DType::f16, {0x7e00, 0xfe00, 0x7c01, 0xffff}, {0x7e00, 0xfe00, 0x7e01, 0xffff}},
  };
  for (const Nan& n : nans)
    for (Isa isa : supported_isas()) {
      INFO(static_cast<int>(n.dtype) << " " << isa_name(isa));
      auto opt = make_optimizer("sgd", {isa, 1});
      opt->add_param_group({{"w", {64}, {}}}, {}, {.grad = n.dtype});
      const TensorView v = opt->param_groups()[0].grad(0);
      for (std::size_t k = 0; k < 64; ++k) v.data16[k] = k % 8 < 4 ? n.in[k % 4] : 0x4000;
      clip_grad_value_(*opt, 1.0);
      const std::uint16_t one = to_bits16(n.dtype, 1.0f);
      for (std::size_t k = 0; k < 64; ++k) REQUIRE(v.data16[k] == (k % 8 < 4 ? n.out[k % 4] : one));
    }
}

// The fused step reads each 16-bit gradient as the in-place clip stores it.
TEST_CASE("clip_grad_norm_and_step over 16-bit gradients equals clip then step",
          "[clip][precision][threads]") {
  for (DType d : {DType::bf16, DType::f16})
    for (Isa isa : supported_isas())
      for (int threads : thread_counts::up_to_cap({1, 2, 3})) {
        INFO(static_cast<int>(d) << " " << isa_name(isa) << " " << threads << " threads");
        auto fused = optimizer({isa, threads}, d, d);
        auto apart = optimizer({isa, threads}, d, d);
        const auto grads = grad_bits(*fused);
        const double total = clip_grad_norm_and_step(*fused, 1.0);
        CHECK(same(total, clip_grad_norm_(*apart, 1.0)));
        apart->step();
        CHECK((state_bits(*fused) == state_bits(*apart)));
        CHECK((grad_bits(*fused) == grads));  // the fused step leaves the gradients alone
        // A coefficient of 1 (no clipping) reads them unchanged in both.
        auto unclipped = optimizer({isa, threads}, d, d);
        CHECK(same(clip_grad_norm_and_step(*fused, 1e9), clip_grad_norm_(*unclipped, 1e9)));
        CHECK((grad_bits(*unclipped) == grads));
      }
}

TEST_CASE("skip_if_nonfinite reads 16-bit gradients", "[clip][precision][nonfinite]") {
  for (DType d : {DType::bf16, DType::f16})
    for (int threads : thread_counts::up_to_cap({1, 2})) {
      INFO(static_cast<int>(d) << " " << threads << " threads");
      auto opt = optimizer({best_isa(), threads}, d, d);
      opt->set_skip_if_nonfinite(true);
      opt->step();
      CHECK(!opt->last_step_skipped());
      const auto before = state_bits(*opt);
      ParamGroup& g = opt->param_groups()[1];
      const std::uint16_t kept = g.grad(3).data16[70000];
      for (float bad :
           {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        g.grad(3).data16[70000] = to_bits16(d, bad);  // the last element of the last tensor
        opt->step();
        CHECK(opt->last_step_skipped());
        CHECK((state_bits(*opt) == before));
      }
      g.grad(3).data16[70000] = kept;
      opt->step();
      CHECK(!opt->last_step_skipped());
    }
}

// An engine's gradient buffers (StepGrads::external and external16): the check reads them, not
// the arena's gradients, times the scale as the step reads them.
TEST_CASE("skip_if_nonfinite reads an engine's gradient buffers", "[clip][precision][nonfinite]") {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  for (DType d : {DType::bf16, DType::f16})
    for (Isa isa : supported_isas()) {
      INFO(static_cast<int>(d) << " " << isa_name(isa));
      auto opt = optimizer({isa, thread_counts::capped(2)}, d, d);
      // The engine's copies of the gradients, 16-bit and widened (tensor 1 of each group absent).
      std::vector<std::vector<std::uint16_t>> engine16;
      std::vector<std::vector<float>> engine32;
      for (auto& g : opt->param_groups())
        for (std::size_t i = 0; i < g.size(); ++i) {
          const TensorView v = g.grad(i);
          engine16.emplace_back(v.data16.begin(), v.data16.end());
          engine32.emplace_back();
          for (std::uint16_t h : engine16.back()) engine32.back().push_back(from_bits16(d, h));
          v.data16[0] = to_bits16(d, kNaN);  // the arena's: never read by these steps
        }
      std::vector<const std::uint16_t*> ptrs16;
      std::vector<const float*> ptrs32;
      for (std::size_t k = 0; k < engine16.size(); ++k) {
        ptrs16.push_back(k % 4 == 1 ? nullptr : engine16[k].data());
        ptrs32.push_back(k % 4 == 1 ? nullptr : engine32[k].data());
      }
      const StepGrads grads16{.external16 = ptrs16, .external16_dtype = d};
      const StepGrads grads32{.external = ptrs32};
      opt->set_skip_if_nonfinite(true);
      opt->step(grads16);
      CHECK(!opt->last_step_skipped());
      opt->step(grads32);
      CHECK(!opt->last_step_skipped());
      const auto before = state_bits(*opt);
      const std::int64_t steps = opt->param_groups()[1].step_count(3);
      CHECK(steps == 2);
      auto skipped = [&](const StepGrads& grads) {
        opt->step(grads);
        return opt->last_step_skipped() && state_bits(*opt) == before &&
               opt->param_groups()[1].step_count(3) == steps;
      };
      std::uint16_t& last16 = engine16.back().back();  // the last element of the last tensor
      float& last32 = engine32.back().back();
      const std::uint16_t kept16 = last16;
      const float kept32 = last32;
      for (float bad : {kNaN, -std::numeric_limits<float>::infinity()}) {
        last16 = to_bits16(d, bad);
        CHECK(skipped(grads16));
        last32 = bad;
        CHECK(skipped(grads32));
        last16 = kept16;
        last32 = kept32;
      }
      // Read scaled: the largest fp16 value times 2 overflows to Inf.
      if (d == DType::f16) {
        last16 = 0x7bff;
        CHECK(skipped({.scale = 2.0f, .external16 = ptrs16, .external16_dtype = d}));
        last16 = kept16;
      }
      // A finite norm noted over other gradients does not vouch for these.
      last16 = to_bits16(d, kNaN);
      CHECK(std::isfinite(compute_clip_grad_norm(*opt, 1.0, 2.0, false, ptrs32).total_norm));
      CHECK(skipped(grads16));
      last16 = kept16;
      last32 = kNaN;
      std::vector<const float*> others = ptrs32;
      others.back() = engine32[3].data();  // group 0's last tensor: the same numel, finite
      CHECK(std::isfinite(compute_clip_grad_norm(*opt, 1.0, 2.0, false, others).total_norm));
      CHECK(skipped(grads32));
      last32 = kept32;
      opt->step(grads16);
      CHECK(!opt->last_step_skipped());
    }
}
