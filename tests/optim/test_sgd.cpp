// Sgd against torch.optim.SGD (tests/optim/optim_reference.safetensors, made by
// make_optim_reference.py): plain, momentum, dampening, Nesterov and weight decay, five steps with
// a different lr each; the momentum buffers ("momentum.<param>"); Param::decay = false; state()/load_state
// round trip.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "optim/sgd.h"
#include "optim_reference.h"

using namespace cnn;
using namespace cnn::optim_test;

namespace {

constexpr int kSteps = 5;
constexpr int64_t kNumel = 12;  // 3 x 4

SgdOptions options_of(const std::string& sgd_case) {
  auto kv = parse_kv(ref_meta("sgd." + sgd_case));
  SgdOptions o;
  o.lr = 1;  // unused: step(lr) gets each step's lr
  o.momentum = std::stod(kv.at("momentum"));
  o.dampening = std::stod(kv.at("dampening"));
  o.nesterov = kv.at("nesterov") == "1";
  o.weight_decay = std::stod(kv.at("weight_decay"));
  return o;
}

std::unique_ptr<Param> make_param(bool decay = true) {
  auto p = std::make_unique<Param>();
  p->name = "weight";
  p->value = ref_tensor("sgd.p0");
  p->grad = Tensor({3, 4});
  p->decay = decay;
  REQUIRE(p->value.shape() == Shape{3, 4});
  return p;
}

void set_grad(Param& p, int step) {
  const Tensor& g = ref_tensor("sgd.grads");
  std::memcpy(p.grad.data(), g.data() + step * kNumel, sizeof(float) * kNumel);
}

double lr_of(int step) { return double(ref_tensor("sgd.lrs")[step]); }

const float* expected_after(const std::string& sgd_case, int step) {
  return ref_tensor("sgd." + sgd_case + ".params").data() + step * kNumel;
}

const Tensor* find_state(const std::vector<NamedTensor>& st, const std::string& name) {
  for (const auto& s : st)
    if (s.name == name) return s.tensor;
  return nullptr;
}

std::string pname(int i) {
  std::string s(1, 'p');
  s += std::to_string(i);
  return s;
}

std::vector<std::string> cases() {
  std::vector<std::string> out;
  std::stringstream ss(ref_meta("sgd_cases"));
  std::string c;
  while (std::getline(ss, c, ','))
    if (!c.empty()) out.push_back(c);
  return out;
}

}  // namespace

TEST_CASE("Sgd matches torch.optim.SGD step by step", "[optim][sgd]") {
  set_num_threads(2);
  const auto all = cases();
  REQUIRE(all.size() >= 5);
  for (const std::string& c : all) {
    SECTION(c) {
      const SgdOptions o = options_of(c);
      auto p = make_param();
      Sgd opt({{"w", p.get()}}, o);
      CHECK(opt.state().empty());  // no state before the first step
      for (int s = 0; s < kSteps; ++s) {
        set_grad(*p, s);
        opt.step(lr_of(s));
        compare_values(c + " step " + std::to_string(s + 1), p->value.data(), expected_after(c, s), kNumel);
      }
      const auto st = opt.state();
      if (o.momentum > 0) {
        REQUIRE(st.size() == 1);
        CHECK(st[0].name == "momentum.w");
        const Tensor& want = ref_tensor("sgd." + c + ".momentum");
        REQUIRE(st[0].tensor->shape() == want.shape());
        compare_values(c + " momentum buffer", st[0].tensor->data(), want.data(), kNumel);
      } else {
        CHECK(st.empty());  // plain SGD keeps no state
      }
    }
  }
}

TEST_CASE("Sgd steps several parameters independently (threaded), honouring Param::decay", "[optim][sgd]") {
  set_num_threads(2);
  // One optimizer with weight decay 1e-2 and momentum 0.9: the decayed parameter follows torch's
  // weight_decay trajectory, the decay=false one follows the trajectory without weight decay.
  SgdOptions o = options_of("weight_decay");
  REQUIRE(o.weight_decay > 0);
  REQUIRE(options_of("momentum").weight_decay == 0);
  std::vector<std::unique_ptr<Param>> ps;
  std::vector<NamedParam> named;
  for (int i = 0; i < 6; ++i) {
    ps.push_back(make_param(/*decay=*/i % 2 == 0));
    named.push_back({pname(i), ps.back().get()});
  }
  Sgd opt(named, o);
  for (int s = 0; s < kSteps; ++s) {
    for (auto& p : ps) set_grad(*p, s);
    opt.step(lr_of(s));
    for (int i = 0; i < 6; ++i) {
      const std::string c = i % 2 == 0 ? "weight_decay" : "momentum";
      std::ostringstream what;
      what << "p" << i << " (" << c << ") step " << s + 1;
      compare_values(what.str(), ps[i]->value.data(), expected_after(c, s), kNumel);
    }
  }
  const auto st = opt.state();
  REQUIRE(st.size() == 6);
  for (int i = 0; i < 6; ++i) {
    const Tensor* m = find_state(st, "momentum." + pname(i));
    REQUIRE(m != nullptr);
    const std::string c = i % 2 == 0 ? "weight_decay" : "momentum";
    compare_values(pname(i) + " momentum", m->data(), ref_tensor("sgd." + c + ".momentum").data(),
                   kNumel);
  }
}

