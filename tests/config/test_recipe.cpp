// Recipe loading: defaults, validation, model path/inline, --set overrides, resolved_yaml.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/recipe.h"
#include "config_test_util.h"

using cnn::AnnealStrategy;
using cnn::BadImages;
using cnn::BestMetric;
using cnn::DatasetKind;
using cnn::EvalTta;
using cnn::load_recipe_file;
using cnn::OptimizerType;
using cnn::ScheduleType;
using cnn::load_recipe_string;
using cnn::Recipe;
using cnn::testing::config_error;
using cnn::testing::fixture;
namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures";

Recipe from_string(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_recipe_string(text, "r.yaml", kFixtures, overrides);
}

std::string recipe_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return config_error([&] { from_string(text, overrides); });
}

std::vector<std::string> names(const cnn::ModelSpec& m) {
  std::vector<std::string> out;
  for (const auto& n : m.nodes) out.push_back(n.name);
  return out;
}

// Same meaning (the fields a run uses).
void check_same(const Recipe& a, const Recipe& b) {
  CHECK(names(a.model) == names(b.model));
  CHECK(a.model.input == b.model.input);
  CHECK(a.model.name == b.model.name);
  for (size_t i = 0; i < a.model.nodes.size() && i < b.model.nodes.size(); ++i) {
    CHECK(a.model.nodes[i].type == b.model.nodes[i].type);
    CHECK(a.model.nodes[i].inputs == b.model.nodes[i].inputs);
    const auto& va = a.model.nodes[i].args.values();
    const auto& vb = b.model.nodes[i].args.values();
    REQUIRE(va.size() == vb.size());
    for (auto ia = va.begin(), ib = vb.begin(); ia != va.end(); ++ia, ++ib) {
      CHECK(ia->first == ib->first);
      CHECK(ia->second.items == ib->second.items);
      CHECK(ia->second.is_list == ib->second.is_list);
    }
  }
  CHECK(a.data.dataset == b.data.dataset);
  CHECK(a.data.root == b.data.root);
  CHECK(a.data.batch_size == b.data.batch_size);
  CHECK(a.data.eval_batch_size == b.data.eval_batch_size);
  CHECK(a.data.workers == b.data.workers);
  CHECK(a.data.train_limit == b.data.train_limit);
  CHECK(a.data.eval_limit == b.data.eval_limit);
  REQUIRE(a.data.train_transforms.size() == b.data.train_transforms.size());
  for (size_t i = 0; i < a.data.train_transforms.size(); ++i) {
    CHECK(a.data.train_transforms[i].type == b.data.train_transforms[i].type);
    CHECK(a.data.train_transforms[i].mean == b.data.train_transforms[i].mean);
    CHECK(a.data.train_transforms[i].std == b.data.train_transforms[i].std);
  }
  CHECK(a.data.eval_transforms.size() == b.data.eval_transforms.size());
  CHECK(a.train.epochs == b.train.epochs);
  CHECK(a.train.optimizer.type == b.train.optimizer.type);
  CHECK(a.train.optimizer.lr == b.train.optimizer.lr);
  CHECK(a.train.optimizer.momentum == b.train.optimizer.momentum);
  CHECK(a.train.optimizer.dampening == b.train.optimizer.dampening);
  CHECK(a.train.optimizer.nesterov == b.train.optimizer.nesterov);
  CHECK(a.train.optimizer.weight_decay == b.train.optimizer.weight_decay);
  CHECK(a.train.label_smoothing == b.train.label_smoothing);
  CHECK(a.train.seed == b.train.seed);
  CHECK(a.train.log_every == b.train.log_every);
  CHECK(a.output == b.output);
  CHECK(a.resolved_yaml == b.resolved_yaml);
}

// Writes resolved_yaml to a temporary file and loads it back.
Recipe reload(const Recipe& r, const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("cnn_test_resolved_" + std::to_string(::getpid()) + "_" + tag + ".yaml");
  {
    std::ofstream out(p);
    out << r.resolved_yaml;
  }
  Recipe again = load_recipe_file(p.string());
  fs::remove(p);
  return again;
}

}  // namespace

