// Inference fusion (graph/inference_fusion.cpp): chains conv -> [bn] -> [add] -> [relu/relu6]
// run as one output pass of the conv in eval forwards. The fused net must give the unfused
// net's outputs within float rounding (the folded weights round differently), on every
// convolution path (direct, depthwise, im2col+GEMM), and the scope must leave the net as it was.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../isa_levels.h"
#include "../thread_guard.h"
#include "core/rng.h"
#include "graph/net.h"
#include "kernels/conv_direct.h"
#include "spec_builder.h"

using namespace cnn;
using namespace cnn::test;

namespace {

const KeyValues kConv = {{"out", "8"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}};

// stem conv -> bn -> relu, then a residual branch block.conv1 -> bn1 -> relu1 -> conv2 -> bn2.
// Returns bn2; `stem` gets the stem's output.
int stem_and_branch(SpecBuilder& b, int& stem) {
  int x = b.add("stem.conv", "conv", {{"out", "8"}, {"k", "3"}, {"pad", "1"}}, {-1});  // with a bias
  x = b.add("stem.bn", "bn", {}, {x});
  stem = b.add("stem.relu", "relu", {}, {x});
  x = b.add("block.conv1", "conv", kConv, {stem});
  x = b.add("block.bn1", "bn", {}, {x});
  x = b.add("block.relu1", "relu", {}, {x});
  x = b.add("block.conv2", "conv", kConv, {x});
  return b.add("block.bn2", "bn", {}, {x});
}

// Every chain shape the planner knows, and the places where it must stop.
ModelSpec chains_spec() {
  SpecBuilder b({3, 9, 8}, "inference_fusion");
  int stem = -1;
  // A residual block with an identity shortcut: conv2 takes bn2, the add and the ReLU.
  int x = stem_and_branch(b, stem);
  int sc = b.add("block.shortcut", "shortcut", {{"out", "8"}}, {stem});
  x = b.add("block.add", "add", {}, {x, sc});
  const int block = b.add("block.relu2", "relu", {}, {x});
  // A projection shortcut computed after the branch: the shortcut takes the add, not conv2.
  x = b.add("down.conv1", "conv", {{"out", "12"}, {"k", "3"}, {"pad", "1"}, {"stride", "2"}, {"bias", "false"}}, {block});
  x = b.add("down.bn1", "bn", {}, {x});
  sc = b.add("down.shortcut", "shortcut", {{"out", "12"}, {"stride", "2"}}, {block});
  x = b.add("down.add", "add", {}, {x, sc});
  const int down = b.add("down.relu", "relu", {}, {x});
  // An option-A shortcut (subsampled, 2 channels of zeros either side) computed after the
  // branch: it takes the add and the ReLU.
  x = b.add("padA.conv1", "conv", {{"out", "16"}, {"k", "3"}, {"pad", "1"}, {"stride", "2"}, {"bias", "false"}}, {down});
  x = b.add("padA.bn1", "bn", {}, {x});
  sc = b.add("padA.shortcut", "shortcut", {{"out", "16"}, {"stride", "2"}, {"type", "A"}}, {down});
  x = b.add("padA.add", "add", {}, {x, sc});
  const int pad_a = b.add("padA.relu", "relu", {}, {x});
  // Depthwise and grouped convolutions with ReLU6; a BN with two readers stops its chain.
  x = b.add("dw.conv", "conv", {{"out", "16"}, {"k", "3"}, {"pad", "1"}, {"groups", "16"}, {"bias", "false"}}, {pad_a});
  x = b.add("dw.bn", "bn", {}, {x});
  x = b.add("dw.relu6", "relu6", {}, {x});
  x = b.add("group.conv", "conv", {{"out", "12"}, {"k", "1"}, {"groups", "4"}, {"bias", "false"}}, {x});
  const int shared = b.add("group.bn", "bn", {}, {x});
  x = b.add("group.relu", "relu", {}, {shared});
  x = b.add("join", "add", {}, {x, shared});
  x = b.add("pool", "global_avgpool", {}, {x});
  x = b.add("flat", "flatten", {}, {x});
  b.add("fc", "linear", {{"out", "5"}}, {x});
  return b.spec;
}

// Non-trivial running statistics and affine parameters, so folding has something to fold.
void randomize_batchnorms(Net& net, uint64_t seed) {
  Rng rng(seed);
  for (const auto& b : net.buffers())
    if (b.name.find("running_var") != std::string::npos)
      for (int64_t i = 0; i < b.buffer->value.numel(); ++i) b.buffer->value[i] = rng.uniform(0.5f, 2.f);
    else if (b.name.find("running_mean") != std::string::npos)
      for (int64_t i = 0; i < b.buffer->value.numel(); ++i) b.buffer->value[i] = rng.uniform(-0.3f, 0.3f);
  for (const auto& p : net.params())
    if (p.param->init_kind == "bn_weight" || p.param->init_kind == "bn_bias")
      for (int64_t i = 0; i < p.param->value.numel(); ++i) p.param->value[i] = rng.uniform(-1.f, 1.5f);
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

Tensor random_input(int64_t n, uint64_t seed) {
  Tensor x({n, 3, 9, 8});
  Rng rng(seed);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
  return x;
}

}  // namespace

TEST_CASE("inference fusion: which layers each chain takes", "[graph][net][fusion]") {
  Net net(chains_spec());
  auto fused = [&](const char* name) { return net.fused(net.node_index(name)); };
  {
    Net::InferenceScope scope(net);
    CHECK(net.fused_for_inference());
    CHECK(fused("stem.conv"));
    CHECK(fused("block.conv1"));
    CHECK(fused("block.conv2"));     // bn2, the identity shortcut, the add and relu2
    CHECK(fused("down.conv1"));      // its BN only: the shortcut runs after it
    CHECK(fused("down.shortcut"));   // the add and the ReLU
    CHECK(fused("padA.conv1"));      // its BN only
    CHECK(fused("padA.shortcut"));   // the add and the ReLU
    CHECK(fused("dw.conv"));
    CHECK(fused("group.conv"));      // its BN; the BN has two readers, so no ReLU
    CHECK_FALSE(fused("group.bn"));  // two readers
  }
  CHECK_FALSE(net.fused_for_inference());
  CHECK_FALSE(fused("block.conv2"));
  CHECK(fused("stem.bn"));  // the training fusion is back
}

TEST_CASE("inference fusion: fused eval forwards equal unfused ones within float rounding", "[graph][net][fusion]") {
  for_each_isa([&] {
    for (int threads : {1, 2}) {
      ThreadGuard tg(threads);
      for (int64_t batch : {1, 4}) {
        INFO("threads " << threads << " batch " << batch);
        Net net(chains_spec());
        net.init(11);
        randomize_batchnorms(net, 12);
        const Tensor x = random_input(batch, 13);
        RunContext ctx;
        ctx.train = false;
        const std::vector<float> plain = values(net.forward(x, ctx));
        std::vector<float> fused;
        {
          Net::InferenceScope scope(net);
          fused = values(net.forward(x, ctx));
          CHECK(values(net.forward(x, ctx)) == fused);  // the prepared weights are reused as they are
        }
        REQUIRE(fused.size() == plain.size());
        float peak = 0;
        for (float v : plain) peak = std::max(peak, std::fabs(v));
        for (size_t i = 0; i < plain.size(); ++i) CHECK(std::fabs(fused[i] - plain[i]) <= 1e-5f * std::max(1.f, peak));
        CHECK(values(net.forward(x, ctx)) == plain);  // out of the scope: the plain path again
      }
    }
  });
}

TEST_CASE("inference fusion: a training forward ends it and trains on the current weights", "[graph][net][fusion]") {
  Net a(chains_spec()), b(chains_spec());
  a.init(3);
  b.init(3);
  const Tensor x = random_input(3, 4);
  RunContext eval;
  eval.train = false;
  RunContext train;
  Rng dropout(1);
  train.rng = &dropout;
  a.fuse_for_inference(true);
  a.forward(x, eval);
  const std::vector<float> ya = values(a.forward(x, train)), yb = values(b.forward(x, train));
  CHECK_FALSE(a.fused_for_inference());
  CHECK(ya == yb);
  // Weights changed after fusing: fusing again picks them up.
  a.fuse_for_inference(true);
  for (const auto& p : a.params()) p.param->value.fill(0.01f);
  for (const auto& p : b.params()) p.param->value.fill(0.01f);
  a.fuse_for_inference(false);
  a.fuse_for_inference(true);
  const std::vector<float> fa = values(a.forward(x, eval)), fb = values(b.forward(x, eval));
  for (size_t i = 0; i < fa.size(); ++i) CHECK(fa[i] == Approx(fb[i]).margin(1e-6));
}

TEST_CASE("inference fusion: less memory planned, nothing for inspectable nets", "[graph][net][fusion][memory]") {
  Net net(chains_spec());
  const int64_t plain = net.planned_memory(32, false).activations;
  CHECK(net.planned_inference_memory(32).activations < plain);
  CHECK_FALSE(net.fused_for_inference());
  net.set_inspectable(true);
  Net::InferenceScope scope(net);
  CHECK_FALSE(net.fused_for_inference());
  CHECK_FALSE(net.fused(net.node_index("block.conv2")));
}

namespace {

// A residual block with stochastic depth ({merge: add, drop_path: p}): a drop_path between the
// branch's last BN and the add.
ModelSpec drop_path_spec() {
  SpecBuilder b({3, 9, 8}, "inference_fusion_drop_path");
  int stem = -1;
  int x = stem_and_branch(b, stem);
  x = b.add("block.drop_path", "drop_path", {{"p", "0.3"}}, {x});
  x = b.add("block.add", "add", {}, {x, stem});
  x = b.add("block.relu2", "relu", {}, {x});
  x = b.add("pool", "global_avgpool", {}, {x});
  x = b.add("flat", "flatten", {}, {x});
  b.add("fc", "linear", {{"out", "5"}}, {x});
  return b.spec;
}

}  // namespace

TEST_CASE("inference fusion: a chain sees through drop_path (the identity in eval)", "[graph][net][fusion]") {
  Net net(drop_path_spec());
  net.init(21);
  randomize_batchnorms(net, 22);
  auto fused = [&](const char* name) { return net.fused(net.node_index(name)); };
  for (int64_t batch : {1, 4}) {
    INFO("batch " << batch);
    const Tensor x = random_input(batch, 23);
    RunContext ctx;
    ctx.train = false;
    const std::vector<float> plain = values(net.forward(x, ctx));
    CHECK(fused("block.add"));  // unfused, the add takes the ReLU after it (training fusion)
    std::vector<float> with_chain;
    {
      Net::InferenceScope scope(net);
      CHECK(fused("block.conv2"));        // bn2, the drop_path, the add and relu2
      CHECK_FALSE(fused("block.add"));    // absorbed into conv2's chain: it no longer runs its own pass
      with_chain = values(net.forward(x, ctx));
    }
    REQUIRE(with_chain.size() == plain.size());
    float peak = 0;
    for (float v : plain) peak = std::max(peak, std::fabs(v));
    for (size_t i = 0; i < plain.size(); ++i) CHECK(std::fabs(with_chain[i] - plain[i]) <= 1e-5f * std::max(1.f, peak));
  }
}

namespace {

// global average pool -> flatten -> linear (5 classes) after x
void add_classifier(SpecBuilder& b, int x) {
  x = b.add("pool", "global_avgpool", {}, {x});
  x = b.add("flat", "flatten", {}, {x});
  b.add("fc", "linear", {{"out", "5"}}, {x});
}

// Convolutions wide enough for the blocked kernels, each the only reader of the one before:
// 1x1 -> 3x3 -> strided 3x3, channel counts that are not multiples of 16, BN folded, ReLU and
// ReLU6 clamped in the store.
ModelSpec handoff_spec() {
  SpecBuilder b({3, 12, 10}, "blocked_handoffs");
  int x = b.add("stem", "conv", {{"out", "24"}, {"k", "3"}, {"pad", "1"}}, {-1});
  x = b.add("stem.relu", "relu", {}, {x});
  x = b.add("a", "conv", {{"out", "40"}, {"k", "1"}, {"bias", "false"}}, {x});
  x = b.add("a.bn", "bn", {}, {x});
  x = b.add("a.relu", "relu", {}, {x});
  x = b.add("b", "conv", {{"out", "40"}, {"k", "3"}, {"pad", "1"}}, {x});
  x = b.add("b.relu6", "relu6", {}, {x});
  x = b.add("c", "conv", {{"out", "20"}, {"k", "3"}, {"pad", "1"}, {"stride", "2"}, {"bias", "false"}}, {x});
  add_classifier(b, b.add("c.bn", "bn", {}, {x}));
  return b.spec;
}

// Residual chains around blocked handoffs (24 channels: the AVX2 planner keeps 1x1 convolutions
// of fewer than 32 direct): b adds the stem's NCHW output (gathered in its store) and writes into
// c's plane; d adds b's handed-over output and writes into f's plane; g adds d's and writes into
// the plane of h and the shortcut; j's output, only added by the shortcut's chain, goes into j's
// own unpadded plane, and the shortcut writes NCHW for the pool.
// With 128 channels on a 16x24 map (residual_winograd_spec) the 3x3 stride-1 convolutions b, d
// and g run Winograd at batch 3 (288 tiles: winograd_suits_inference), their outputs stored into
// the planes by store_blocked_target.
ModelSpec residual_handoff_spec(int channels, int H, int W) {
  SpecBuilder b({3, H, W}, "blocked_residual_handoffs");
  const std::string c = std::to_string(channels);
  const KeyValues k1 = {{"out", c}, {"k", "1"}, {"bias", "false"}};
  const KeyValues k3 = {{"out", c}, {"k", "3"}, {"pad", "1"}};
  auto conv_bn = [&](const std::string& name, const KeyValues& kv, int x) {
    return b.add(name + ".bn", "bn", {}, {b.add(name, "conv", kv, {x})});
  };
  auto residual = [&](const std::string& name, int x, int shortcut, const char* clamp) {
    return b.add(name + ".clamp", clamp, {}, {b.add(name + ".add", "add", {}, {x, shortcut})});
  };
  const int s = b.add("stem.relu", "relu", {}, {b.add("stem", "conv", k3, {-1})});
  const int xa = b.add("a.relu", "relu", {}, {conv_bn("a", k1, s)});
  const int x1 = residual("b", conv_bn("b", k3, xa), s, "relu6");
  const int xc = b.add("c.relu", "relu", {}, {conv_bn("c", k1, x1)});
  const int x2 = residual("d", conv_bn("d", k3, xc), x1, "relu");
  const int xf = b.add("f.relu", "relu", {}, {conv_bn("f", k1, x2)});
  const int x3 = residual("g", conv_bn("g", k3, xf), x2, "relu");
  // A downsampling bottleneck as ResNet-50's: x3 read by h (1x1) and by the projection shortcut
  // (1x1, stride 2) through the same plane; i -> j; the shortcut, computed last, takes the add.
  const int xh = b.add("h.relu", "relu", {}, {conv_bn("h", k1, x3)});
  const int xi = b.add("i.relu", "relu", {}, {conv_bn("i", {{"out", c}, {"k", "3"}, {"pad", "1"}, {"stride", "2"}}, xh)});
  const int xj = conv_bn("j", {{"out", "32"}, {"k", "1"}, {"bias", "false"}}, xi);
  const int sc = b.add("down", "shortcut", {{"out", "32"}, {"stride", "2"}}, {x3});
  add_classifier(b, residual("j", xj, sc, "relu"));
  return b.spec;
}
ModelSpec residual_handoff_spec() { return residual_handoff_spec(24, 12, 10); }
ModelSpec residual_winograd_spec() { return residual_handoff_spec(128, 16, 24); }

// MobileNet's blocks: depthwise 3x3 (BN, ReLU6) -> pointwise 1x1 (BN, ReLU6), channel counts
// that are not multiples of 16. The stem writes into dw1's plane, dw1 into p1's;
// p1 writes into dw2's plane, dw2 into p2's, p2 into the strided dw3's; dw3 unpacks for the pool.
ModelSpec depthwise_handoff_spec() {
  SpecBuilder b({3, 12, 10}, "blocked_depthwise_handoffs");
  auto block = [&](const std::string& name, const char* kind, const KeyValues& kv, int x) {
    const int bn = b.add(name + ".bn", "bn", {}, {b.add(name, "conv", kv, {x})});
    return b.add(name + ".clamp", kind, {}, {bn});
  };
  auto dw = [](int channels, int stride) {
    const std::string c = std::to_string(channels);
    return KeyValues{{"out", c}, {"k", "3"}, {"pad", "1"}, {"groups", c}, {"stride", std::to_string(stride)},
                     {"bias", "false"}};
  };
  const KeyValues pw = {{"out", "40"}, {"k", "1"}, {"bias", "false"}};
  int x = b.add("stem.relu", "relu", {}, {b.add("stem", "conv", {{"out", "40"}, {"k", "3"}, {"pad", "1"}}, {-1})});
  x = block("dw1", "relu6", dw(40, 1), x);
  x = block("p1", "relu6", pw, x);
  x = block("dw2", "relu6", dw(40, 1), x);
  x = block("p2", "relu", pw, x);
  add_classifier(b, block("dw3", "relu6", dw(40, 2), x));
  return b.spec;
}

// Max pools between blocked convolutions, fed values of both signs (no clamp before them): the
// stem writes into p0's plane (border -inf), p0 (3x3, pad 1) into a's plane; a
// writes into p1's plane (its border -inf); p1 (3x3, stride 2, ceil mode on a 12x10 map) writes
// into c's plane; c unpacks for the classifier. (24 channels: at AVX-512 a 6x5 map's padded plane
// would be more than twice the tensor, which the planner refuses.)
ModelSpec maxpool_handoff_spec() {
  SpecBuilder b({3, 12, 10}, "blocked_maxpool_handoffs");
  int x = b.add("stem", "conv", {{"out", "24"}, {"k", "3"}, {"pad", "1"}}, {-1});
  x = b.add("p0", "maxpool", {{"k", "3"}, {"stride", "1"}, {"pad", "1"}}, {x});
  x = b.add("a.bn", "bn", {}, {b.add("a", "conv", {{"out", "24"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}}, {x})});
  x = b.add("p1", "maxpool", {{"k", "3"}, {"stride", "2"}, {"ceil", "true"}}, {x});
  x = b.add("c", "conv", {{"out", "32"}, {"k", "1"}}, {x});
  add_classifier(b, b.add("c.relu", "relu", {}, {x}));
  return b.spec;
}

// ResNet-20's downsampling block: the stem's output read by a (3x3, stride 2) and by the option-A
// shortcut through a's plane; a writes into b's plane; b's output, only added by the shortcut's
// chain, goes into b's own unpadded plane; the shortcut (subsampled, 8 channels of zeros either
// side: a lane shift at AVX-512's 16 lanes) writes into c's plane; c unpacks for the classifier.
ModelSpec pad_shortcut_handoff_spec() {
  SpecBuilder b({3, 12, 10}, "blocked_pad_shortcut_handoffs");
  const KeyValues k3 = {{"out", "32"}, {"k", "3"}, {"pad", "1"}, {"bias", "false"}};
  const int s = b.add("stem.relu", "relu", {}, {b.add("stem", "conv", {{"out", "16"}, {"k", "3"}, {"pad", "1"}}, {-1})});
  int x = b.add("a", "conv", {{"out", "32"}, {"k", "3"}, {"pad", "1"}, {"stride", "2"}, {"bias", "false"}}, {s});
  x = b.add("a.relu", "relu", {}, {b.add("a.bn", "bn", {}, {x})});
  x = b.add("b.bn", "bn", {}, {b.add("b", "conv", k3, {x})});
  const int sc = b.add("shortcut", "shortcut", {{"out", "32"}, {"stride", "2"}, {"type", "A"}}, {s});
  x = b.add("sum.relu", "relu", {}, {b.add("sum", "add", {}, {x, sc})});
  add_classifier(b, b.add("c.bn", "bn", {}, {b.add("c", "conv", k3, {x})}));
  return b.spec;
}

// An inference forward of net (fresh weights, BN statistics from seed) on a random batch
// without handoffs, then with them twice (the second reuses the buffers: borders zeroed again).
struct HandoffRuns {
  std::vector<float> plain, handed, again;
  int handoffs = 0;
  std::vector<LayerSummary> layers;  // with the kernels of the inference plan
};
HandoffRuns run_handoffs(Net& net, int64_t batch, uint64_t seed, int H = 12, int W = 10) {
  net.init(seed);
  randomize_batchnorms(net, seed + 1);
  Tensor x({batch, 3, H, W});
  Rng rng(seed + 2);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 1.f);
  RunContext ctx;
  ctx.train = false;
  Net::InferenceScope scope(net);
  HandoffRuns r;
  net.set_blocked_handoffs(false);
  r.plain = values(net.forward(x, ctx));
  CHECK(net.blocked_handoffs() == 0);
  net.set_blocked_handoffs(true);
  r.handed = values(net.forward(x, ctx));
  r.handoffs = net.blocked_handoffs();
  r.again = values(net.forward(x, ctx));
  r.layers = net.summary();
  return r;
}

// Whether every convolution (and projection shortcut) of net runs the blocked kernels (the
// 3-channel stem: blocked stem).
bool every_conv_blocked(const HandoffRuns& r) {
  for (const LayerSummary& l : r.layers)
    if ((l.type == "conv" || (l.type == "shortcut" && !l.kernel.empty())) && l.kernel.rfind("blocked", 0) != 0)
      return false;
  return true;
}

// The same bits with and without handoffs at every ISA level, 1 and 2 threads, batch 1 and 3, and
// `expected` handoffs (`which`) where every convolution runs blocked (none at the generic level).
void check_handoff_bits(ModelSpec (*spec)(), uint64_t seed, int expected, const char* which, int H = 12, int W = 10) {
  for_each_isa([&] {
    for (int threads : {1, 2}) {
      ThreadGuard tg(threads);
      for (int64_t batch : {1, 3}) {
        INFO("threads " << threads << " batch " << batch);
        Net net(spec());
        const HandoffRuns r = run_handoffs(net, batch, seed, H, W);
        CHECK(r.handed == r.plain);
        CHECK(r.again == r.plain);
        INFO(which << " hand over where every convolution runs blocked");
        if (every_conv_blocked(r)) CHECK(r.handoffs == expected);
        else if (active_isa() != Isa::generic)
          WARN("skipped: the handoff count (the planner gives some of these convolutions to SGEMM here)");
        if (active_isa() == Isa::generic) CHECK(r.handoffs == 0);
      }
    }
  });
}

}  // namespace

