// RMSprop, Adam, AdamW (built by make_optimizer from an OptimizerSpec) against torch.optim
// (tests/optim/optim_reference.safetensors, made by make_optim_reference.py): eight steps with a
// different lr each, and the state after the last; gradient clipping against
// torch.nn.utils.clip_grad_norm_; no_decay_bn_bias; the checkpoint round trip continuing bit for
// bit; state names, partial and foreign state.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "config/recipe.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "graph/net.h"
#include "optim/adam.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "optim_reference.h"
#include "train/checkpoint.h"

using namespace cnn;
using namespace cnn::optim_test;
namespace fs = std::filesystem;

namespace {

constexpr int kSteps = 8;
constexpr int64_t kNumel = 12;  // 3 x 4

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string c;
  while (std::getline(ss, c, sep))
    if (!c.empty()) out.push_back(c);
  return out;
}

OptimizerSpec spec_of(const std::string& c) {
  auto kv = parse_kv(ref_meta("optim." + c));
  OptimizerSpec o;
  o.type = choice_named<OptimizerType>(kv.at("type")).value();
  o.lr = 1;  // unused: step(lr) gets each step's lr
  o.weight_decay = kv.count("weight_decay") ? std::stod(kv.at("weight_decay")) : 0.0;
  if (kv.count("alpha")) o.alpha = std::stod(kv.at("alpha"));
  if (kv.count("eps")) o.eps = std::stod(kv.at("eps"));
  if (kv.count("momentum")) o.momentum = std::stod(kv.at("momentum"));
  if (kv.count("centered")) o.centered = kv.at("centered") == "1";
  if (kv.count("beta1")) o.beta1 = std::stod(kv.at("beta1"));
  if (kv.count("beta2")) o.beta2 = std::stod(kv.at("beta2"));
  if (kv.count("amsgrad")) o.amsgrad = kv.at("amsgrad") == "1";
  return o;
}

std::unique_ptr<Param> make_param(bool decay = true, const std::string& kind = "linear") {
  auto p = std::make_unique<Param>();
  p->name = "weight";
  p->value = ref_tensor("sgd.p0");
  p->grad = Tensor({3, 4});
  p->decay = decay;
  p->init_kind = kind;
  return p;
}

void set_grad(Param& p, int step) {
  std::memcpy(p.grad.data(), ref_tensor("optim.grads").data() + step * kNumel, sizeof(float) * kNumel);
}

double lr_of(int step) { return double(ref_tensor("optim.lrs")[step]); }

const Tensor* find_state(const std::vector<NamedTensor>& st, const std::string& name) {
  for (const auto& s : st)
    if (s.name == name) return s.tensor;
  return nullptr;
}

}  // namespace

TEST_CASE("RMSprop, Adam and AdamW match torch.optim step by step", "[optim][optimizers]") {
  set_num_threads(2);
  const auto cases = split(ref_meta("optim_cases"), ',');
  REQUIRE(cases.size() >= 10);
  for (const std::string& c : cases) {
    SECTION(c) {
      const OptimizerSpec spec = spec_of(c);
      auto p = make_param();
      auto opt = make_optimizer(spec, {{"w", p.get()}});
      CHECK(opt->type() == name_of(spec.type));
      CHECK(opt->state().empty());  // no state before the first step
      const Tensor& want = ref_tensor("optim." + c + ".params");
      for (int s = 0; s < kSteps; ++s) {
        set_grad(*p, s);
        opt->step(lr_of(s));
        compare_values(c + " step " + std::to_string(s + 1), p->value.data(), want.data() + s * kNumel, kNumel, 2e-6);
      }
      const auto st = opt->state();
      for (const std::string& kind : split(ref_meta("optim." + c + ".states"), ',')) {
        const Tensor* got = find_state(st, kind + ".w");
        INFO("state '" << kind << ".w'");
        REQUIRE(got != nullptr);
        const Tensor& ref = ref_tensor("optim." + c + "." + kind);
        REQUIRE(got->shape() == ref.shape());
        compare_values(c + " " + kind, got->data(), ref.data(), kNumel, 2e-6);
      }
      if (spec.type != OptimizerType::rmsprop) {
        const Tensor* step = find_state(st, "step");
        REQUIRE(step != nullptr);
        CHECK(step->shape() == Shape{2});
        CHECK((*step)[0] == 0.f);
        CHECK((*step)[1] == float(kSteps));
      }
    }
  }
}

