// Fine-tuning: the model's classes fitted to the dataset, loading the weights that fit
// (weights_map, side heads), freezing (no gradient, no update, BN in eval mode) and per-parameter
// learning-rate / weight-decay multipliers. Runs on the synthetic dataset of train_test_util.h.
#include <catch2/catch.hpp>
#include <cmath>

#include "config/recipe.h"
#include "core/rng.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "optim/optimizer.h"
#include "train/checkpoint.h"
#include "train/finetune.h"
#include "train/init_weights.h"
#include "train/trainer.h"
#include "train_test_util.h"

using namespace cnn;
using namespace cnn::train_test;

namespace {

// The tiny model of recipe_text with `args: {classes: <classes>}` and fc out $classes.
std::string with_classes_arg(std::string text, const std::string& classes) {
  text.replace(text.find("  name: tiny\n"), 13, "  name: tiny\n  args: {classes: " + classes + "}\n");
  text.replace(text.find("{linear: {out: 10}"), 18, "{linear: {out: $classes}");
  return text;
}

Recipe recipe_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_recipe_string(text, "test-recipe.yaml", tmp_root().string(), overrides);
}

TrainResult train_logged(const Recipe& r, std::string& log, const std::string& weights = "") {
  TrainOptions o;
  o.weights = weights;
  o.overwrite = true;
  o.log = [&](const std::string& line) { log += line + "\n"; };
  return train(r, o);
}

const Tensor& tensor_of(const SafetensorsFile& f, const std::string& name) {
  INFO(name);
  REQUIRE(f.tensors.count(name));
  return f.tensors.at(name);
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * size_t(a.numel())) == 0;
}

}  // namespace

TEST_CASE("a model without an explicit class count gets the dataset's, a mismatch is refused", "[train][finetune]") {
  std::string log;
  Recipe r = recipe_of(with_classes_arg(recipe_text("ft-classes"), "1000"), {"train.epochs=1"});
  train_logged(r, log);
  CHECK(log.find("model tiny: classes 10 (the 10 classes of data.dataset mnist") != std::string::npos);
  CHECK(tensor_of(read_safetensors(out_file(r, "last.safetensors")), "fc.weight").shape()[0] == 10);

  // set explicitly to another count: refused, saying how to set it
  Recipe wrong = recipe_of(with_classes_arg(recipe_text("ft-classes-wrong"), "1000"), {"model.classes=12"});
  CHECK(config_error_message([&] { train(wrong, {}); }).find(
            "the model ends in N x 12 outputs but 'mnist' has 10 classes; set model_args: {classes: 10} in the recipe "
            "(or --set model.classes=10)") != std::string::npos);
  // a model without a classes argument
  Recipe fixed = make_recipe("ft-classes-fixed", {"model.layers.6.linear.out=12"});
  CHECK(config_error_message([&] { train(fixed, {}); }).find("give the model an argument `args: {classes: 10}`") !=
        std::string::npos);
}

TEST_CASE("load_fitting_weights: what fits is loaded, the rest stays fresh and is noted, weights_map renames",
          "[train][finetune]") {
  const Recipe r = make_recipe("ft-weights");
  Net source(r.model);
  source.init(7);
  // the file: the source's tensors under "backbone." with a classifier for 5 classes
  Tensor fc5({5, source.params()[source.params().size() - 2].param->value.shape()[1]});  // fc.weight [5, 196]
  std::vector<NamedTensor> tensors;
  for (const auto& p : source.params())
    if (p.name.rfind("fc.", 0) != 0) tensors.push_back({"backbone." + p.name, &p.param->value});
  for (const auto& b : source.buffers()) tensors.push_back({"backbone." + b.name, &b.buffer->value});
  tensors.push_back({"backbone.fc.weight", &fc5});
  const std::string path = (tmp_root() / "ft-weights.safetensors").string();
  write_safetensors(path, tensors);

  Net fresh(r.model), net(r.model);
  fresh.init(1);
  net.init(1);
  CHECK(config_error_message([&] { load_fitting_weights(path, net, {}); })
            .find("no tensor fits model 'tiny'") != std::string::npos);
  const WeightsReport rep = load_fitting_weights(path, net, {{"backbone.", ""}});
  CHECK(rep.loaded == 7);  // conv1 weight/bias, bn1 weight/bias and its 3 buffers
  const std::string note = rep.note(path);
  INFO(note);
  CHECK(note.find("initialized fresh: 1 of another shape: fc.weight [5x196], the model has [10x196]; 1 missing: "
                  "fc.bias") != std::string::npos);
  CHECK(note.find("4 missing") == std::string::npos);
  for (size_t i = 0; i < net.params().size(); ++i) {
    const std::string& name = net.params()[i].name;
    INFO(name);
    const bool from_file = name.rfind("fc.", 0) != 0;
    CHECK(same(net.params()[i].param->value, (from_file ? source : fresh).params()[i].param->value));
  }
  CHECK(mapped_key("classifier.1.weight", {{"classifier.1.", "fc."}, {"classifier.", "x."}}) == "fc.weight");
}