TEST_CASE("recipe: a file with a model path relative to the recipe", "[config][recipe]") {
  Recipe r = load_recipe_file(fixture("recipes/mnist-lenet5.yaml"));
  CHECK(r.file == fixture("recipes/mnist-lenet5.yaml"));
  CHECK(fs::equivalent(r.model_path, fixture("lenet5.yaml")));
  CHECK(r.model.name == "lenet5");
  CHECK(r.model.nodes.size() == 12);
  CHECK(r.data.dataset == DatasetKind::mnist);
  CHECK(r.data.root == "data/mnist");
  REQUIRE(r.data.train_transforms.size() == 1);
  CHECK(r.data.train_transforms[0].type == "normalize");
  CHECK(r.data.train_transforms[0].mean == std::vector<double>{0.1307});
  CHECK(r.data.train_transforms[0].std == std::vector<double>{0.3081});
  CHECK(r.data.eval_transforms.size() == 1);
  CHECK(r.data.batch_size == 32);
  CHECK(r.data.eval_batch_size == 0);
  CHECK(r.train.epochs == 2);
  CHECK(r.train.optimizer.type == OptimizerType::sgd);
  CHECK(r.train.optimizer.lr == 0.05);
  CHECK(r.train.optimizer.momentum == 0.9);
  CHECK(r.train.optimizer.nesterov);
  CHECK(r.train.optimizer.weight_decay == 5.0e-4);
  CHECK(r.train.seed == 7);
  CHECK(r.output == "runs/mnist-lenet5");
}

TEST_CASE("recipe: defaults", "[config][recipe]") {
  Recipe r = from_string("model: lenet5.yaml\n");
  CHECK(r.file.empty());
  CHECK(r.model.name == "lenet5");
  CHECK(r.data.dataset == DatasetKind::mnist);
  CHECK(r.data.root == "data/mnist");
  CHECK(r.data.train_transforms.empty());
  CHECK(r.data.batch_size == 64);
  CHECK(r.data.eval_batch_size == 0);
  CHECK(r.data.workers == 0);
  CHECK(r.data.train_limit == 0);
  CHECK(r.data.eval_limit == 0);
  CHECK(r.train.epochs == 10);
  CHECK(r.train.optimizer.type == OptimizerType::sgd);
  CHECK(r.train.optimizer.lr == 0.01);
  CHECK(r.train.optimizer.momentum == 0.0);
  CHECK(r.train.optimizer.dampening == 0.0);
  CHECK_FALSE(r.train.optimizer.nesterov);
  CHECK(r.train.optimizer.weight_decay == 0.0);
  CHECK(r.train.label_smoothing == 0.0);
  CHECK(r.train.seed == 1);
  CHECK(r.train.log_every == 0);
  CHECK(r.output == "runs/run");
  CHECK(from_string("model: lenet5.yaml\ndata: {dataset: fashion_mnist}\n").data.root ==
        "/usr/share/datasets/fashion-mnist");
  CHECK(from_string("model: lenet5.yaml\ndata:\ntrain:\n").train.epochs == 10);  // empty sections
}

TEST_CASE("recipe: inline model", "[config][recipe]") {
  Recipe r = from_string(R"(model:
  input: [1, 4, 4]
  layers: [flatten, {linear: {out: 3}, name: fc}]
train: {epochs: 1}
)");
  CHECK(r.model_path.empty());
  CHECK(r.model.file == "r.yaml");
  CHECK(r.model.name == "r");
  CHECK(names(r.model) == std::vector<std::string>{"0", "fc"});
  CHECK(r.model.nodes[1].args.loc().str() == "r.yaml:3:21");
  CHECK(config_error([] { from_string("model:\n  input: [1, 4, 4]\n  layers: [flaten]\n"); })
            .rfind("r.yaml:3:12: 0: unknown layer type 'flaten' (did you mean 'flatten'?)", 0) == 0);
}