TEST_CASE("amsgrad's running maximum is exercised by the reference gradients", "[optim][optimizers]") {
  // Otherwise the amsgrad cases would not tell amsgrad from plain Adam.
  for (const std::string c : {"adam_amsgrad", "adamw_amsgrad"}) {
    const Tensor& v = ref_tensor("optim." + c + ".exp_avg_sq");
    const Tensor& vmax = ref_tensor("optim." + c + ".max_exp_avg_sq");
    int larger = 0;
    for (int64_t i = 0; i < kNumel; ++i) larger += vmax[i] > v[i] * 1.01f;
    CHECK(larger > 0);
  }
}

TEST_CASE("make_optimizer honours Param::decay and no_decay_bn_bias", "[optim][optimizers]") {
  set_num_threads(1);
  for (const std::string c : {"adam_weight_decay", "adamw", "rmsprop_centered_momentum_wd"}) {
    SECTION(c) {
      OptimizerSpec with = spec_of(c), without = with;
      without.weight_decay = 0;
      with.no_decay_bn_bias = true;
      // Under no_decay_bn_bias: a conv/linear weight decays; a bias, BN weight, BN bias, or a
      // parameter with decay = false does not.
      std::vector<std::unique_ptr<Param>> ps;
      ps.push_back(make_param(true, "linear"));
      ps.push_back(make_param(true, "bias"));
      ps.push_back(make_param(true, "bn_weight"));
      ps.push_back(make_param(true, "bn_bias"));
      ps.push_back(make_param(false, "conv"));
      std::vector<NamedParam> named;
      for (size_t i = 0; i < ps.size(); ++i) named.push_back({"p" + std::to_string(i), ps[i].get()});
      auto opt = make_optimizer(with, named);
      CHECK(opt->decays(0));
      for (size_t i = 1; i < ps.size(); ++i) CHECK_FALSE(opt->decays(i));
      auto ref = make_param();
      auto ref_opt = make_optimizer(without, {{"r", ref.get()}});
      for (int s = 0; s < kSteps; ++s) {
        for (auto& p : ps) set_grad(*p, s);
        set_grad(*ref, s);
        opt->step(lr_of(s));
        ref_opt->step(lr_of(s));
      }
      compare_values(c + " decayed weight", ps[0]->value.data(), ref_tensor("optim." + c + ".params").data() +
                                                                      (kSteps - 1) * kNumel, kNumel, 2e-6);
      for (size_t i = 1; i < ps.size(); ++i) {
        INFO("parameter " << i << " (" << ps[i]->init_kind << ")");
        CHECK(std::memcmp(ps[i]->value.data(), ref->value.data(), sizeof(float) * kNumel) == 0);
      }
      // Without the flag, BN and bias parameters decay like the rest.
      OptimizerSpec plain = spec_of(c);
      auto all = make_optimizer(plain, named);
      for (size_t i = 0; i < ps.size(); ++i) CHECK(all->decays(i) == (i != 4));
    }
  }
}

TEST_CASE("clip_grad_norm matches torch.nn.utils.clip_grad_norm_", "[optim][clip]") {
  set_num_threads(2);
  for (const std::string& c : split(ref_meta("clip_cases"), ',')) {
    SECTION(c) {
      const double max_norm = std::stod(parse_kv(ref_meta(c)).at("max_norm"));
      std::vector<std::unique_ptr<Param>> ps;
      std::vector<NamedParam> named;
      for (int i = 0; i < 3; ++i) {
        auto p = std::make_unique<Param>();
        p->grad = ref_tensor("clip.grad" + std::to_string(i));
        p->value = Tensor(p->grad.shape());
        named.push_back({"p" + std::to_string(i), p.get()});
        ps.push_back(std::move(p));
      }
      const double total = clip_grad_norm(named, max_norm);
      CHECK(total == Approx(ref_tensor(c + ".total_norm")[0]).epsilon(1e-6));
      for (int i = 0; i < 3; ++i) {
        const Tensor& want = ref_tensor(c + ".grad" + std::to_string(i));
        compare_values(c + " grad" + std::to_string(i), ps[size_t(i)]->grad.data(), want.data(), want.numel(), 1e-6);
      }
      // Through an optimizer: plain SGD with lr 1 moves each weight by exactly its clipped gradient.
      for (int i = 0; i < 3; ++i) ps[size_t(i)]->grad = ref_tensor("clip.grad" + std::to_string(i));
      OptimizerSpec spec;
      spec.grad_clip_norm = max_norm;
      auto opt = make_optimizer(spec, named);
      opt->step(1.0);
      CHECK(opt->last_grad_norm() == Approx(total).epsilon(1e-12));
      for (int i = 0; i < 3; ++i) {
        const Tensor& want = ref_tensor(c + ".grad" + std::to_string(i));
        Tensor neg(want.shape());
        for (int64_t j = 0; j < want.numel(); ++j) neg[j] = -want[j];
        compare_values(c + " sgd step on clipped grad" + std::to_string(i), ps[size_t(i)]->value.data(), neg.data(),
                       want.numel(), 1e-6);
      }
    }
  }
  // Clipping off: last_grad_norm() reports -1.
  auto p = std::make_unique<Param>();
  p->value = Tensor({2});
  p->grad = Tensor({2});
  auto opt = make_optimizer(OptimizerSpec{}, {{"p", p.get()}});
  opt->step(0.1);
  CHECK(opt->last_grad_norm() == -1);
}