TEST_CASE("load_weights (eval, predict, export) does not need side-head tensors", "[train][finetune]") {
  const std::string model =
      "name: heads\ninput: [1, 8, 8]\nlayers:\n  - {conv: {out: 2, k: 3, pad: 1}, name: conv}\n"
      "  - {layers: [flatten, {linear: {out: 3}, name: fc}], name: aux, head: 0.3}\n  - flatten\n"
      "  - {linear: {out: 3}, name: fc}\n";
  Net full(load_model_string(model, "m.yaml"));
  std::vector<NamedTensor> main_only;
  for (const auto& p : full.params())
    if (p.name.rfind("aux.", 0) != 0) main_only.push_back({p.name, &p.param->value});
  const std::string path = (tmp_root() / "ft-no-aux.safetensors").string();
  write_safetensors(path, main_only);
  Net net(load_model_string(model, "m.yaml"));
  CHECK_NOTHROW(load_weights(path, net));
  write_safetensors(path, {main_only.front()});
  INFO(config_error_message([&] { load_weights(path, net); }));
  CHECK(config_error_message([&] { load_weights(path, net); }).find("3 missing: conv.bias, fc.weight, fc.bias") !=
        std::string::npos);
}

TEST_CASE("freeze: frozen tensors keep their values bit for bit, '*' with unfreeze, freeze_bn", "[train][finetune]") {
  // start from trained weights so that frozen BN statistics are not the defaults
  std::string log;
  const Recipe base = make_recipe("ft-base", {"train.epochs=1"});
  train_logged(base, log);
  const std::string weights = out_file(base, "last.safetensors");
  const SafetensorsFile start = read_safetensors(weights);

  const Recipe a = make_recipe("ft-freeze-a", {"train.epochs=1", "train.freeze=[conv1,bn1]"});
  log.clear();
  train_logged(a, log, weights);
  INFO(log);
  CHECK(log.find("frozen: 48 of ") != std::string::npos);  // conv1 36 + 4, bn1 4 + 4
  CHECK(log.find(" parameter values (4 of 6 tensors)") != std::string::npos);
  const SafetensorsFile fa = read_safetensors(out_file(a, "last.safetensors"));
  for (const char* name : {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias"})
    CHECK(same(tensor_of(fa, name), tensor_of(start, name)));
  CHECK_FALSE(same(tensor_of(fa, "fc.weight"), tensor_of(start, "fc.weight")));
  CHECK_FALSE(same(tensor_of(fa, "bn1.running_mean"), tensor_of(start, "bn1.running_mean")));  // BN still trains

  // the same trainable set written as "*" minus fc: the same run, bit for bit
  const Recipe b = make_recipe("ft-freeze-b", {"train.epochs=1", "train.freeze=['*']", "train.unfreeze=fc"});
  train_logged(b, log, weights);
  check_same_tensors(out_file(a, "last.safetensors"), out_file(b, "last.safetensors"), "freeze [conv1, bn1] vs * - fc");

  // freeze_bn: the frozen BN layer runs in eval mode: its running statistics stay
  const Recipe c = make_recipe("ft-freeze-c", {"train.epochs=1", "train.freeze=[conv1,bn1]", "train.freeze_bn=true"});
  train_logged(c, log, weights);
  const SafetensorsFile fc = read_safetensors(out_file(c, "last.safetensors"));
  CHECK(same(tensor_of(fc, "bn1.running_mean"), tensor_of(start, "bn1.running_mean")));
  CHECK(same(tensor_of(fc, "bn1.running_var"), tensor_of(start, "bn1.running_var")));
  CHECK_FALSE(same(tensor_of(fc, "fc.weight"), tensor_of(start, "fc.weight")));

  CHECK(config_error_message([&] { train(make_recipe("ft-freeze-bad", {"train.freeze=[layer9]"}), {}); }) ==
        "train.freeze: 'layer9' names no parameter of model 'tiny' (names are node paths such as 'conv1')");
  CHECK(config_error_message([&] { train(make_recipe("ft-freeze-all", {"train.freeze=['*']"}), {}); }) ==
        "train.freeze: every parameter of model 'tiny' is frozen, so nothing would train (train.unfreeze names the "
        "ones to train)");
}

TEST_CASE("a model without parameters trains: the loss is computed, nothing is updated", "[train][finetune]") {
  std::string text = recipe_text("ft-no-params");
  const size_t from = text.find("    - {conv:"), to = text.find("data:\n");
  text.replace(from, to - from, "    - {adaptive_avgpool: {out: [1, 10]}}\n    - flatten\n");
  const Recipe r = load_recipe_string(text, "test-recipe.yaml", tmp_root().string(), {"train.epochs=1"});
  std::string log;
  const TrainResult result = train_logged(r, log);
  INFO(log);
  REQUIRE(result.epochs.size() == 1);
  CHECK(std::isfinite(result.epochs[0].train_loss));
  CHECK(result.epochs[0].train_loss > 0);
}

TEST_CASE("freeze_bn: the BN inside a frozen projection shortcut (torchvision's downsample) runs in eval mode too",
          "[train][finetune]") {
  // tiny with a projection shortcut after bn1: parameters down.0.weight (1x1 conv), down.1.* (BN)
  auto with_shortcut = [](const std::string& run) {
    std::string text = recipe_text(run);
    text.replace(text.find("    - relu\n"), 11, "    - relu\n    - {shortcut: {out: 8, stride: 2}, name: down}\n");
    return load_recipe_string(text, "test-recipe.yaml", tmp_root().string(), {"train.epochs=1"});
  };
  std::string log;
  const Recipe base = with_shortcut("ft-down-base");
  train_logged(base, log);
  const std::string weights = out_file(base, "last.safetensors");
  const SafetensorsFile start = read_safetensors(weights);

  Recipe r = with_shortcut("ft-down-frozen");
  r.train.freeze = {"*"};
  r.train.unfreeze = {"fc"};
  r.train.freeze_bn = true;
  log.clear();
  train_logged(r, log, weights);
  INFO(log);
  CHECK(log.find("; 2 BN layers in eval mode") != std::string::npos);  // bn1 and down
  const SafetensorsFile f = read_safetensors(out_file(r, "last.safetensors"));
  for (const char* name : {"down.0.weight", "down.1.weight", "down.1.running_mean", "down.1.running_var",
                           "down.1.num_batches_tracked", "bn1.running_mean"})
    CHECK(same(tensor_of(f, name), tensor_of(start, name)));
  CHECK_FALSE(same(tensor_of(f, "fc.weight"), tensor_of(start, "fc.weight")));
}

TEST_CASE("freezing stops backward: frozen parameters get no gradient, the input of a frozen prefix none either",
          "[train][finetune]") {
  const Recipe r = make_recipe("ft-grad");
  Net net(r.model);
  net.init(1);
  std::vector<char> frozen(net.params().size(), 0);
  for (size_t i = 0; i < frozen.size(); ++i) frozen[i] = net.params()[i].name.rfind("fc.", 0) != 0;
  net.set_frozen(frozen);
  Tensor x({4, 1, 28, 28});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 37) % 101) / 101.f;
  Rng rng(1);
  RunContext ctx{true, &rng};
  net.forward(x, ctx);
  for (int64_t i = 0; i < net.output_grad().numel(); ++i) net.output_grad()[i] = 0.1f;
  net.zero_grad();
  net.backward(ctx);
  for (size_t i = 0; i < net.params().size(); ++i) {
    INFO(net.params()[i].name);
    double sq = 0;
    const Tensor& g = net.params()[i].param->grad;
    for (int64_t j = 0; j < g.numel(); ++j) sq += double(g[j]) * g[j];
    CHECK((sq == 0) == bool(frozen[i]));
  }
  CHECK(name_matches("layer1", "layer1.0.conv1.weight"));
  CHECK_FALSE(name_matches("layer1", "layer10.weight"));
  CHECK(name_matches("fc.weight", "fc.weight"));
  CHECK(name_matches("*", "anything.weight"));
}