TEST_CASE("recipe: resolved_yaml reloads to the same recipe", "[config][recipe]") {
  SECTION("model path") {
    Recipe r = load_recipe_file(fixture("recipes/mnist-lenet5.yaml"), {"train.label_smoothing=0.1"});
    CHECK(r.resolved_yaml.find("model: " + fs::absolute(fixture("lenet5.yaml")).lexically_normal().string()) !=
          std::string::npos);
    CHECK(r.resolved_yaml.find("label_smoothing: 0.1\n") != std::string::npos);
    CHECK(r.resolved_yaml.find("root: data/mnist") != std::string::npos);
    check_same(r, reload(r, "path"));
  }
  SECTION("inline model") {
    Recipe r = from_string("model:\n  input: [1, 4, 4]\n  layers: [flatten, {linear: {out: 3}}]\n");
    check_same(r, reload(r, "inline"));
  }
  SECTION("model path with model overrides becomes inline") {
    Recipe r = load_recipe_file(fixture("recipes/mnist-lenet5.yaml"), {"model.layers.0.conv.out=8"});
    Recipe again = reload(r, "overridden");
    check_same(r, again);
    CHECK(again.model.nodes[0].args.get_int("out") == 8);
  }
  SECTION("defaults") {
    Recipe r = from_string("model: lenet5.yaml\n");
    check_same(r, reload(r, "defaults"));
  }
}

TEST_CASE("recipe: errors name file:line:col and the field", "[config][recipe][errors]") {
  CHECK(recipe_error("model: lenet5.yaml\ntrain:\n  optimizer: {lr: -1}\n") ==
        "r.yaml:3:19: train.optimizer.lr: expected a number > 0, got -1");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {epochs: ten}\n") ==
        "r.yaml:2:17: train.epochs: expected an integer >= 0, got 'ten'");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {batch_size: 0}\n") ==
        "r.yaml:2:20: data.batch_size: expected an integer >= 1, got 0");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {label_smoothing: 1.0}\n") ==
        "r.yaml:2:26: train.label_smoothing: expected a number in [0, 1), got 1.0");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {optimizer: {momentum: 1.5}}\n") ==
        "r.yaml:2:31: train.optimizer.momentum: expected a number in [0, 1], got 1.5");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {optimizer: {nesterov: true}}\n") ==
        "r.yaml:2:31: train.optimizer.nesterov: Nesterov momentum requires momentum > 0 and dampening 0 (got "
        "momentum 0.0, dampening 0.0)");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {optimizer: {nesterov: maybe}}\n") ==
        "r.yaml:2:31: train.optimizer.nesterov: expected true or false, got 'maybe'");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {optimizer: {type: adan}}\n") ==
        "r.yaml:2:27: train.optimizer.type: unknown optimizer 'adan' (did you mean 'adam'?); supported: sgd, rmsprop, "
        "adam, adamw");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {seed: -1}\n") ==
        "r.yaml:2:15: train.seed: expected an integer >= 0, got -1");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: {epochz: 3}\n") ==
        "r.yaml:2:9: train: unknown key 'epochz' (did you mean 'epochs'?); expected one of: epochs, optimizer, "
        "schedule, label_smoothing, seed, log_every, eval_every, best_metric, aux_weight, init_from, init_strict, "
        "weights_map, freeze, unfreeze, freeze_bn, param_groups, ema, sync_bn, accumulate, drop_path_rate");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {datset: mnist}\n") ==
        "r.yaml:2:8: data: unknown key 'datset' (did you mean 'dataset'?); expected one of: dataset, root, "
        "train_transforms, eval_transforms, batch_size, eval_batch_size, workers, train_limit, eval_limit, class_names, "
        "bad_images, eval_tta, mixup, cutmix, mix_prob, mix_switch_prob, max_image_pixels, channels");
  CHECK(recipe_error("model: lenet5.yaml\noutptu: x\n") ==
        "r.yaml:2:1: unknown top-level key 'outptu' (did you mean 'output'?); expected one of: model, model_args, data, train, "
        "output, report");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: 5\n") == "r.yaml:2:8: train: expected a mapping, got '5'");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {dataset: mnsit}\n") ==
        "r.yaml:2:17: data.dataset: unknown dataset 'mnsit' (did you mean 'mnist'?); supported: mnist, fashion_mnist, "
        "cifar10, image_folder, csv");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {dataset: cifar10, class_names: c.txt}\n") ==
        "r.yaml:2:39: data.class_names: only used by dataset image_folder, not cifar10");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {dataset: image_folder, bad_images: ignore}\n") ==
        "r.yaml:2:43: data.bad_images: unknown policy 'ignore'; supported: fatal, skip");
  CHECK(recipe_error("model: lenet5.yaml\ndata: {eval_tta: hflp}\n") ==
        "r.yaml:2:18: data.eval_tta: unknown test-time augmentation 'hflp' (did you mean 'hflip'?); supported: none, "
        "hflip");
  CHECK(recipe_error("data: {dataset: mnist}\n") ==
        "r.yaml: model: missing required field: a model config path or an inline model");
  CHECK(recipe_error("model: [a]\n") == "r.yaml:1:8: model: expected a model config path or an inline model mapping, got [a]");
  CHECK(recipe_error("model: nope.yaml\n") == "r.yaml:1:8: model: cannot open model config '" + kFixtures +
                                                  "/nope.yaml': No such file or directory");
  CHECK(recipe_error("") == "r.yaml: a recipe must be a mapping with at least 'model', got nothing");
  CHECK(config_error([] { load_recipe_file("no/such/recipe.yaml"); }) ==
        "cannot open recipe 'no/such/recipe.yaml': No such file or directory");
  CHECK_THAT(recipe_error("model: lenet5.yaml\ntrain: {epochs: 1\n"), Catch::StartsWith("r.yaml:3:1: YAML syntax error: "));
  // An error in the model file names the model file.
  CHECK_THAT(config_error([] { load_recipe_string("model: bad_syntax.yaml\n", "r.yaml", kFixtures); }),
             Catch::StartsWith(kFixtures + "/bad_syntax.yaml:5:3: YAML syntax error"));
}

