// ReLU fusion planned by the Net (Net::set_inspectable): a BatchNorm or add whose output only feeds a
// ReLU applies it in its own passes. Fused and unfused runs must give the same bits: outputs,
// parameter gradients and BatchNorm's running statistics, with batch and with running statistics.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../isa_levels.h"
#include "../layer_builder.h"
#include "../thread_guard.h"
#include "core/error.h"
#include "core/rng.h"
#include "graph/net.h"
#include "kernels/conv_direct.h"
#include "spec_builder.h"

using namespace cnn;
using namespace cnn::test;

namespace {


// stem: conv -> bn -> relu (fused); block: conv -> bn -> relu (fused) -> conv -> bn -> add with
// an identity shortcut of the stem -> relu (the add fused); a chain of two identities; a bn read by
// two nodes (not fused); a three-way add -> relu; an identity as the output.
ModelSpec bn_residual_spec() {
  SpecBuilder b({3, 7, 6}, "fusion");
  const KeyValues conv = {{"out", "4"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}};
  int x = b.add("conv1", "conv", conv, {-1});
  x = b.add("bn1", "bn", {}, {x});
  const int stem = b.add("relu1", "relu", {}, {x});
  x = b.add("block.conv1", "conv", conv, {stem});
  x = b.add("block.bn1", "bn", {}, {x});
  x = b.add("block.relu1", "relu", {}, {x});
  x = b.add("block.conv2", "conv", conv, {x});
  x = b.add("block.bn2", "bn", {}, {x});
  const int skip = b.add("block.skip", "shortcut", {{"out", "4"}}, {stem});
  x = b.add("block.add", "add", {}, {x, skip});
  const int block = b.add("block.relu2", "relu", {}, {x});
  const int id_a = b.add("id_a", "identity", {}, {block});  // block has a later reader: id_a copies its gradient
  const int id_b = b.add("id_b", "identity", {}, {id_a});   // id_a's only reader: shares id_a's gradient
  x = b.add("shared.conv", "conv", conv, {block});
  const int shared = b.add("shared.bn", "bn", {}, {x});
  const int r = b.add("shared.relu", "relu", {}, {shared});
  x = b.add("add3", "add", {}, {r, shared, id_b});
  x = b.add("out.relu", "relu", {}, {x});
  b.add("out", "identity", {}, {x});  // the net's output: keeps its own tensor
  return b.spec;
}

struct Run {
  std::vector<float> out;
  std::vector<std::vector<float>> grads, buffers;
};

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

// One training forward and backward of net on a random batch of shape `input` (loss = sum(out *
// R), the same x and R for every call).
Run train_step(Net& net, const Shape& input, RunContext& ctx) {
  Tensor x(input);
  Rng rng(4);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
  Run r;
  r.out = values(net.forward(x, ctx));
  Tensor& g = net.output_grad();
  for (int64_t i = 0; i < g.numel(); ++i) g[i] = rng.uniform(-1.f, 1.f);
  net.zero_grad();
  net.backward(ctx);
  for (const auto& p : net.params()) r.grads.push_back(values(p.param->grad));
  for (const auto& b : net.buffers()) r.buffers.push_back(values(b.buffer->value));
  return r;
}

// train_step from the same initial state; with `bn_train` false every BatchNorm runs in eval mode
// (running statistics), as frozen ones do.
Run run_once(bool fused, bool bn_train) {
  Net net(bn_residual_spec());
  net.init(3);
  net.set_inspectable(!fused);
  if (!bn_train)
    net.set_frozen(std::vector<char>(net.params().size(), 0), {"bn1", "block.bn1", "block.bn2", "shared.bn"});
  RunContext ctx;
  Rng dropout(1);
  ctx.rng = &dropout;
  return train_step(net, {5, 3, 7, 6}, ctx);
}

// A training forward of two images of 0.5s (the outputs stay in the net).
void train_forward(Net& net) {
  Tensor x({2, 3, 7, 6});
  x.fill(0.5f);
  RunContext ctx;
  Rng dropout(1);
  ctx.rng = &dropout;
  net.forward(x, ctx);
}

}  // namespace

