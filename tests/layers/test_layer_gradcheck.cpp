// Every registered layer through the finite-difference checker (tests/gradcheck.h), at batch 1
// and at a batch larger than the thread count, with 1, 2 and 3 threads (conv has separate code
// paths for N < threads and N >= threads).
#include <catch2/catch.hpp>

#include "isa_levels.h"
#include <set>
#include <string>
#include <vector>

#include "../gradcheck.h"
#include "../thread_guard.h"
#include "../layer_builder.h"
#include "core/parallel.h"
#include "layers/registry.h"

using namespace cnn;
using namespace cnn::test;

namespace {

struct Case {
  std::string label;
  std::string type;
  KeyValues args;
  std::vector<Shape> inputs;  // per sample (no batch dim)
  bool distinct = false;      // well-separated inputs (max pooling)
  bool train = true;
  int max_checks = 96;
  bool threaded = false;      // has multi-threaded code paths: also run with 2 and 3 threads
  int64_t min_batch = 1;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"conv 3x3 pad 1", "conv", {{"out", "4"}, {"k", "3"}, {"pad", "1"}}, {{3, 6, 6}}},
      {"conv 3x3 no pad", "conv", {{"out", "2"}, {"k", "3"}}, {{2, 5, 5}}},
      {"conv stride 2 pad 1", "conv", {{"out", "3"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}}, {{2, 7, 7}}, false, true,
       96, true},
      {"conv dilation 2", "conv", {{"out", "3"}, {"k", "3"}, {"pad", "2"}, {"dilation", "2"}}, {{2, 7, 6}}},
      {"conv groups 2", "conv", {{"out", "6"}, {"k", "3"}, {"pad", "1"}, {"groups", "2"}}, {{4, 5, 5}}, false, true, 96,
       true},
      {"conv depthwise", "conv", {{"out", "4"}, {"k", "3"}, {"pad", "1"}, {"groups", "4"}}, {{4, 5, 6}}, false, true, 96,
       true},
      {"conv no bias", "conv", {{"out", "3"}, {"k", "3"}, {"bias", "false"}}, {{2, 5, 5}}},
      {"conv 1x3", "conv", {{"out", "3"}, {"k", "[1, 3]"}, {"pad", "[0, 1]"}}, {{2, 4, 6}}},
      {"conv 3x2 stride (2,1)", "conv", {{"out", "2"}, {"k", "[3, 2]"}, {"stride", "[2, 1]"}, {"pad", "1"}},
       {{3, 7, 5}}},
      {"conv 1x1 pointwise", "conv", {{"out", "3"}, {"k", "1"}}, {{5, 4, 3}}, false, true, 96, true},
      {"conv 1x1 pointwise groups", "conv", {{"out", "4"}, {"k", "1"}, {"groups", "2"}}, {{6, 3, 3}}},
      {"conv 1x1 stride 2", "conv", {{"out", "3"}, {"k", "1"}, {"stride", "2"}}, {{2, 5, 5}}},
      // Large enough for conv's parallel GEMM (N < threads) and multi-threaded partial sums.
      {"conv large", "conv", {{"out", "16"}, {"k", "3"}, {"pad", "1"}}, {{8, 24, 24}}, false, true, 24, true},
      // Depthwise (groups == in channels): the direct kernel in kernels/depthwise.cpp.
      {"conv depthwise stride 2", "conv", {{"out", "3"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"groups", "3"}},
       {{3, 9, 8}}, false, true, 96, true},
      {"conv depthwise 5x5 dilation 2", "conv",
       {{"out", "2"}, {"k", "5"}, {"pad", "4"}, {"dilation", "2"}, {"groups", "2"}}, {{2, 9, 9}}},
      {"conv depthwise multiplier 2", "conv", {{"out", "6"}, {"k", "3"}, {"pad", "1"}, {"groups", "3"}}, {{3, 6, 5}},
       false, true, 96, true},
      {"conv depthwise stride (2,1) no bias wide", "conv",
       {{"out", "3"}, {"k", "3"}, {"stride", "[2, 1]"}, {"pad", "[0, 1]"}, {"groups", "3"}, {"bias", "false"}},
       {{3, 7, 37}}},
      {"conv depthwise 1x3 stride 3", "conv",
       {{"out", "2"}, {"k", "[1, 3]"}, {"stride", "3"}, {"pad", "[1, 2]"}, {"groups", "2"}}, {{2, 7, 10}}},
      {"conv_transpose 3x3", "conv_transpose", {{"out", "3"}, {"k", "3"}}, {{2, 4, 4}}},
      {"conv_transpose stride 2 pad 1 output_pad 1", "conv_transpose",
       {{"out", "3"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"output_pad", "1"}}, {{2, 4, 5}}, false, true, 96,
       true},
      {"conv_transpose groups 2", "conv_transpose",
       {{"out", "4"}, {"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"groups", "2"}}, {{4, 3, 3}}, false, true, 96, true},
      {"conv_transpose dilation 2", "conv_transpose", {{"out", "2"}, {"k", "3"}, {"pad", "1"}, {"dilation", "2"}},
       {{3, 4, 4}}},
      {"conv_transpose [2,3] stride [2,1] no bias", "conv_transpose",
       {{"out", "2"}, {"k", "[2, 3]"}, {"stride", "[2, 1]"}, {"pad", "[0, 1]"}, {"bias", "false"}}, {{3, 3, 4}}},
      {"conv_transpose output_pad 2 via dilation 3", "conv_transpose",
       {{"out", "2"}, {"k", "3"}, {"dilation", "3"}, {"output_pad", "2"}}, {{2, 3, 3}}},
      {"conv_transpose 1x1", "conv_transpose", {{"out", "3"}, {"k", "1"}}, {{4, 3, 3}}},
      {"conv_transpose large", "conv_transpose", {{"out", "8"}, {"k", "4"}, {"stride", "2"}, {"pad", "1"}},
       {{8, 10, 10}}, false, true, 24, true},
      {"linear", "linear", {{"out", "5"}}, {{7}}},
      {"linear no bias", "linear", {{"out", "3"}, {"bias", "no"}}, {{4}}},
      // N x 512 -> 128: at batch >= 4 big enough for sgemm_parallel to split.
      {"linear large", "linear", {{"out", "128"}}, {{512}}, false, true, 32, true},
      {"maxpool 2", "maxpool", {{"k", "2"}}, {{2, 6, 6}}, true},
      {"maxpool 3 s2 p1 ceil", "maxpool", {{"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"ceil", "true"}},
       {{2, 8, 7}}, true, true, 96, true},
      {"maxpool 3 s2 ceil overhang", "maxpool", {{"k", "3"}, {"stride", "2"}, {"ceil", "true"}}, {{1, 6, 6}}, true},
      {"maxpool [2,3]", "maxpool", {{"k", "[2, 3]"}, {"stride", "[2, 1]"}}, {{2, 5, 6}}, true},
      // Inputs: the values (pool output shape) and the max pool's input, whose argmax places them.
      {"max_unpool 2", "max_unpool", {{"k", "2"}}, {{2, 3, 3}, {2, 6, 6}}, true},
      // Not overlapping windows: there a maximum can be chosen twice, the forward keeps the later
      // value and, like PyTorch's, the backward gathers for both (tests/layers/test_torch_parity.cpp).
      {"max_unpool [2,3] stride [2,3] ceil", "max_unpool",
       {{"k", "[2, 3]"}, {"stride", "[2, 3]"}, {"ceil", "true"}}, {{2, 4, 3}, {2, 7, 8}}, true, true, 96, true},
      {"avgpool 2", "avgpool", {{"k", "2"}}, {{2, 6, 6}}},
      {"avgpool 3 s2 p1 ceil", "avgpool", {{"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"ceil", "true"}}, {{2, 8, 7}}},
      {"avgpool 3 s2 p1 ceil exclude pad", "avgpool",
       {{"k", "3"}, {"stride", "2"}, {"pad", "1"}, {"ceil", "true"}, {"count_include_pad", "false"}},
       {{2, 8, 7}}, false, true, 96, true},
      {"avgpool 2 p1 exclude pad", "avgpool", {{"k", "2"}, {"pad", "1"}, {"count_include_pad", "false"}},
       {{1, 5, 5}}},
      {"relu", "relu", {}, {{3, 4, 4}}},
      {"leaky_relu", "leaky_relu", {{"slope", "0.1"}}, {{3, 4, 4}}},
      {"leaky_relu default", "leaky_relu", {}, {{10}}},
      {"tanh", "tanh", {}, {{2, 3, 5}}},
      {"sigmoid", "sigmoid", {}, {{2, 3, 5}}},
      {"scale", "scale", {{"factor", "0.125"}}, {{2, 3, 5}}},
      {"flatten", "flatten", {}, {{2, 3, 4}}},
      {"identity", "identity", {}, {{2, 3, 4}}},
      {"dropout train", "dropout", {{"p", "0.3"}}, {{3, 5, 5}}},
      {"dropout eval", "dropout", {{"p", "0.3"}}, {{3, 5, 5}}, false, false},
      {"dropout2d train", "dropout2d", {{"p", "0.4"}}, {{6, 3, 3}}},
      {"dropout2d eval", "dropout2d", {{"p", "0.4"}}, {{3, 3, 3}}, false, false},
      {"drop_path train", "drop_path", {{"p", "0.4"}}, {{3, 2, 2}}},
      {"drop_path eval", "drop_path", {{"p", "0.4"}}, {{3, 2, 2}}, false, false},
      // alpha large enough that the cross-channel term of the gradient matters.
      {"lrn size 3", "lrn", {{"size", "3"}, {"alpha", "2"}, {"beta", "0.75"}, {"k", "1"}}, {{5, 3, 3}}},
      {"lrn size 4 (asymmetric)", "lrn", {{"size", "4"}, {"alpha", "1.5"}, {"beta", "0.6"}, {"k", "0.5"}}, {{6, 2, 3}}},
      {"lrn size 5 > C, N x C x L", "lrn", {{"size", "5"}, {"alpha", "3"}, {"k", "2"}}, {{3, 4}}},
      // 20 x 20 pixels: several pixel blocks per image, split across threads.
      {"lrn size 5 multi-block", "lrn", {{"size", "5"}, {"alpha", "1"}, {"k", "2"}}, {{7, 20, 20}}, false, true, 32,
       true},
      {"global_avgpool", "global_avgpool", {}, {{3, 4, 5}}},
      {"adaptive_avgpool 7 from 13", "adaptive_avgpool", {{"out", "7"}}, {{2, 13, 13}}, false, true, 96, true},
      {"adaptive_avgpool [3,2] from 5x7", "adaptive_avgpool", {{"out", "[3, 2]"}}, {{2, 5, 7}}},
      {"adaptive_avgpool upsample 5 from 3", "adaptive_avgpool", {{"out", "5"}}, {{2, 3, 3}}},
      {"add 2", "add", {}, {{2, 3, 3}, {2, 3, 3}}},
      {"add 3", "add", {}, {{4}, {4}, {4}}},
      {"concat 2", "concat", {}, {{2, 3, 3}, {3, 3, 3}}},
      {"concat 3", "concat", {}, {{1, 2, 2}, {2, 2, 2}, {1, 2, 2}}},
      {"concat 2-D", "concat", {}, {{3}, {5}}},
      {"bn train", "bn", {}, {{3, 4, 4}}, false, true, 96, true},
      {"bn eval", "bn", {}, {{3, 4, 4}}, false, false},
      {"bn no affine", "bn", {{"affine", "false"}}, {{2, 3, 3}}},
      {"bn 2-D", "bn", {}, {{5}}, false, true, 96, false, 2},
      {"relu6", "relu6", {}, {{3, 4, 4}}},  // the clamp at 6: tests/layers/test_shortcut_relu6.cpp
      {"shortcut identity", "shortcut", {{"out", "3"}}, {{3, 4, 4}}},
      {"shortcut B projection stride 2", "shortcut", {{"out", "5"}, {"stride", "2"}}, {{3, 5, 6}}, false, true, 96,
       true, 2},
      {"shortcut B projection eval", "shortcut", {{"out", "4"}}, {{2, 3, 3}}, false, false},
      {"shortcut A pad stride 2", "shortcut", {{"out", "6"}, {"stride", "2"}, {"type", "A"}}, {{2, 5, 4}}},
      {"shortcut A pad odd", "shortcut", {{"out", "5"}, {"stride", "3"}, {"type", "A"}}, {{2, 7, 7}}},
      {"shortcut identity type, mismatch (zeros)", "shortcut", {{"out", "4"}, {"type", "identity"}}, {{2, 3, 3}}},
  };
  return all;
}

void run(const Case& c, int64_t batch, uint64_t seed, int max_checks) {
  auto layer = build_layer(c.type, c.args);
  GradCheck gc;
  for (Shape s : c.inputs) {
    s.insert(s.begin(), batch);
    gc.inputs.push_back(s);
  }
  gc.seed = seed;
  gc.distinct = c.distinct;
  gc.train = c.train;
  gc.fd.max_checks = max_checks;
  auto rep = gradcheck_layer(*layer, gc);
  INFO(c.label << ", batch " << batch << ", threads " << num_threads());
  CHECK_GRADS(rep);
}

}  // namespace

TEST_CASE("gradcheck: every registered layer type has a case", "[layers][gradcheck]") {
  std::set<std::string> covered;
  for (const Case& c : cases()) covered.insert(c.type);
  for (const std::string& name : layer_type_names()) {
    INFO("layer type '" << name << "' is registered but has no gradcheck case in " << __FILE__);
    CHECK(covered.count(name) == 1);
  }
}

TEST_CASE("gradcheck: all layers, batch 1 and batch 3, one thread", "[layers][gradcheck]") {
  cnn::test::for_each_isa([&] {
    ThreadGuard tg(1);
    uint64_t seed = 1;
    for (const Case& c : cases())
      for (int64_t batch : {int64_t(1), int64_t(3)})
        if (batch >= c.min_batch) run(c, batch, seed++, c.max_checks);
  });
}

// Thread wake-ups dominate the cost here (especially on a loaded machine): fewer entries.
TEST_CASE("gradcheck: threaded layers, batch 1 and batch > threads, 2 and 3 threads", "[layers][gradcheck]") {
  cnn::test::for_each_isa([&] {
    for (int threads : {2, 3}) {
      ThreadGuard tg(threads);
      uint64_t seed = 1000;
      for (const Case& c : cases()) {
        if (!c.threaded) continue;
        for (int64_t batch : {int64_t(1), int64_t(threads + 2)})
          if (batch >= c.min_batch) run(c, batch, seed++, 12);
      }
    }
  });
}