TEST_CASE("recipe errors: transforms", "[config][recipe][errors]") {
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  train_transforms: [{normalise: {mean: [0.5], std: [0.5]}}]\n") ==
        "r.yaml:3:23: data.train_transforms.0: unknown transform 'normalise' (did you mean 'normalize'?); known: "
        "normalize, random_crop, hflip, resize, center_crop, random_resized_crop, color_jitter, random_erasing, cutout, "
        "randaugment, trivialaugment, autoaugment");
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  eval_transforms: [hfilp]\n") ==
        "r.yaml:3:21: data.eval_transforms.0: unknown transform 'hfilp' (did you mean 'hflip'?); known: normalize, "
        "random_crop, hflip, resize, center_crop, random_resized_crop, color_jitter, random_erasing, cutout, randaugment, "
        "trivialaugment, autoaugment");
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  train_transforms: [{normalize: {mean: [0.5], std: [0]}}]\n") ==
        "r.yaml:3:53: data.train_transforms.0.normalize.std: expected a list of numbers > 0, got [0]");
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  train_transforms: [{normalize: {mean: [0.5, 0.5], std: [0.5]}}]\n") ==
        "r.yaml:3:58: data.train_transforms.0.normalize: 'mean' has 2 values but 'std' has 1: give one per channel");
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  train_transforms: [{normalize: {mean: [0.5]}}]\n") ==
        "r.yaml:3:34: data.train_transforms.0.normalize: missing required argument 'std'");
  CHECK(recipe_error("model: lenet5.yaml\ndata:\n  train_transforms: [{normalize: {mean: [0.5], sd: [1]}}]\n") ==
        "r.yaml:3:48: data.train_transforms.0.normalize: unknown key 'sd' (did you mean 'std'?); expected one of: "
        "mean, std");
}

