// Side heads (auxiliary classifiers): config expansion, eval skipping them, and the weighted loss
// and its gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include "config/model_spec.h"
#include "core/error.h"
#include "core/rng.h"
#include "graph/net.h"
#include "kernels/softmax.h"
#include "train/loss.h"

using namespace cnn;

namespace {
const char* kModel = R"(
name: with-head
input: [2, 6, 6]
layers:
  - {conv: {out: 4, k: 3, pad: 1}, name: conv1}
  - tanh
  - {name: aux, head: 0.3, layers: [{avgpool: {k: 2}}, flatten, {linear: {out: 5}, name: fc}]}
  - {conv: {out: 4, k: 3}, name: conv2}
  - flatten
  - {linear: {out: 5}, name: fc}
)";

Tensor random_input(int64_t n, uint64_t seed) {
  Tensor x({n, 2, 6, 6});
  Rng rng(seed);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.normal();
  return x;
}
}  // namespace

TEST_CASE("a head element is a side output, the sequence continues from its input", "[train][heads]") {
  ModelSpec spec = load_model_string(kModel, "m.yaml");
  REQUIRE(spec.heads.size() == 1);
  CHECK(spec.heads[0].name == "aux");
  CHECK(spec.heads[0].weight == Approx(0.3));
  CHECK(spec.nodes[size_t(spec.heads[0].node)].name == "aux.fc");
  // conv2 reads tanh's output (node 1), not the head's.
  for (const auto& n : spec.nodes)
    if (n.name == "conv2") CHECK(n.inputs == std::vector<int>{1});
  Net net(spec);
  auto rows = net.summary();
  for (const auto& r : rows) CHECK(r.head == (r.name.rfind("aux.", 0) == 0));
  // Parameter names carry the head's path.
  bool found = false;
  for (const auto& p : net.params()) found |= p.name == "aux.fc.weight";
  CHECK(found);
}

TEST_CASE("head errors: bad weight, head as the last element", "[train][heads]") {
  auto err = [](const std::string& text) {
    try {
      load_model_string(text, "m.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(err("input: [1, 4, 4]\nlayers:\n  - flatten\n  - {name: a, head: zero, layers: [{linear: {out: 2}}]}\n"
                 "  - {linear: {out: 2}}\n"),
             Catch::Contains("m.yaml:4:") && Catch::Contains("loss weight"));
  CHECK_THAT(err("input: [1, 4, 4]\nlayers:\n  - flatten\n  - {name: a, head: 0.3, layers: [{linear: {out: 2}}]}\n"),
             Catch::Contains("last element"));
}

TEST_CASE("eval skips heads, the training loss is main + w * head with matching gradients", "[train][heads]") {
  Net net(load_model_string(kModel, "m.yaml"));
  net.init(3);
  const int64_t N = 4;
  Tensor x = random_input(N, 9);
  std::vector<int32_t> labels{0, 3, 1, 4};
  Rng rng(1);
  RunContext train_ctx{true, &rng}, eval_ctx{false, nullptr};

  const Tensor main_eval = net.forward(x, eval_ctx);  // copy
  const Tensor main_train = net.forward(x, train_ctx);
  for (int64_t i = 0; i < main_eval.numel(); ++i) CHECK(main_eval[i] == main_train[i]);

  StepLoss l = classification_loss(net, labels.data(), N, 0.f);
  const double main_loss = softmax_cross_entropy(net.output().data(), labels.data(), N, 5, 0.f, nullptr).loss;
  const double head_loss = softmax_cross_entropy(net.head_output(0).data(), labels.data(), N, 5, 0.f, nullptr).loss;
  CHECK(l.main == Approx(main_loss));
  CHECK(l.total == Approx(main_loss + 0.3 * head_loss));
  CHECK(classification_loss(net, labels.data(), N, 0.f, 1.0).total == Approx(main_loss + head_loss));

  // d(total)/d(conv1.weight[j]) by central differences against backward().
  classification_loss(net, labels.data(), N, 0.f);
  net.zero_grad();
  net.backward(train_ctx);
  Param* w = nullptr;
  for (const auto& p : net.params())
    if (p.name == "conv1.weight") w = p.param;
  REQUIRE(w);
  const Tensor grad = w->grad;
  for (int64_t j : {0, 7, 19, 40}) {
    const float keep = w->value[j], h = 2e-3f;
    w->value[j] = keep + h;
    net.forward(x, train_ctx);
    const double up = classification_loss(net, labels.data(), N, 0.f).total;
    w->value[j] = keep - h;
    net.forward(x, train_ctx);
    const double down = classification_loss(net, labels.data(), N, 0.f).total;
    w->value[j] = keep;
    INFO("conv1.weight[" << j << "]");
    CHECK(grad[j] == Approx((up - down) / (2 * h)).margin(1e-3).epsilon(2e-2));
  }
}