TEST_CASE("net fusion: an add in place of its input saves that output in training", "[graph][net][fusion]") {
  Net fused(bn_residual_spec()), plain(bn_residual_spec());
  plain.set_inspectable(true);
  const int64_t one = 7 * 4 * 7 * 6 * int64_t(sizeof(float));  // one output at batch 7
  // Training keeps one output less than with ReLU fusion alone (relu1, block.relu1, block.relu2,
  // out.relu written by their inputs: four), none for block.bn2 (the add reads its input through
  // it), and none for the identities before the output (block.skip, id_a, id_b: their inputs' storage).
  CHECK(plain.planned_memory(7, true).activations - fused.planned_memory(7, true).activations >= 8 * one);
  // Without a BatchNorm, the add writes over the output it alone reads.
  SpecBuilder b({3, 7, 6}, "in_place");
  const KeyValues conv = {{"out", "4"}, {"k", "3"}, {"pad", "1"}};
  const int a = b.add("a", "conv", conv, {-1});
  const int c = b.add("c", "conv", conv, {a});
  b.add("sum", "add", {}, {c, a});
  Net net(b.spec);
  train_forward(net);
  CHECK_THROWS_WITH(net.activation(net.node_index("c")), Catch::Contains("writes over it"));
  CHECK(net.activation(net.node_index("a")).numel() == 2 * 4 * 7 * 6);
}

TEST_CASE("net fusion: BN and add take the ReLU that is their only reader", "[graph][net][fusion]") {
  Net net(bn_residual_spec());
  auto fused = [&](const char* name) { return net.fused(net.node_index(name)); };
  CHECK(fused("bn1"));
  CHECK(fused("block.bn1"));
  CHECK(fused("block.add"));
  CHECK(fused("add3"));
  CHECK_FALSE(fused("block.bn2"));  // read by the add, not a ReLU
  CHECK_FALSE(fused("shared.bn"));  // two readers
  CHECK_FALSE(fused("relu1"));
  train_forward(net);
  CHECK_THROWS_AS(net.activation(net.node_index("bn1")), RuntimeError);
  CHECK(net.activation(net.node_index("relu1")).numel() == 2 * 4 * 7 * 6);
  // The add reads block.bn2's input through it (its only reader; BN's backward does not read it).
  CHECK_THROWS_WITH(net.activation(net.node_index("block.bn2")), Catch::Contains("normalizes its input"));
  CHECK(net.activation(net.node_index("block.relu2")).numel() == 2 * 4 * 7 * 6);
  net.set_inspectable(true);
  CHECK_FALSE(net.fused(net.node_index("bn1")));
  train_forward(net);
  CHECK(net.activation(net.node_index("bn1")).numel() == 2 * 4 * 7 * 6);
}

TEST_CASE("net fusion: identities before the output run as their input in training", "[graph][net][fusion]") {
  Net net(bn_residual_spec());
  train_forward(net);
  auto data = [&](const char* name) { return net.activation(net.node_index(name)).data(); };
  CHECK(data("block.skip") == data("relu1"));
  CHECK(data("id_a") == data("block.relu2"));
  CHECK(data("id_b") == data("block.relu2"));
  CHECK(data("out") != data("out.relu"));
  net.set_inspectable(true);
  train_forward(net);
  CHECK(data("id_a") != data("block.relu2"));
}

TEST_CASE("net fusion: fused and unfused runs give the same bits", "[graph][net][fusion]") {
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    for (bool bn_train : {true, false}) {
      INFO("threads " << threads << (bn_train ? ", batch statistics" : ", running statistics"));
      const Run a = run_once(true, bn_train), b = run_once(false, bn_train);
      CHECK(a.out == b.out);
      REQUIRE(a.grads.size() == b.grads.size());
      for (size_t i = 0; i < a.grads.size(); ++i) CHECK(a.grads[i] == b.grads[i]);
      CHECK(a.buffers == b.buffers);
    }
  }
}