TEST_CASE("recipe --set overrides", "[config][recipe][overrides]") {
  Recipe r = load_recipe_file(fixture("recipes/mnist-lenet5.yaml"),
                              {"train.epochs=1", "data.root=/x", "model.input=[1,32,32]", "train.label_smoothing=0.1",
                               "train.optimizer.lr=0.5", "data.train_transforms.0.normalize.mean=[0.5]",
                               "data.eval_limit=100", "output=runs/other"});
  CHECK(r.train.epochs == 1);
  CHECK(r.data.root == "/x");
  CHECK(r.model.input == cnn::Shape{1, 32, 32});
  CHECK(r.train.label_smoothing == 0.1);
  CHECK(r.train.optimizer.lr == 0.5);
  CHECK(r.train.optimizer.momentum == 0.9);
  CHECK(r.data.train_transforms[0].mean == std::vector<double>{0.5});
  CHECK(r.data.eval_limit == 100);
  CHECK(r.output == "runs/other");

  // Sections absent from the document are created.
  Recipe d = from_string("model: lenet5.yaml\n", {"train.optimizer.momentum=0.5", "data.dataset=fashion_mnist"});
  CHECK(d.train.optimizer.momentum == 0.5);
  CHECK(d.data.root == "/usr/share/datasets/fashion-mnist");
  // An inline model takes model.* overrides too.
  Recipe i = from_string("model: {input: [1, 4, 4], layers: [flatten]}\n", {"model.input=[2,2,2]"});
  CHECK(i.model.input == cnn::Shape{2, 2, 2});
  // model= from the command line is relative to the working directory.
  Recipe c = from_string("model: nothing.yaml\n", {"model=" + fixture("tiny_resnet.yaml")});
  CHECK(c.model.name == "tiny_resnet");
}

TEST_CASE("recipe --set errors", "[config][recipe][overrides][errors]") {
  CHECK(recipe_error("model: lenet5.yaml\n", {"train.epochz=1"}) ==
        "--set: unknown key 'train.epochz' (did you mean 'train.epochs'?); keys under 'train': accumulate, aux_weight, best_metric, drop_path_rate, ema, epochs, eval_every, freeze, "
        "freeze_bn, init_from, init_strict, label_smoothing, "
        "log_every, optimizer, param_groups, schedule, seed, sync_bn, unfreeze, weights_map");
  CHECK(recipe_error("model: lenet5.yaml\n", {"trian.epochs=1"}) ==
        "--set: unknown key 'trian.epochs' (did you mean 'train'?); keys at the top level: data, model, model_args, output, report, train");
  CHECK(recipe_error("model: lenet5.yaml\n", {"train.epochs.x=1"}) ==
        "--set: unknown key 'train.epochs.x': 'train.epochs' has no sub-keys");
  CHECK(recipe_error("model: lenet5.yaml\n", {"train.epochs=ten"}) ==
        "--set: train.epochs: expected an integer >= 0, got 'ten'");
  CHECK(recipe_error("model: lenet5.yaml\n", {"train.optimizer.lr=-0.1"}) ==
        "--set: train.optimizer.lr: expected a number > 0, got -0.1");
  CHECK(recipe_error("model: lenet5.yaml\n", {"model.inptu=[1,2,2]"}) ==
        "--set: unknown key 'model.inptu' (did you mean 'model.input'?); keys under 'model': name, input, layers");
  // A bad layer argument value is the layer's to reject (LayerArgs getters, located at --set).
  CHECK_NOTHROW(from_string("model: lenet5.yaml\n", {"model.layers.0.conv.out=x"}));
  CHECK(recipe_error("model: lenet5.yaml\ndata: {train_transforms: [{normalize: {mean: [1], std: [1]}}]}\n",
                     {"data.train_transforms.1.normalize.mean=[0.5]"}) ==
        "--set: 'data.train_transforms.1.normalize.mean': index 1 is out of range: 'data.train_transforms' has 1 item");
  CHECK(recipe_error("model: lenet5.yaml\ntrain: 3\n", {"train.epochs=1"}) ==
        "r.yaml:2:8: train: expected a mapping, got '3' (while applying --set train.epochs=1)");
}

