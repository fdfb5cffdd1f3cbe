// Net built from a ModelSpec written in C++: shapes, whole-net parameter gradients by finite
// differences (residual block, two-branch concat), gradient summing at nodes with several
// consumers, and re-planning when the batch size changes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "../gradcheck.h"
#include "../thread_guard.h"
#include "../layer_builder.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "graph/net.h"
#include "spec_builder.h"

using namespace cnn;
using namespace cnn::test;

namespace {


// stem conv -> [conv -> relu -> conv] + identity -> relu
ModelSpec residual_spec() {
  SpecBuilder b({2, 6, 6});
  int stem = b.add("stem", "conv", {{"out", "3"}, {"k", "3"}, {"pad", "1"}}, {-1});
  int c1 = b.add("block.conv1", "conv", {{"out", "3"}, {"k", "3"}, {"pad", "1"}}, {stem});
  int r1 = b.add("block.relu1", "relu", {}, {c1});
  int c2 = b.add("block.conv2", "conv", {{"out", "3"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}}, {r1});
  int sum = b.add("block.add", "add", {}, {c2, stem});
  b.add("block.relu2", "relu", {}, {sum});
  return b.spec;
}

// Two branches from the input joined by concat, then pooled, flattened and classified.
ModelSpec concat_spec() {
  SpecBuilder b({2, 5, 5});
  int a = b.add("branch_a", "conv", {{"out", "2"}, {"k", "1"}}, {-1});
  int c = b.add("branch_b.conv", "conv", {{"out", "3"}, {"k", "3"}, {"pad", "1"}}, {-1});
  int t = b.add("branch_b.tanh", "tanh", {}, {c});
  int cat = b.add("cat", "concat", {}, {a, t});
  int pool = b.add("pool", "avgpool", {{"k", "2"}, {"ceil", "true"}}, {cat});
  int fl = b.add("flatten", "flatten", {}, {pool});
  b.add("fc", "linear", {{"out", "4"}}, {fl});
  return b.spec;
}

Tensor random_input(const Net& net, int64_t N, uint64_t seed) {
  Shape s = net.spec().input;
  s.insert(s.begin(), N);
  Tensor x(s);
  Rng rng(seed);
  fill_away_from_zero(x, rng);
  return x;
}

// Finite differences on every parameter of the net, loss = sum(out * R).
FdReport gradcheck_net(Net& net, int64_t N, uint64_t seed, int max_checks = 48) {
  Tensor x = random_input(net, N, seed);
  RunContext ctx;
  ctx.train = true;
  Rng run(seed);
  ctx.rng = &run;
  const Tensor& out0 = net.forward(x, ctx);
  Tensor R(out0.shape());
  Rng rr(seed + 1);
  fill_uniform(R, rr);
  net.output_grad() = R;
  net.zero_grad();
  net.backward(ctx);
  std::vector<Tensor> grads;
  for (const auto& p : net.params()) grads.push_back(p.param->grad);
  std::vector<FdProbe> probes;
  for (size_t i = 0; i < net.params().size(); ++i) {
    Param* p = net.params()[i].param;
    probes.push_back({net.params()[i].name, p->value.data(), grads[i].data(), p->value.numel()});
  }
  FdOptions o;
  o.seed = seed;
  o.max_checks = max_checks;
  return check_finite_differences([&]() -> const Tensor& { return net.forward(x, ctx); }, R, probes, o);
}

}  // namespace

TEST_CASE("net: residual block shapes, parameters and gradients", "[graph][net]") {
  Net net(residual_spec());
  CHECK(net.output_shape() == Shape{3, 6, 6});
  REQUIRE(net.params().size() == 5);
  CHECK(net.params()[0].name == "stem.weight");
  CHECK(net.params()[1].name == "stem.bias");
  CHECK(net.params()[4].name == "block.conv2.weight");
  CHECK(net.num_params() == (3 * 2 * 9 + 3) + (3 * 3 * 9 + 3) + 3 * 3 * 9);
  auto rows = net.summary();
  REQUIRE(rows.size() == 6);
  CHECK(rows[4].type == "add");
  CHECK(rows[4].output == Shape{3, 6, 6});
  CHECK(rows[0].macs == 3 * 36 * 2 * 9);
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (int64_t N : {1, 4}) {
      INFO("threads " << threads << ", batch " << N);
      CHECK_GRADS(gradcheck_net(net, N, uint64_t(10 * threads + N), threads == 1 ? 48 : 16));
    }
  }
}