// A 1x1 convolution from 32 channels (the SGEMM path) that is the second reader of its input to
// run backward adds its input gradient to the first's (RunContext::add_input_grad): no scratch
// gradient, no sum pass. The inspectable net plans it too: same bits.
TEST_CASE("net fusion: a GEMM convolution adds its input gradient to one already written", "[graph][net][fusion]") {
  SpecBuilder b({3, 6, 5}, "add_grad");
  const int stem = b.add("stem", "conv", {{"out", "32"}, {"k", "3"}, {"pad", "1"}}, {-1});
  const int p = b.add("p", "conv", {{"out", "32"}, {"k", "1"}, {"bias", "false"}}, {stem});
  const int q = b.add("q", "shortcut", {{"out", "32"}}, {stem});
  b.add("sum", "add", {}, {p, q});
  cnn::test::for_each_isa([&] {
    std::vector<std::vector<float>> grads[2];
    for (bool fused : {true, false}) {
      Net net(b.spec);
      net.init(3);
      net.set_inspectable(!fused);
      Tensor x({4, 3, 6, 5});
      Rng rng(4);
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
      RunContext ctx;
      net.forward(x, ctx);
      Tensor& g = net.output_grad();
      for (int64_t i = 0; i < g.numel(); ++i) g[i] = rng.uniform(-1.f, 1.f);
      net.zero_grad();
      net.backward(ctx);
      for (const auto& pr : net.params()) grads[fused].push_back(values(pr.param->grad));
      // stem's weight gradient from dx = dy + p's input gradient (p: y = W x, dx = W^T dy).
      if (!fused) continue;
      const Tensor& w = net.params()[2].param->value;  // p.weight: 32 x 32 x 1 x 1
      Tensor expect = g;
      for (int64_t n = 0; n < 4; ++n)
        for (int64_t c = 0; c < 32; ++c)
          for (int64_t i = 0; i < 30; ++i) {
            double s = g[(n * 32 + c) * 30 + i];
            for (int64_t m = 0; m < 32; ++m) s += double(w[m * 32 + c]) * g[(n * 32 + m) * 30 + i];
            expect[(n * 32 + c) * 30 + i] = float(s);
          }
      const Tensor& got = net.backward_to(stem, ctx);
      double worst = 0;
      for (int64_t i = 0; i < got.numel(); ++i) worst = std::max(worst, double(std::abs(got[i] - expect[i])));
      CHECK(worst < 1e-4);
    }
    REQUIRE(grads[0].size() == grads[1].size());
    for (size_t i = 0; i < grads[0].size(); ++i) CHECK(grads[0][i] == grads[1][i]);
  });
}

namespace {

// Blocked convolutions (16 and 32 channels) with BatchNorms between them: A.bn packs forward into
// B.conv and backward into A.conv; B.bn forward into the add that reads it (which takes a ReLU),
// backward into B.conv; C.bn backward into a stride-2 convolution; D.bn (with a ReLU) forward
// into the second input of an add (without), backward into D.conv; stem.bn neither (a row
// convolution of 3 channels writes its input, two layers read its output).
ModelSpec packed_bn_spec() {
  SpecBuilder b({3, 8, 8}, "packed_bn");
  auto conv = [](const char* out, const char* stride) {
    return KeyValues{{"out", out}, {"k", "3"}, {"pad", "1"}, {"stride", stride}, {"bias", "false"}};
  };
  int x = b.add("stem.conv", "conv", conv("16", "1"), {-1});
  x = b.add("stem.bn", "bn", {}, {x});
  const int stem = b.add("stem.relu", "relu", {}, {x});
  x = b.add("A.conv", "conv", conv("16", "1"), {stem});
  x = b.add("A.bn", "bn", {}, {x});
  x = b.add("A.relu", "relu", {}, {x});
  x = b.add("B.conv", "conv", conv("16", "1"), {x});
  x = b.add("B.bn", "bn", {}, {x});
  x = b.add("B.add", "add", {}, {x, stem});
  x = b.add("B.relu", "relu", {}, {x});
  x = b.add("C.conv", "conv", conv("32", "2"), {x});
  x = b.add("C.bn", "bn", {}, {x});
  const int c = b.add("C.relu", "relu", {}, {x});
  x = b.add("D.conv", "conv", conv("32", "1"), {c});
  x = b.add("D.bn", "bn", {}, {x});
  x = b.add("D.relu", "relu", {}, {x});
  x = b.add("D.add", "add", {}, {c, x});
  b.add("pool", "global_avgpool", {}, {x});
  return b.spec;
}

}  // namespace

