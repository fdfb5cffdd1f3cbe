// Model-level `args:` (classes, MobileNet's alpha): the model file's defaults, recipe model_args,
// --set model.classes, and with_model_classes (the dataset's count unless the recipe sets one).
#include <catch2/catch.hpp>

#include "config/recipe.h"
#include "config_test_util.h"
#include "graph/net.h"

using namespace cnn;
using cnn::testing::config_error;

namespace {

const std::string kModels = std::string(CNN_SOURCE_DIR) + "/configs/models";
const std::string kModel =
    "name: tiny\ninput: [1, 4, 4]\nargs: {classes: 7, width: 3}\n"
    "layers:\n  - {conv: {out: $width, k: 3, pad: 1}, name: conv}\n  - flatten\n"
    "  - {linear: {out: $classes}, name: fc}\n";

Shape out_of(const ModelSpec& m) { return Net(m).output_shape(); }

}  // namespace

TEST_CASE("model args: defaults, overrides by args.x or by the bare name, errors", "[config]") {
  CHECK(out_of(load_model_string(kModel, "m.yaml")) == Shape{7});
  CHECK(out_of(load_model_string(kModel, "m.yaml", {"classes=5"})) == Shape{5});
  CHECK(out_of(load_model_string(kModel, "m.yaml", {"args.classes=4"})) == Shape{4});
  const ModelSpec m = load_model_string(kModel, "m.yaml", {"width=2"});
  CHECK(m.has_arg("classes"));
  CHECK(m.args[1].first == "width");
  CHECK(m.args[1].second == std::vector<std::string>{"2"});
  CHECK(config_error([] { load_model_string("input: [1, 4, 4]\nargs: {classes: null}\nlayers: [flatten]\n", "m.yaml"); }) ==
        "m.yaml:2:17: args.classes: a model argument needs a value (set it in the recipe with model_args)");
  CHECK(config_error([] {
          load_model_string("input: [1, 4, 4]\nargs: {classes: 3}\nlayers: [flatten, {linear: {out: $clases}}]\n",
                            "m.yaml");
        }).find("unknown variable '$clases' (did you mean 'classes'?); the model has arguments: classes") !=
        std::string::npos);
}

TEST_CASE("every zoo model takes classes", "[config]") {
  for (const char* name : {"lenet5", "resnet18", "resnet20-cifar", "googlenet", "mobilenet_v1", "vgg11", "squeezenet1_1",
                           "densenet121", "inception_v3", "alexnet"}) {
    INFO(name);
    const ModelSpec m = load_model_file(kModels + "/" + name + ".yaml", {"classes=3"});
    CHECK(m.has_arg("classes"));
    const Net net(m);
    CHECK(net.output_shape() == Shape{3});
    for (size_t h = 0; h < m.heads.size(); ++h)  // side heads follow the count too
      CHECK(m.nodes[size_t(m.heads[h].node)].args.get_int("out", 0) == 3);
  }
  // MobileNet's width multiplier is a model argument as well
  CHECK(Net(load_model_file(kModels + "/mobilenet_v1.yaml", {"alpha=50"})).num_params() <
        Net(load_model_file(kModels + "/mobilenet_v1.yaml")).num_params());
}

TEST_CASE("recipe model_args and --set model.classes, with_model_classes fills in the dataset's count", "[config]") {
  const std::string recipe = "model: " + kModels + "/resnet20-cifar.yaml\ndata: {dataset: cifar10}\n";
  Recipe plain = load_recipe_string(recipe, "r.yaml", "");
  CHECK_FALSE(plain.classes_set);
  CHECK(out_of(plain.model) == Shape{10});
  Recipe fitted = with_model_classes(plain, 4);
  CHECK(fitted.classes_from_data);
  CHECK(out_of(fitted.model) == Shape{4});
  // the resolved YAML embeds the fitted model, so the run's config.yaml reloads with 4 outputs
  CHECK(out_of(load_recipe_string(fitted.resolved_yaml, "c.yaml", "").model) == Shape{4});

  Recipe set = load_recipe_string(recipe + "model_args: {classes: 6}\n", "r.yaml", "");
  CHECK(set.classes_set);
  CHECK(out_of(with_model_classes(set, 4).model) == Shape{6});
  CHECK(out_of(load_recipe_string(recipe, "r.yaml", "", {"model.classes=5"}).model) == Shape{5});
  CHECK(load_recipe_string(recipe, "r.yaml", "", {"model.classes=5"}).classes_set);
  // --set wins over model_args
  CHECK(out_of(load_recipe_string(recipe + "model_args: {classes: 6}\n", "r.yaml", "", {"model.classes=2"}).model) ==
        Shape{2});

  CHECK(config_error([&] { load_recipe_string(recipe + "model_args: {clases: 6}\n", "r.yaml", ""); }) ==
        "r.yaml:3:14: model_args.clases: the model has no argument 'clases' (did you mean 'classes'?); its "
        "arguments: classes");
  CHECK(config_error([&] { load_recipe_string(recipe + "model_args: 6\n", "r.yaml", ""); }) ==
        "r.yaml:3:13: model_args: expected a mapping of model arguments, e.g. {classes: 5}, got 6");
}