TEST_CASE("net: two-branch concat gradients", "[graph][net]") {
  Net net(concat_spec());
  CHECK(net.output_shape() == Shape{4});
  auto rows = net.summary();
  CHECK(rows[3].output == Shape{5, 5, 5});
  CHECK(rows[4].output == Shape{5, 3, 3});
  CHECK(rows[5].output == Shape{45});
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (int64_t N : {1, 3}) {
      INFO("threads " << threads << ", batch " << N);
      CHECK_GRADS(gradcheck_net(net, N, uint64_t(20 * threads + N), threads == 1 ? 48 : 16));
    }
  }
}

TEST_CASE("net: a node with several consumers gets the summed gradient", "[graph][net]") {
  // single:  conv                       -> d/dw sum(conv(x) * R)
  // twice:   conv -> id1, id2 -> add     -> 2x that
  // same:    conv -> add(conv, conv)     -> 2x (one node listed twice as an input)
  // triple:  conv -> add(conv, id, conv) -> 3x
  const KeyValues conv{{"out", "2"}, {"k", "3"}, {"pad", "1"}};
  SpecBuilder single({1, 4, 4}), twice({1, 4, 4}), same({1, 4, 4}), triple({1, 4, 4});
  single.add("c", "conv", conv, {-1});
  twice.add("c", "conv", conv, {-1});
  twice.add("id1", "identity", {}, {0});
  twice.add("id2", "identity", {}, {0});
  twice.add("sum", "add", {}, {1, 2});
  same.add("c", "conv", conv, {-1});
  same.add("sum", "add", {}, {0, 0});
  triple.add("c", "conv", conv, {-1});
  triple.add("id", "identity", {}, {0});
  triple.add("sum", "add", {}, {0, 1, 0});
  Net n1(single.spec), n2(twice.spec), n3(same.spec), n4(triple.spec);
  const int64_t N = 3;
  Tensor x = random_input(n1, N, 5);
  Tensor R({N, 2, 4, 4});
  Rng rng(6);
  fill_uniform(R, rng);
  auto grads = [&](Net& net) {
    RunContext ctx;
    net.forward(x, ctx);
    net.output_grad() = R;
    net.zero_grad();
    net.backward(ctx);
    std::vector<Tensor> g;
    for (const auto& p : net.params()) g.push_back(p.param->grad);
    return g;
  };
  auto g1 = grads(n1), g2 = grads(n2), g3 = grads(n3), g4 = grads(n4);
  REQUIRE(g1.size() == 2);
  for (auto [g, k] : {std::pair<std::vector<Tensor>*, float>{&g2, 2.f}, {&g3, 2.f}, {&g4, 3.f}}) {
    REQUIRE(g->size() == 2);
    for (size_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < g1[i].numel(); ++j) CHECK((*g)[i][j] == Approx(k * g1[i][j]).epsilon(1e-5).margin(1e-6));
  }
  // Backward twice without zero_grad accumulates; a second backward starts from fresh node gradients.
  RunContext ctx;
  n2.forward(x, ctx);
  n2.output_grad() = R;
  n2.zero_grad();
  n2.backward(ctx);
  n2.backward(ctx);
  for (int64_t j = 0; j < g1[0].numel(); ++j)
    CHECK(n2.params()[0].param->grad[j] == Approx(4 * g1[0][j]).epsilon(1e-5).margin(1e-6));
}