// Packed BatchNorms (training): the BatchNorm's passes run inside the packing of the blocked
// convolutions next to it (or the add reading it), with the bits of the unfused net: outputs,
// parameter gradients, running statistics, and the gradient at a convolution whose BatchNorm then
// writes it (backward_to).
TEST_CASE("net fusion: BatchNorms packed into blocked convolutions and adds give the same bits",
          "[graph][net][fusion]") {
  cnn::test::for_each_isa([&] {
    for (int64_t budget : {0, 8000})  // whole batches, and groups of 1-2 of the 5 images per call (conv_direct.h)
    for (bool bn_train : {true, false}) {
      set_direct_conv_group_budget(budget);
      INFO((bn_train ? "batch statistics" : "running statistics (frozen BatchNorms)") << ", group budget " << budget);
      Run runs[2];
      std::vector<float> to_conv[2];
      for (bool fused : {false, true}) {
        Net net(packed_bn_spec());
        net.init(3);
        net.set_inspectable(!fused);
        if (!bn_train) net.set_frozen(std::vector<char>(net.params().size(), 0), {"A.bn", "B.bn", "C.bn", "D.bn"});
        RunContext ctx;
        runs[fused] = train_step(net, {5, 3, 8, 8}, ctx);
        to_conv[fused] = values(net.backward_to(net.node_index("A.conv"), ctx));
        if (!fused) continue;
        auto packing = [&](const char* bn) { return net.batchnorm_packing(net.node_index(bn)); };
        CHECK(packing("B.bn").forward == net.node_index("B.add"));
        CHECK(packing("D.bn").forward == net.node_index("D.add"));
        // B.add writes one gradient for B.bn and stem (A.conv adds its own to stem's after B.bn's
        // is read).
        CHECK(net.same_gradient_buffer(net.node_index("B.bn"), net.node_index("stem.relu")));
        if (active_isa() == Isa::generic) continue;  // generic: no blocked kernels, nothing else packed
        // Not so D.add: D.conv adds its input gradient to C.relu's while packing D.bn's.
        CHECK_FALSE(net.same_gradient_buffer(net.node_index("D.relu"), net.node_index("C.relu")));
        CHECK(packing("A.bn").forward == net.node_index("B.conv"));
        CHECK(packing("A.bn").backward == net.node_index("A.conv"));
        CHECK(packing("B.bn").backward == net.node_index("B.conv"));
        CHECK(packing("C.bn").forward == -1);  // D.conv and D.add read its ReLU's output
        CHECK(packing("C.bn").backward == net.node_index("C.conv"));
        CHECK(packing("D.bn").backward == net.node_index("D.conv"));
        CHECK(packing("stem.bn").forward == -1);
        CHECK(packing("stem.bn").backward == -1);
        CHECK_THROWS_WITH(net.activation(net.node_index("A.relu")), Catch::Contains("not kept in training"));
      }
      CHECK(runs[0].out == runs[1].out);
      REQUIRE(runs[0].grads.size() == runs[1].grads.size());
      for (size_t i = 0; i < runs[0].grads.size(); ++i) {
        INFO("parameter " << i);
        CHECK(runs[0].grads[i] == runs[1].grads[i]);
      }
      CHECK(runs[0].buffers == runs[1].buffers);
      CHECK(to_conv[0] == to_conv[1]);
    }
  });
  set_direct_conv_group_budget(0);
}