TEST_CASE("param_groups: lr_mult and wd_mult scale each matching parameter's step", "[train][finetune]") {
  // SGD with weight decay: a step with lr_mult 2, wd_mult 0.5 equals a step at lr 2x, decay 0.5x
  auto one_step = [](double lr, double wd, double lr_mult, double wd_mult) {
    Param p;
    p.name = "weight";
    p.value = Tensor({3});
    p.grad = Tensor({3});
    for (int i = 0; i < 3; ++i) p.value[i] = 1.f + float(i), p.grad[i] = 0.25f * float(i - 1);
    OptimizerSpec spec;
    spec.lr = lr;
    spec.weight_decay = wd;
    spec.momentum = 0.9;
    std::unique_ptr<Optimizer> opt = make_optimizer(spec, {{"fc.weight", &p}});
    opt->set_multipliers({lr_mult}, {wd_mult});
    opt->step(lr);
    return p.value;
  };
  CHECK(same(one_step(0.1, 0.01, 2, 0.5), one_step(0.2, 0.005, 1, 1)));
  CHECK_FALSE(same(one_step(0.1, 0.01, 2, 0.5), one_step(0.1, 0.01, 1, 1)));

  // in a run: lr_mult 0 keeps the matching parameters where they started
  std::string log;
  const Recipe r = make_recipe("ft-groups", {"train.epochs=1", "train.param_groups=[{match: conv1, lr_mult: 0, wd_mult: 0}]"});
  train_logged(r, log);
  Net init(r.model);
  init.init(r.train.seed);
  const SafetensorsFile f = read_safetensors(out_file(r, "last.safetensors"));
  CHECK(same(tensor_of(f, "conv1.weight"), init.params()[0].param->value));
  CHECK_FALSE(same(tensor_of(f, "fc.weight"), init.params().back().param->value));
}