TEST_CASE("net: a batch size change re-plans, results per sample do not depend on the batch", "[graph][net]") {
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (const ModelSpec& spec : {residual_spec(), concat_spec()}) {
      Net net(spec);
      const Shape per = net.output_shape();
      const int64_t per_out = numel_of(per);
      const int64_t total = 7;
      Tensor all = random_input(net, total, 42);
      const int64_t per_in = all.numel() / total;
      // Reference: every sample alone.
      std::vector<float> ref;
      RunContext ctx;
      for (int64_t n = 0; n < total; ++n) {
        Tensor one = random_input(net, 1, 0);
        std::copy(all.data() + n * per_in, all.data() + (n + 1) * per_in, one.data());
        const Tensor& y = net.forward(one, ctx);
        REQUIRE(y.dim(0) == 1);
        ref.insert(ref.end(), y.data(), y.data() + per_out);
      }
      for (int64_t N : {int64_t(7), int64_t(2), int64_t(5), int64_t(1), int64_t(7)}) {
        INFO("threads " << threads << ", batch " << N);
        Tensor x = random_input(net, N, 0);
        std::copy(all.data(), all.data() + N * per_in, x.data());
        const Tensor& y = net.forward(x, ctx);
        Shape want = per;
        want.insert(want.begin(), N);
        REQUIRE(y.shape() == want);
        int bad = 0;
        for (int64_t i = 0; i < N * per_out; ++i)
          if (std::abs(y[i] - ref[size_t(i)]) > 1e-5f * (1 + std::abs(ref[size_t(i)]))) ++bad;
        CHECK(bad == 0);
        // Backward works at the new size.
        net.output_grad().fill(1.f);
        net.zero_grad();
        net.backward(ctx);
        CHECK(net.first_nonfinite_gradient().empty());
        CHECK(net.first_nonfinite_activation().empty());
      }
      // Gradients are still right after all the re-planning.
      CHECK_GRADS(gradcheck_net(net, 3, 77, 12));
    }
  }
}

TEST_CASE("net: construction and input errors", "[graph][net]") {
  SpecBuilder bad({3, 8, 8});
  bad.add("a", "conv", {{"out", "4"}, {"k", "3"}}, {-1});
  bad.add("b", "conv", {{"out", "5"}, {"k", "1"}}, {-1});
  bad.add("sum", "add", {}, {0, 1});
  try {
    Net net(bad.spec);
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("sum") != std::string::npos);
  }
  SpecBuilder lin({3, 8, 8});
  lin.add("fc", "linear", {{"out", "2"}}, {-1});
  CHECK_THROWS_AS(Net(lin.spec), ConfigError);
  ModelSpec empty;
  empty.input = {1, 2, 2};
  CHECK_THROWS_AS(Net(empty), ConfigError);

  Net net(residual_spec());
  RunContext ctx;
  Tensor wrong({2, 3, 6, 6});
  CHECK_THROWS_AS(net.forward(wrong, ctx), RuntimeError);
  Tensor flat({2, 72});
  CHECK_THROWS_AS(net.forward(flat, ctx), RuntimeError);
}

TEST_CASE("net: init is deterministic per seed", "[graph][net]") {
  Net a(concat_spec()), b(concat_spec());
  auto values = [](const Net& n) {
    std::vector<float> v;
    for (const auto& p : n.params()) v.insert(v.end(), p.param->value.data(), p.param->value.data() + p.param->value.numel());
    return v;
  };
  CHECK(values(a) == values(b));  // both seeded 0 at construction
  a.init(123);
  b.init(123);
  CHECK(values(a) == values(b));
  b.init(124);
  CHECK(values(a) != values(b));
}