TEST_CASE("net memory: an eval forward with shared buffers gives the bits of one that keeps every output",
          "[graph][net][memory]") {
  Net shared(bn_residual_spec()), kept(bn_residual_spec());
  shared.init(5);
  kept.init(5);
  kept.set_inspectable(true);
  Tensor x({3, 3, 7, 6});
  Rng rng(8);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
  RunContext ctx;
  ctx.train = false;
  const std::vector<float> a = values(shared.forward(x, ctx)), b = values(kept.forward(x, ctx));
  CHECK(a == b);
  // Shared buffers: no output kept but the net's, less memory planned than one buffer per node.
  CHECK_THROWS_AS(shared.activation(shared.node_index("relu1")), RuntimeError);
  CHECK(kept.activation(kept.node_index("relu1")).numel() == 3 * 4 * 7 * 6);
  CHECK(shared.planned_memory(3, false).activations < kept.planned_memory(3, false).activations);
  CHECK(shared.planned_memory(3, true).activations < kept.planned_memory(3, true).activations);
  CHECK_THROWS_AS(shared.backward(ctx), RuntimeError);  // needs a training forward
}

// A ReLU between a convolution (which does not take it) and a max pool: the pool takes it
// (relu(max) = max(relu)), the ReLU passes the convolution's output through in training. Same bits
// as the layers run apart, with overlapping windows and with a channel of NaNs (every maximum NaN:
// those planes are pooled again; the single NaN beside positive values: tests/layers).
TEST_CASE("net fusion: a max pool takes the ReLU before it, the same bits", "[graph][net][fusion]") {
  SpecBuilder b({2, 12, 11}, "relu_pool");
  int x = b.add("c1", "conv", {{"out", "6"}, {"k", "5"}, {"pad", "2"}}, {-1});
  x = b.add("r1", "relu", {}, {x});
  x = b.add("p1", "maxpool", {{"k", "2"}}, {x});
  x = b.add("c2", "conv", {{"out", "8"}, {"k", "3"}}, {x});
  x = b.add("r2", "relu", {}, {x});
  x = b.add("p2", "maxpool", {{"k", "3"}, {"stride", "2"}, {"pad", "1"}}, {x});
  b.add("out", "identity", {}, {x});
  cnn::test::for_each_isa([&] {
    for (bool nan : {false, true}) {
      Run runs[2];
      for (bool fused : {true, false}) {
        Net net(b.spec);
        net.init(3);
        net.set_inspectable(!fused);
        if (nan) {  // c1's bias NaN in channel 0: every output of that channel is NaN
          for (const auto& pr : net.params())
            if (pr.name == "c1.bias") pr.param->value[0] = std::numeric_limits<float>::quiet_NaN();
        }
        RunContext ctx;
        Rng dropout(1);
        ctx.rng = &dropout;
        runs[fused] = train_step(net, {3, 2, 12, 11}, ctx);
        if (fused)
          CHECK_THROWS_WITH(net.activation(net.node_index("r1")), Catch::Contains("the layer after it applies it"));
        else
          CHECK(net.activation(net.node_index("r1")).numel() == 3 * 6 * 12 * 11);
      }
      INFO("nan " << nan);
      CHECK(std::memcmp(runs[0].out.data(), runs[1].out.data(), runs[0].out.size() * sizeof(float)) == 0);
      REQUIRE(runs[0].grads.size() == runs[1].grads.size());
      for (size_t i = 0; i < runs[0].grads.size(); ++i)
        CHECK(std::memcmp(runs[0].grads[i].data(), runs[1].grads[i].data(), runs[0].grads[i].size() * sizeof(float)) ==
              0);
    }
  });
}
