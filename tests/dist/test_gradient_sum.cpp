// The pieces of the bucketed gradient all-reduce that need no second process
// (lib/dist/gradient_sum.h): Net's gradients-ready callback says the truth (a parameter it names
// final has its final gradient at that moment), and the buckets cover every trainable parameter
// once, in reverse order, closed at the bucket size. Two ranks: tests/cli/test_mpi_train.sh.
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "../graph/spec_builder.h"
#include "../thread_guard.h"
#include "core/rng.h"
#include "dist/gradient_sum.h"
#include "graph/net.h"

using namespace cnn;
using namespace cnn::test;

namespace {

// conv -> bn -> relu, a residual block (two convs with BN, the add), global pool, linear.
ModelSpec residual_spec() {
  SpecBuilder b({3, 6, 6}, "buckets");
  const KeyValues conv = {{"out", "4"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}};
  int x = b.add("conv1", "conv", conv, {-1});
  x = b.add("bn1", "bn", {}, {x});
  const int stem = b.add("relu1", "relu", {}, {x});
  x = b.add("block.conv1", "conv", conv, {stem});
  x = b.add("block.bn1", "bn", {}, {x});
  x = b.add("block.relu1", "relu", {}, {x});
  x = b.add("block.conv2", "conv", conv, {x});
  x = b.add("block.bn2", "bn", {}, {x});
  x = b.add("block.add", "add", {}, {x, stem});
  x = b.add("block.relu2", "relu", {}, {x});
  x = b.add("pool", "global_avgpool", {}, {x});
  x = b.add("flatten", "flatten", {}, {x});
  b.add("linear", "linear", {{"out", "5"}}, {x});
  return b.spec;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

// x must outlive the backward pass that follows (Net keeps a pointer to its input).
void forward_with_random_loss_gradient(Net& net, RunContext& ctx, Tensor& x) {
  x = Tensor({3, 3, 6, 6});
  Rng rng(4);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
  net.forward(x, ctx);
  Tensor& g = net.output_grad();
  for (int64_t i = 0; i < g.numel(); ++i) g[i] = rng.uniform(-1.f, 1.f);
  net.zero_grad();
}

}  // namespace

TEST_CASE("Net gradients_ready names parameters whose gradients are final", "[dist][graph]") {
  const ThreadGuard one_thread(1);  // the callback is about node order, not the pool
  Net net(residual_spec());
  net.init(3);
  RunContext ctx;
  Rng dropout(1);
  ctx.rng = &dropout;
  Tensor input;
  forward_with_random_loss_gradient(net, ctx, input);
  const size_t P = net.params().size();
  std::vector<std::vector<float>> at_ready(P);
  std::vector<size_t> firsts;
  size_t captured_from = P;
  net.set_gradients_ready([&](size_t first) {
    firsts.push_back(first);
    for (; captured_from > first; --captured_from)
      at_ready[captured_from - 1] = values(net.params()[captured_from - 1].param->grad);
  });
  net.backward(ctx);
  net.set_gradients_ready(nullptr);
  CHECK(captured_from == 0);  // every parameter was named before backward returned
  for (size_t k = 1; k < firsts.size(); ++k) CHECK(firsts[k] <= firsts[k - 1]);
  for (size_t i = 0; i < P; ++i) {
    INFO(net.params()[i].name);
    CHECK(at_ready[i] == values(net.params()[i].param->grad));
  }
  // the snapshot is not trivially equal: the gradients are not all zero
  double sq = 0;
  for (const auto& p : net.params())
    for (int64_t i = 0; i < p.param->grad.numel(); ++i) sq += double(p.param->grad[i]) * p.param->grad[i];
  CHECK(sq > 0);
}

TEST_CASE("plan_buckets: reverse order, closed at the bucket size, frozen parameters left out", "[dist]") {
  Net net(residual_spec());
  const auto& params = net.params();
  const size_t P = params.size();
  auto bytes_of = [&](size_t i) { return params[i].param->grad.numel() * int64_t(sizeof(float)); };
  SECTION("one byte: a bucket per parameter") {
    const auto buckets = dist::plan_buckets(net, 1);
    REQUIRE(buckets.size() == P);
    for (size_t k = 0; k < P; ++k) CHECK(buckets[k] == std::vector<size_t>{P - 1 - k});
  }
  SECTION("larger than the model: one bucket") {
    const auto buckets = dist::plan_buckets(net, int64_t(1) << 30);
    REQUIRE(buckets.size() == 1);
    REQUIRE(buckets[0].size() == P);
    for (size_t k = 0; k < P; ++k) CHECK(buckets[0][k] == P - 1 - k);
  }
  SECTION("a conv weight's size: each bucket reaches it only with its last parameter") {
    const int64_t cap = 4 * 4 * 3 * 3 * int64_t(sizeof(float));
    const auto buckets = dist::plan_buckets(net, cap);
    size_t next = P;
    for (const auto& b : buckets) {
      int64_t bytes = 0;
      for (size_t k = 0; k < b.size(); ++k) {
        CHECK(b[k] == --next);
        if (k + 1 < b.size()) CHECK(bytes + bytes_of(b[k]) < cap);
        bytes += bytes_of(b[k]);
      }
      if (&b != &buckets.back()) CHECK(bytes >= cap);
    }
    CHECK(next == 0);
    CHECK(buckets.size() > 2);
  }
  SECTION("frozen parameters are in no bucket") {
    std::vector<char> frozen(P, 0);
    frozen[0] = frozen[3] = 1;
    net.set_frozen(frozen);
    std::set<size_t> seen;
    for (const auto& b : dist::plan_buckets(net, 64))
      for (size_t i : b) CHECK(seen.insert(i).second);
    CHECK(seen.size() == P - 2);
    CHECK(seen.count(0) == 0);
    CHECK(seen.count(3) == 0);
  }
}

TEST_CASE("GradientSum alone leaves the gradients as they are and attaches nothing", "[dist]") {
  const ThreadGuard one_thread(1);
  Net net(residual_spec());
  net.init(3);
  RunContext ctx;
  Rng dropout(1);
  ctx.rng = &dropout;
  Tensor input;
  forward_with_random_loss_gradient(net, ctx, input);
  dist::GradientSum sum;
  sum.attach(net, {});
  sum.overlap_next_backward();
  net.backward(ctx);
  std::vector<std::vector<float>> before;
  for (const auto& p : net.params()) before.push_back(values(p.param->grad));
  sum.finish(net);
  for (size_t i = 0; i < net.params().size(); ++i) CHECK(before[i] == values(net.params()[i].param->grad));
  CHECK(sum.bucket_count() == 0);
  CHECK(sum.calls == 0);
}