TEST_CASE("inference fusion: blocked handoffs between convolutions give the same bits", "[graph][net][fusion]") {
  for_each_isa([&] {
    for (int threads : {1, 2}) {
      ThreadGuard tg(threads);
      for (int64_t batch : {1, 5}) {
        // whole batches, and groups of one or two images per convolution call (conv_direct.h)
        const int64_t budget = batch == 1 ? 0 : 4000;
        set_direct_conv_group_budget(budget);
        INFO("threads " << threads << " batch " << batch << " group budget " << budget);
        Net net(handoff_spec());
        const HandoffRuns r = run_handoffs(net, batch, 21);
        CHECK(r.handed == r.plain);
        CHECK(r.again == r.plain);
        // stem -> a, a -> b and b -> c where both run the blocked kernels (the stem's 3 input
        // channels: blocked stem; the planner may give 1x1 and strided ones to SGEMM)
        int pairs = 0;
        bool before = false;
        for (const LayerSummary& l : r.layers) {
          if (l.name != "stem" && l.name != "a" && l.name != "b" && l.name != "c") continue;
          const bool blocked = l.kernel.rfind("blocked", 0) == 0;
          pairs += before && blocked;
          before = blocked;
        }
        INFO("handoffs planned where both sides run blocked");
        CHECK(r.handoffs == pairs);
        if (active_isa() != Isa::generic) CHECK(pairs > 0);
      }
    }
  });
  set_direct_conv_group_budget(0);
}