namespace {

// Trainable conv1 and fc around frozen layers of every kind that has parameters: BN, direct
// convs (stride 1 and 2), depthwise, grouped (im2col), transposed conv, linear.
ModelSpec frozen_middle_spec() {
  SpecBuilder b({3, 10, 10});
  int x = b.add("conv1", "conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}}, {-1});
  x = b.add("bn1", "bn", {}, {x});
  x = b.add("relu", "relu", {}, {x});
  x = b.add("conv2", "conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}}, {x});
  x = b.add("conv3", "conv", {{"out", "8"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}}, {x});
  x = b.add("dw", "conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}, {"groups", "8"}}, {x});
  x = b.add("grouped", "conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}, {"groups", "2"}}, {x});
  x = b.add("up", "conv_transpose", {{"out", "4"}, {"k", "2"}, {"stride", "2"}}, {x});
  x = b.add("flatten", "flatten", {}, {x});
  x = b.add("lin", "linear", {{"out", "6"}}, {x});
  b.add("fc", "linear", {{"out", "3"}}, {x});
  return b.spec;
}

// One forward and backward of `net` on a fixed batch; frozen gradients are set to 7 before.
void fixed_step(Net& net) {
  Tensor x({2, 3, 10, 10});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 37) % 101) / 101.f - 0.5f;
  Rng rng(1);
  RunContext ctx{true, &rng};
  net.forward(x, ctx);
  for (int64_t i = 0; i < net.output_grad().numel(); ++i) net.output_grad()[i] = float(i % 5) - 2.f;
  net.zero_grad();
  for (size_t i = 0; i < net.params().size(); ++i)
    if (net.is_frozen(i)) net.params()[i].param->grad.fill(7.f);
  net.backward(ctx);
}

}  // namespace

TEST_CASE("net: frozen layers between trainable ones compute no weight gradient, pass the input gradient",
          "[graph][net][finetune]") {
  for (bool freeze_bn : {false, true}) {
    INFO("freeze_bn " << freeze_bn);
    const std::set<std::string> eval_nodes = freeze_bn ? std::set<std::string>{"bn1"} : std::set<std::string>{};
    Net all(frozen_middle_spec()), part(frozen_middle_spec());
    all.init(3), part.init(3);
    all.set_frozen(std::vector<char>(all.params().size(), 0), eval_nodes);
    std::vector<char> frozen(part.params().size(), 0);
    for (size_t i = 0; i < frozen.size(); ++i) {
      const std::string& name = part.params()[i].name;
      frozen[i] = name.rfind("conv1.", 0) != 0 && name.rfind("fc.", 0) != 0;
    }
    part.set_frozen(frozen, eval_nodes);
    fixed_step(all);
    fixed_step(part);
    for (size_t i = 0; i < frozen.size(); ++i) {
      INFO(part.params()[i].name);
      const Tensor& g = part.params()[i].param->grad;
      const Tensor& want = all.params()[i].param->grad;
      REQUIRE(g.numel() == want.numel());
      if (frozen[i]) {  // untouched: the layer ran with RunContext::param_grads false
        for (int64_t j = 0; j < g.numel(); ++j) REQUIRE(g[j] == 7.f);
      } else {  // the input gradients through the frozen layers are exactly the unfrozen ones
        CHECK(std::memcmp(g.data(), want.data(), sizeof(float) * size_t(g.numel())) == 0);
        double sq = 0;
        for (int64_t j = 0; j < g.numel(); ++j) sq += double(g[j]) * g[j];
        CHECK(sq > 0);
      }
    }
  }
  // the layers planned the algorithms the test means to cover (direct needs a SIMD ISA)
  Net net(frozen_middle_spec());
  const auto rows = net.summary();
  CHECK(rows[5].kernel == "depthwise");
  CHECK(rows[6].kernel == "im2col+gemm");
}

TEST_CASE("net: a training step with nothing trainable runs (no parameters, or all frozen, with a side head)",
          "[graph][net][finetune]") {
  // Only pooling, activation and flatten: no parameter at all.
  SpecBuilder b({2, 6, 6});
  int x = b.add("pool", "maxpool", {{"k", "2"}}, {-1});
  x = b.add("relu", "relu", {}, {x});
  b.add("flatten", "flatten", {}, {x});
  Net bare(b.spec);
  REQUIRE(bare.params().empty());
  for (int64_t N : {3, 5}) {  // and again after a re-plan
    const Tensor input = random_input(bare, N, 1);
    Rng rng(1);
    RunContext ctx{true, &rng};
    const Tensor& y = bare.forward(input, ctx);
    CHECK(y.shape() == Shape{N, 18});
    REQUIRE(bare.output_grad().shape() == y.shape());
    bare.output_grad().fill(1.f);
    bare.zero_grad();
    bare.backward(ctx);
  }

  // Every parameter frozen (train.freeze: ["*"]), with a side head whose gradient the caller fills.
  SpecBuilder f({3, 10, 10});
  const int conv = f.add("conv1", "conv", {{"out", "4"}, {"k", "3"}, {"pad", "1"}}, {-1});
  const int aux = f.add("aux", "global_avgpool", {}, {conv});
  x = f.add("relu", "relu", {}, {conv});
  x = f.add("flatten", "flatten", {}, {x});
  f.add("fc", "linear", {{"out", "3"}}, {x});
  f.spec.heads.push_back({"aux", aux, 0.5});
  Net frozen(f.spec);
  frozen.set_frozen(std::vector<char>(frozen.params().size(), 1));
  fixed_step(frozen);
  REQUIRE(frozen.head_grad(0).shape() == Shape{2, 4, 1, 1});
  for (size_t i = 0; i < frozen.params().size(); ++i) {  // nothing ran backward: untouched
    const Tensor& g = frozen.params()[i].param->grad;
    for (int64_t j = 0; j < g.numel(); ++j) REQUIRE(g[j] == 7.f);
  }
}
