// LayerArgs typed getters, their error messages and finish().
#include <catch2/catch.hpp>

#include "layers/layer_args.h"
#include "config/config_test_util.h"

using cnn::ArgValue;
using cnn::LayerArgs;
using cnn::SourceLoc;
using cnn::testing::config_error;

namespace {

ArgValue scalar(const std::string& s, int col) { return ArgValue{{s}, false, SourceLoc{"models/x.yaml", 12, col}}; }
ArgValue list(std::vector<std::string> items, int col) {
  return ArgValue{std::move(items), true, SourceLoc{"models/x.yaml", 12, col}};
}

LayerArgs conv_args() {
  LayerArgs a("conv1", "conv", SourceLoc{"models/x.yaml", 12, 5});
  a.set("out", scalar("6", 14));
  a.set("k", scalar("5", 20));
  a.set("pad", list({"1", "2"}, 26));
  a.set("lr", scalar("1e-4", 40));
  a.set("bias", scalar("off", 50));
  a.set("mode", scalar("fan_in", 60));
  a.set("mean", list({"0.5", "0.25", "1"}, 70));
  return a;
}

}  // namespace

TEST_CASE("LayerArgs: getters", "[layers][layer_args]") {
  LayerArgs a = conv_args();
  CHECK(a.get_int("out") == 6);
  CHECK(a.get_int("groups", 1) == 1);
  CHECK(a.get_ints("k", 2, {1, 1}) == std::vector<int64_t>{5, 5});
  CHECK(a.get_ints("pad", 2, {0, 0}) == std::vector<int64_t>{1, 2});
  CHECK(a.get_ints("dilation", 2, {1, 1}) == std::vector<int64_t>{1, 1});
  CHECK(a.get_ints("pad", 0, {}) == std::vector<int64_t>{1, 2});  // n = 0: any length
  CHECK(a.get_float("lr") == Approx(1e-4));
  CHECK(a.get_float("out") == 6.0);  // ints are numbers too
  CHECK(a.get_float("momentum", 0.9) == 0.9);
  CHECK_FALSE(a.get_bool("bias", true));
  CHECK(a.get_bool("inplace", true));
  CHECK(a.get_string("mode", "x") == "fan_in");
  CHECK(a.get_floats("mean", {}) == std::vector<double>{0.5, 0.25, 1.0});
  CHECK(a.get_floats("lr", {}) == std::vector<double>{1e-4});
  CHECK(a.path() == "conv1");
  CHECK(a.type() == "conv");
  CHECK_NOTHROW(a.finish());
}

TEST_CASE("LayerArgs: bools", "[layers][layer_args]") {
  for (const char* t : {"true", "True", "yes", "on", "1"}) {
    LayerArgs a("l", "conv", {});
    a.set("b", scalar(t, 1));
    CHECK(a.get_bool("b", false));
  }
  for (const char* f : {"false", "FALSE", "no", "off", "0"}) {
    LayerArgs a("l", "conv", {});
    a.set("b", scalar(f, 1));
    CHECK_FALSE(a.get_bool("b", true));
  }
}

TEST_CASE("LayerArgs: type errors name file:line:col, layer and field", "[layers][layer_args]") {
  LayerArgs a("conv1", "conv", SourceLoc{"models/x.yaml", 12, 5});
  a.set("k", scalar("abc", 20));
  a.set("out", scalar("6.5", 14));
  a.set("stride", list({"1", "2", "3"}, 30));
  a.set("bias", scalar("maybe", 40));
  a.set("lr", scalar("1e-4x", 45));
  a.set("mode", list({"a", "b"}, 50));
  a.set("mean", list({"0.5", "x"}, 55));
  CHECK(config_error([&] { a.get_ints("k", 2, {3, 3}); }) ==
        "models/x.yaml:12:20: conv1: field 'k' expects an integer or a list of 2 integers, got 'abc'");
  CHECK(config_error([&] { a.get_int("out"); }) ==
        "models/x.yaml:12:14: conv1: field 'out' expects an integer, got '6.5'");
  CHECK(config_error([&] { a.get_ints("stride", 2, {1, 1}); }) ==
        "models/x.yaml:12:30: conv1: field 'stride' expects an integer or a list of 2 integers, got [1, 2, 3]");
  CHECK(config_error([&] { a.get_int("stride", 1); }) ==
        "models/x.yaml:12:30: conv1: field 'stride' expects an integer, got [1, 2, 3]");
  CHECK(config_error([&] { a.get_bool("bias", true); }) ==
        "models/x.yaml:12:40: conv1: field 'bias' expects true or false, got 'maybe'");
  CHECK(config_error([&] { a.get_float("lr"); }) == "models/x.yaml:12:45: conv1: field 'lr' expects a number, got '1e-4x'");
  CHECK(config_error([&] { a.get_string("mode", ""); }) ==
        "models/x.yaml:12:50: conv1: field 'mode' expects a string, got [a, b]");
  CHECK(config_error([&] { a.get_floats("mean", {}); }) ==
        "models/x.yaml:12:55: conv1: field 'mean' expects a number or a list of numbers, got [0.5, x]");
  CHECK(config_error([&] { a.get_int("groups"); }) ==
        "models/x.yaml:12:5: conv1: missing required argument 'groups' for layer type 'conv'");
  CHECK(config_error([&] { a.get_float("p"); }) ==
        "models/x.yaml:12:5: conv1: missing required argument 'p' for layer type 'conv'");
}

TEST_CASE("LayerArgs: finish rejects unread keys with did-you-mean", "[layers][layer_args]") {
  LayerArgs a("layer1.0.conv1", "conv", SourceLoc{"m.yaml", 3, 7});
  a.set("out", scalar("6", 14));
  a.set("kernel", scalar("3", 21));
  a.get_int("out");
  a.get_ints("k", 2, {1, 1});
  a.get_ints("stride", 2, {1, 1});
  a.get_ints("pad", 2, {0, 0});
  CHECK(config_error([&] { a.finish(); }) ==
        "models/x.yaml:12:21: layer1.0.conv1: unknown argument 'kernel' for layer type 'conv' (did you mean 'k'?); "
        "accepted: k, out, pad, stride");

  LayerArgs r("3", "relu", SourceLoc{"m.yaml", 4, 5});
  r.set("slope", scalar("0.1", 12));
  CHECK(config_error([&] { r.finish(); }) ==
        "models/x.yaml:12:12: 3: unknown argument 'slope' for layer type 'relu'; it takes no arguments");
}

TEST_CASE("LayerArgs: fail", "[layers][layer_args]") {
  LayerArgs a("conv1", "conv", SourceLoc{"m.yaml", 3, 7});
  a.set("k", scalar("9", 20));
  CHECK(config_error([&] { a.fail("kernel 9x9 is larger than the 5x5 input"); }) ==
        "m.yaml:3:7: conv1: kernel 9x9 is larger than the 5x5 input");
  CHECK(config_error([&] { a.fail("k", "must be odd"); }) == "models/x.yaml:12:20: conv1: field 'k': must be odd");
  CHECK(config_error([&] { a.fail("pad", "too big"); }) == "m.yaml:3:7: conv1: field 'pad': too big");
}
