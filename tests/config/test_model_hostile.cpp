// Hostile model configs (issue 15): deep nesting, alias bombs, endless repeats, layers or inputs
// too large for the machine, sizes that overflow. Each is one ConfigError naming the file and the
// field or layer, raised before anything large is allocated.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "config/model_spec.h"
#include "config_test_util.h"
#include "core/memory_budget.h"
#include "graph/net.h"

using namespace cnn;
using cnn::testing::config_error;

namespace {

// Loads and builds the model (as `cnn summary` does); returns the ConfigError message.
std::string build_error(const std::string& yaml) {
  return config_error([&] { Net net(load_model_string(yaml, "m.yaml")); });
}

// "[&a0 [x, ...10], &a1 [*a0, ...10], ...]": 10^levels scalars when expanded.
std::string alias_bomb(int levels) {
  std::string s = "[&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (int i = 1; i < levels; ++i) {
    s += ", &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) s += (k ? ", *a" : "*a") + std::to_string(i - 1);
    s += "]";
  }
  return s + "]";
}

}  // namespace

TEST_CASE("model hostile: deep nesting and alias bombs", "[config][hostile]") {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string deep = "input: [1, 4, 4]\nlayers: " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  CHECK_THAT(build_error(deep), Catch::StartsWith("m.yaml:2:") &&
                                    Catch::Contains("YAML nested more than 499 levels deep: not a config file"));
  const std::string bomb = alias_bomb(10);  // 10^10 scalars if anything walked it expanded
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {conv: {out: 8, k: " + bomb + "}}\n"),
             Catch::StartsWith("m.yaml:3:") && Catch::Contains("field 'k' expects a scalar or a flat list of scalars"));
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {relu: {}, name: " + bomb + "}\n"),
             Catch::Contains("field 'name' expects a name made of letters") && Catch::Contains("[...], ...]"));
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers: " + bomb + "\n"), Catch::Contains("a list is not an element"));
  // Nested blocks that would expand to 10^10 layers stop at the layer limit.
  std::string blocks = "input: [1, 4, 4]\nblocks:\n  b0: {layers: [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]}\n";
  for (int i = 1; i < 10; ++i) {
    blocks += "  b" + std::to_string(i) + ": {layers: [";
    for (int k = 0; k < 10; ++k) blocks += (k ? ", b" : "b") + std::to_string(i - 1);
    blocks += "]}\n";
  }
  CHECK_THAT(build_error(blocks + "layers: [b9]\n"),
             Catch::Contains("the model expands to more than 100000 layers (a repeat or nested blocks too large?)"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("model hostile: sizes that overflow or exceed the memory budget", "[config][hostile]") {
  CHECK(build_error("input: [1, 4, 4]\nlayers:\n  - {relu: {}, repeat: 1000000000}\n") ==
        "m.yaml:3:24: 0: field 'repeat': 1000000000 repetitions make more than 100000 layers");
  CHECK(build_error("input: [4611686018427387904, 4, 4]\nlayers: [relu]\n") ==
        "m.yaml:1:8: input: [4611686018427387904, 4, 4] has more than 1099511627776 elements per sample");
  CHECK(build_error("input: [1048576, 1048576, 1024]\nlayers: [relu]\n").find("has more than 1099511627776") !=
        std::string::npos);
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {conv: {out: 4611686018427387904, k: 3}}\n"),
             Catch::EndsWith("field 'out' expects an integer, got '4611686018427387904' (too large: layer arguments "
                             "are at most 2147483647)"));
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {conv: {out: 4, k: 3, pad: -9223372036854775808}}\n"),
             Catch::Contains("(too large: layer arguments are at most 2147483647)"));
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {conv: {out: -3, k: 3}}\n"),
             Catch::Contains("field 'out': expects an integer >= 1"));
  CHECK_THAT(build_error("input: [1, 4, 4]\nlayers:\n  - {linear: {out: 0}}\n"), Catch::Contains("field 'out'"));
  CHECK_THAT(build_error("input: [0, 4, 4]\nlayers: [relu]\n"),
             Catch::Contains("input: expected a list of 3 positive integers"));

  // A 1e12-parameter layer: refused with the size it needs, before allocating it.
  const std::string linear = build_error("input: [1, 1000, 1000]\nlayers:\n  - flatten\n  - {linear: {out: 1000000}, name: fc}\n");
  CHECK_THAT(linear, Catch::StartsWith("m.yaml:4:5: fc: linear layer: a tensor of 1000000000000 floats needs 3.64 TiB, "
                                       "more than the memory budget of "));
  // Activations of a 100000 x 100000 input: refused by the plan's running total.
  const std::string input = build_error("input: [3, 100000, 100000]\nlayers:\n  - relu\n");
  CHECK_THAT(input, Catch::Contains("relu layer: model 'm' at batch 1 up to layer '0' (parameters with gradients") &&
                        Catch::Contains("activations 112 GiB) needs 112 GiB, more than the memory budget"));
}

TEST_CASE("memory budget: sizes, formatting, overflow", "[core][hostile]") {
  const MemoryBudget& b = memory_budget();
  CHECK(b.bytes > (uint64_t(64) << 20));
  CHECK(!b.source.empty());
  CHECK(format_bytes(512) == "512 bytes");
  CHECK(format_bytes(1536) == "1.50 KiB");
  CHECK(format_bytes(4e12) == "3.64 TiB");
  CHECK(format_bytes(640.0 * 1024 * 1024 * 1024) == "640 GiB");
  const int64_t ok[] = {2, 3, 0, int64_t(1) << 62};
  CHECK(checked_numel(ok, 4) == 0);
  CHECK(checked_numel(ok, 2) == 6);
  const int64_t big[] = {int64_t(1) << 31, int64_t(1) << 31, 2};
  CHECK_THROWS_AS(checked_numel(big, 3), MemoryBudgetError);
  const int64_t neg[] = {4, -1};
  CHECK_THROWS_AS(checked_numel(neg, 2), MemoryBudgetError);
  CHECK_THROWS_WITH(check_memory_budget(double(b.bytes) * 2, "this"),
                    Catch::StartsWith("this needs ") && Catch::Contains("more than the memory budget of"));
  CHECK_NOTHROW(check_memory_budget(1024, "this"));
  CHECK_THROWS_AS(Tensor(Shape{int64_t(1) << 40, int64_t(1) << 20}), MemoryBudgetError);
}