namespace {

// A tiny net (linear 6 -> 3 with bias, BN-free) whose gradients we set by hand.
ModelSpec tiny_model() {
  return load_model_string("input: [1, 2, 3]\nlayers: [flatten, {linear: {out: 3}, name: fc}]\n", "tiny.yaml");
}

void fake_grads(Net& net, int step) {
  int k = 0;
  for (const auto& p : net.params()) {
    Rng rng(hash_keys(77, uint64_t(step), uint64_t(k++)));
    float* g = p.param->grad.data();
    for (int64_t j = 0; j < p.param->grad.numel(); ++j) g[j] = rng.uniform(-1, 1) * (step % 3 == 2 ? 0.1f : 1.f);
  }
}

fs::path temp_file(const std::string& tag) {
  return fs::temp_directory_path() / ("cnn-test-optim-" + std::to_string(::getpid()) + "-" + tag + ".safetensors");
}

}  // namespace

TEST_CASE("optimizer state survives a checkpoint: resumed runs continue bit for bit", "[optim][checkpoint]") {
  set_num_threads(2);
  struct Case {
    const char* name;
    OptimizerSpec spec;
    std::vector<std::string> kinds;
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, OptimizerType type, auto tweak, std::vector<std::string> kinds) {
    OptimizerSpec s;
    s.type = type;
    s.lr = 0.01;
    tweak(s);
    cases.push_back({name, s, kinds});
  };
  add("sgd", OptimizerType::sgd, [](OptimizerSpec& s) { s.momentum = 0.9, s.nesterov = true; }, {"momentum"});
  add("rmsprop", OptimizerType::rmsprop, [](OptimizerSpec& s) { s.momentum = 0.9, s.centered = true, s.weight_decay = 1e-3; },
      {"square_avg", "grad_avg", "momentum_buffer"});
  add("rmsprop_plain", OptimizerType::rmsprop, [](OptimizerSpec&) {}, {"square_avg"});
  add("adam", OptimizerType::adam, [](OptimizerSpec& s) { s.weight_decay = 1e-3; }, {"exp_avg", "exp_avg_sq"});
  add("adamw_amsgrad", OptimizerType::adamw, [](OptimizerSpec& s) { s.amsgrad = true, s.grad_clip_norm = 0.5; },
      {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
  for (const Case& c : cases) {
    SECTION(c.name) {
      const ModelSpec spec = tiny_model();
      Net a(spec), b(spec);
      a.init(3);
      auto oa = make_optimizer(c.spec, a.params());
      for (int s = 0; s < 4; ++s) {
        fake_grads(a, s);
        oa->step(0.01 * (s + 1));
      }
      const fs::path path = temp_file(c.name);
      CheckpointMeta meta;
      meta.step = 4;
      save_checkpoint(path.string(), a, oa.get(), meta);
      // State names: "optimizer.<kind>.<param>" (+ "optimizer.step" for Adam/AdamW).
      const SafetensorsFile f = read_safetensors(path.string());
      for (const auto& kind : c.kinds)
        for (const auto& p : a.params()) CHECK(f.tensors.count("optimizer." + kind + "." + p.name) == 1);
      CHECK(state_tensors_per_param(c.spec) == int(c.kinds.size()));  // what the memory check counts
      const bool adam = c.spec.type == OptimizerType::adam || c.spec.type == OptimizerType::adamw;
      CHECK(f.tensors.count("optimizer.step") == (adam ? 1u : 0u));

      auto ob = make_optimizer(c.spec, b.params());
      load_checkpoint(path.string(), b, ob.get());
      fs::remove(path);
      for (int s = 4; s < 9; ++s) {
        fake_grads(a, s);
        fake_grads(b, s);
        oa->step(0.01 * (s + 1));
        ob->step(0.01 * (s + 1));
      }
      for (size_t i = 0; i < a.params().size(); ++i) {
        const Tensor& va = a.params()[i].param->value;
        const Tensor& vb = b.params()[i].param->value;
        INFO(c.name << ": " << a.params()[i].name << " after resuming");
        CHECK(std::memcmp(va.data(), vb.data(), sizeof(float) * size_t(va.numel())) == 0);
      }
      const auto sa = oa->state(), sb = ob->state();
      REQUIRE(sa.size() == sb.size());
      for (size_t i = 0; i < sa.size(); ++i) {
        INFO(c.name << ": state " << sa[i].name);
        CHECK(sa[i].name == sb[i].name);
        CHECK(std::memcmp(sa[i].tensor->data(), sb[i].tensor->data(), sizeof(float) * size_t(sa[i].tensor->numel())) ==
              0);
      }
    }
  }
}

TEST_CASE("optimizer state from another optimizer, or partial state, is rejected", "[optim][checkpoint]") {
  set_num_threads(1);
  const ModelSpec spec = tiny_model();
  Net net(spec);
  OptimizerSpec sgd;
  sgd.momentum = 0.9;
  auto o = make_optimizer(sgd, net.params());
  fake_grads(net, 0);
  o->step(0.1);
  const fs::path path = temp_file("foreign");
  save_checkpoint(path.string(), net, o.get(), CheckpointMeta{});
  // An SGD checkpoint's "optimizer.momentum.*" (also the name older checkpoints used) loads
  // into SGD, not into Adam or RMSprop.
  {
    Net n2(spec);
    auto s2 = make_optimizer(sgd, n2.params());
    CHECK_NOTHROW(load_checkpoint(path.string(), n2, s2.get()));
    OptimizerSpec adam;
    adam.type = OptimizerType::adam;
    auto a2 = make_optimizer(adam, n2.params());
    CHECK_THROWS_AS(load_checkpoint(path.string(), n2, a2.get()), RuntimeError);
    CHECK_THROWS_WITH(load_checkpoint(path.string(), n2, a2.get()),
                      Catch::Contains("optimizer state 'momentum.fc.weight' is not kept by adam") &&
                          Catch::Contains(path.string()));
    OptimizerSpec rms;
    rms.type = OptimizerType::rmsprop;
    auto r2 = make_optimizer(rms, n2.params());
    CHECK_THROWS_WITH(load_checkpoint(path.string(), n2, r2.get()), Catch::Contains("not kept by rmsprop"));
    // Weights only: no optimizer given, the state is ignored.
    CHECK_NOTHROW(load_checkpoint(path.string(), n2));
  }
  fs::remove(path);
  // Adam state without its step count (or with a tensor missing) is incomplete.
  {
    OptimizerSpec adam;
    adam.type = OptimizerType::adam;
    auto a = make_optimizer(adam, net.params());
    a->step(0.1);
    auto st = a->state();
    Adam fresh(net.params(), AdamOptions{});
    for (const auto& s : st)
      if (s.name != "step") fresh.load_state(s.name, *s.tensor);
    CHECK_THROWS_WITH(fresh.check_loaded_state(), Catch::Contains("'step' is missing"));
    Adam fresh2(net.params(), AdamOptions{});
    fresh2.load_state("step", *st[0].tensor);
    fresh2.load_state("exp_avg.fc.weight", *st[1].tensor);
    CHECK_THROWS_WITH(fresh2.check_loaded_state(), Catch::Contains("is missing"));
    CHECK_THROWS_WITH(fresh2.load_state("exp_avg.fc.nope", *st[1].tensor), Catch::Contains("'fc.nope'"));
    CHECK_THROWS_WITH(fresh2.load_state("exp_avg.fc.weight", Tensor({2})), Catch::Contains("has shape"));
  }
}

TEST_CASE("Adam's step count is stored exactly beyond float32's 2^24", "[optim][checkpoint]") {
  auto p = std::make_unique<Param>();
  p->value = Tensor({2});
  p->grad = Tensor({2});
  Adam a({{"p", p.get()}}, AdamOptions{});
  Tensor step({2});
  step[0] = 3, step[1] = 5;  // 3 * 2^24 + 5
  a.load_state("step", step);
  CHECK(a.steps() == 3 * 16777216LL + 5);
  a.step(0.1);
  const auto st = a.state();
  REQUIRE(st[0].name == "step");
  CHECK((*st[0].tensor)[0] == 3.f);
  CHECK((*st[0].tensor)[1] == 6.f);
  step[1] = 0.5f;
  CHECK_THROWS_AS(a.load_state("step", step), RuntimeError);
}