TEST_CASE("recipe choices: each name reads as its enum value, the resolved recipe writes the name back",
          "[config][recipe]") {
  // Explicit pairs: reordering an enum or its names (recipe.cpp) would silently switch branches.
  auto check = [](const std::string& key, const std::string& name, auto value, auto get) {
    INFO(key << "=" << name);
    const Recipe r = from_string("model: lenet5.yaml\n", {key + "=" + name});
    CHECK(get(r) == value);
    CHECK(cnn::name_of(value) == name);
    CHECK(r.resolved_yaml.find(key.substr(key.rfind('.') + 1) + ": " + name) != std::string::npos);
  };
  auto dataset = [](const Recipe& r) { return r.data.dataset; };
  check("data.dataset", "mnist", DatasetKind::mnist, dataset);
  check("data.dataset", "fashion_mnist", DatasetKind::fashion_mnist, dataset);
  check("data.dataset", "cifar10", DatasetKind::cifar10, dataset);
  check("data.dataset", "image_folder", DatasetKind::image_folder, dataset);
  check("data.dataset", "csv", DatasetKind::csv, dataset);
  auto bad = [](const Recipe& r) { return r.data.bad_images; };
  check("data.bad_images", "fatal", BadImages::fatal, bad);
  check("data.bad_images", "skip", BadImages::skip, bad);
  auto tta = [](const Recipe& r) { return r.data.eval_tta; };
  check("data.eval_tta", "none", EvalTta::none, tta);
  check("data.eval_tta", "hflip", EvalTta::hflip, tta);
  auto optimizer = [](const Recipe& r) { return r.train.optimizer.type; };
  check("train.optimizer.type", "sgd", OptimizerType::sgd, optimizer);
  check("train.optimizer.type", "rmsprop", OptimizerType::rmsprop, optimizer);
  check("train.optimizer.type", "adam", OptimizerType::adam, optimizer);
  check("train.optimizer.type", "adamw", OptimizerType::adamw, optimizer);
  auto schedule = [](const Recipe& r) { return r.train.schedule.type; };
  check("train.schedule.type", "constant", ScheduleType::constant, schedule);
  check("train.schedule.type", "step", ScheduleType::step, schedule);
  check("train.schedule.type", "exponential", ScheduleType::exponential, schedule);
  check("train.schedule.type", "cosine", ScheduleType::cosine, schedule);
  check("train.schedule.type", "onecycle", ScheduleType::onecycle, schedule);
  const Recipe multistep = from_string("model: lenet5.yaml\ntrain: {schedule: {type: multistep, milestones: [2]}}\n");
  CHECK(multistep.train.schedule.type == ScheduleType::multistep);
  CHECK(cnn::name_of(ScheduleType::multistep) == "multistep");
  auto anneal = [](const Recipe& r) { return r.train.schedule.anneal_strategy; };
  const std::string onecycle = "train.schedule.type=onecycle";  // anneal_strategy is written for onecycle only
  for (const auto& [name, value] : {std::pair{"cos", AnnealStrategy::cos}, std::pair{"linear", AnnealStrategy::linear}}) {
    const Recipe r = from_string("model: lenet5.yaml\n", {onecycle, std::string("train.schedule.anneal_strategy=") + name});
    CHECK(anneal(r) == value);
    CHECK(r.resolved_yaml.find(std::string("anneal_strategy: ") + name) != std::string::npos);
  }
  auto metric = [](const Recipe& r) { return r.train.best_metric; };
  check("train.best_metric", "test_acc", BestMetric::test_acc, metric);
  check("train.best_metric", "test_top5", BestMetric::test_top5, metric);
  check("train.best_metric", "test_loss", BestMetric::test_loss, metric);
  CHECK(cnn::choice_named<OptimizerType>("adamw") == OptimizerType::adamw);
  CHECK_FALSE(cnn::choice_named<OptimizerType>("adan"));
}