TEST_CASE("inference fusion: blocked handoffs with residuals in either layout give the same bits", "[graph][net][fusion]") {
  check_handoff_bits(residual_handoff_spec, 31, 10, "the stem, a, b, c, d, f, g, h, i and j");
}

TEST_CASE("inference fusion: Winograd convolutions between handoffs give the same bits", "[graph][net][fusion]") {
  check_handoff_bits(residual_winograd_spec, 33, 10, "the stem, a, b, c, d, f, g, h, i and j", 16, 24);
  for_each_isa([] {
    Net net(residual_winograd_spec());
    const HandoffRuns r = run_handoffs(net, 3, 33, 16, 24);
    int winograd = 0;
    for (const LayerSummary& l : r.layers) winograd += l.kernel.find("winograd") != std::string::npos;
    INFO("b, d and g run Winograd (3x3, stride 1, 128 channels, 288 tiles) where the blocked kernels run");
    CHECK(winograd == (active_isa() == Isa::generic ? 0 : 3));
  });
}

TEST_CASE("inference fusion: an option-A shortcut between handoffs gives the same bits", "[graph][net][fusion]") {
  check_handoff_bits(pad_shortcut_handoff_spec, 37, 4, "the stem (to a and the shortcut), a, b and the shortcut");
}

TEST_CASE("inference fusion: blocked depthwise convolutions between handoffs give the same bits", "[graph][net][fusion]") {
  for_each_isa([&] {
    for (int threads : {1, 2}) {
      ThreadGuard tg(threads);
      for (int64_t batch : {1, 3}) {
        INFO("threads " << threads << " batch " << batch);
        Net net(depthwise_handoff_spec());
        const HandoffRuns r = run_handoffs(net, batch, 41);
        CHECK(r.handed == r.plain);
        CHECK(r.again == r.plain);
        bool pointwise_blocked = true;
        Net::InferenceScope scope(net);  // the kernels of the inference plan
        RunContext ctx;
        ctx.train = false;
        net.forward(Tensor({batch, 3, 12, 10}), ctx);
        for (const LayerSummary& l : net.summary()) {
          if (l.name == "p1" || l.name == "p2") pointwise_blocked &= l.kernel.rfind("blocked", 0) == 0;
        }
        for (const LayerSummary& l : net.summary()) {
          const bool simd = active_isa() != Isa::generic;
          INFO(l.name << ": " << l.kernel);
          if (l.name == "stem") CHECK((l.kernel.rfind("blocked stem", 0) == 0) == simd);
          // dw1 reads the stem's plane; dw3 a plane only from a blocked p2
          if (l.name == "dw1") CHECK((l.kernel.rfind("blocked depthwise", 0) == 0) == simd);
          if (l.name == "dw3") CHECK((l.kernel.rfind("blocked depthwise", 0) == 0) == (simd && pointwise_blocked));
        }
        INFO("stem -> dw1 -> p1 -> dw2 -> p2 -> dw3 hand over where the pointwise convolutions run blocked");
        if (pointwise_blocked) CHECK(r.handoffs == 5);
        else if (active_isa() != Isa::generic)
          WARN("skipped: the handoff count (the planner gives a pointwise convolution to SGEMM here)");
        if (active_isa() == Isa::generic) CHECK(r.handoffs == 0);
      }
    }
  });
}

TEST_CASE("inference fusion: blocked max pools between handoffs give the same bits", "[graph][net][fusion]") {
  check_handoff_bits(maxpool_handoff_spec, 51, 4, "stem -> p0 -> a -> p1 -> c");
}