TEST_CASE("Sgd: decay=false parameters get exactly no weight decay", "[optim][sgd]") {
  set_num_threads(1);
  for (double mom : {0.0, 0.9}) {
    CAPTURE(mom);
    SgdOptions with{1, mom, 0, 0.5, false}, without{1, mom, 0, 0, false};
    auto a = make_param(/*decay=*/false), b = make_param(/*decay=*/true), d = make_param(/*decay=*/true);
    Sgd oa({{"w", a.get()}}, with), ob({{"w", b.get()}}, without), od({{"w", d.get()}}, with);
    for (int s = 0; s < kSteps; ++s) {
      set_grad(*a, s), set_grad(*b, s), set_grad(*d, s);
      oa.step(lr_of(s)), ob.step(lr_of(s)), od.step(lr_of(s));
    }
    // Bit-identical to an optimizer without weight decay...
    CHECK(std::memcmp(a->value.data(), b->value.data(), sizeof(float) * kNumel) == 0);
    // ...and different from a decayed parameter under the same options.
    CHECK(std::memcmp(a->value.data(), d->value.data(), sizeof(float) * kNumel) != 0);
  }
}

TEST_CASE("Sgd state()/load_state round trip reproduces the next steps exactly", "[optim][sgd]") {
  set_num_threads(1);
  for (const std::string c : {"momentum", "dampening", "nesterov", "weight_decay"}) {
    SECTION(c) {
      const SgdOptions o = options_of(c);
      auto a = make_param();
      Sgd oa({{"w", a.get()}}, o);
      for (int s = 0; s < 3; ++s) {
        set_grad(*a, s);
        oa.step(lr_of(s));
      }
      // A fresh optimizer on a copy of the parameter, given the saved state (copied, as a
      // checkpoint would), must continue exactly like the original.
      const auto st = oa.state();
      REQUIRE(st.size() == 1);
      const Tensor saved = *st[0].tensor;
      auto b = make_param();
      b->value = a->value;
      Sgd ob({{"w", b.get()}}, o);
      ob.load_state("momentum.w", saved);
      REQUIRE(ob.state().size() == 1);
      for (int s = 3; s < kSteps; ++s) {
        set_grad(*a, s), set_grad(*b, s);
        oa.step(lr_of(s)), ob.step(lr_of(s));
        INFO(c << " step " << s + 1 << " after load_state");
        CHECK(std::memcmp(a->value.data(), b->value.data(), sizeof(float) * kNumel) == 0);
        compare_values(c + " resumed step " + std::to_string(s + 1), b->value.data(), expected_after(c, s), kNumel);
      }
      CHECK(std::memcmp(oa.state()[0].tensor->data(), ob.state()[0].tensor->data(), sizeof(float) * kNumel) == 0);
    }
  }
}

TEST_CASE("Sgd load_state rejects unknown names and mismatched shapes", "[optim][sgd]") {
  auto p = make_param();
  Sgd opt({{"w", p.get()}}, SgdOptions{0.1, 0.9, 0, 0, false});
  CHECK_THROWS_AS(opt.load_state("nope", Tensor({3, 4})), RuntimeError);
  CHECK_THROWS_WITH(opt.load_state("nope", Tensor({3, 4})), Catch::Contains("nope"));
  CHECK_THROWS_WITH(opt.load_state("momentum.nope", Tensor({3, 4})), Catch::Contains("'nope'"));
  CHECK_THROWS_AS(opt.load_state("momentum.w", Tensor({4, 3})), RuntimeError);
  CHECK_THROWS_WITH(opt.load_state("momentum.w", Tensor({4, 3})), Catch::Contains("'momentum.w'"));
  // State of another optimizer (or the pre-prefix name) is rejected.
  CHECK_THROWS_WITH(opt.load_state("exp_avg.w", Tensor({3, 4})), Catch::Contains("not kept by sgd"));
  CHECK_THROWS_AS(opt.load_state("w", Tensor({3, 4})), RuntimeError);
  // Without momentum there is no state to load.
  Sgd plain({{"w", p.get()}}, SgdOptions{0.1, 0, 0, 0, false});
  CHECK_THROWS_AS(plain.load_state("momentum.w", Tensor({3, 4})), RuntimeError);
}
