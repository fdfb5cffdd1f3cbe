#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "command.h"
#include "config/any_config.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/eval_input.h"
#include "graph/net.h"
#include "io/npy.h"
#include "kernels/softmax.h"
#include "train/checkpoint.h"
#include "train/class_names.h"

namespace cnn::cli {
namespace {

// Top-k classes of each image file, through the recipe's eval transforms (a model file: none, so
// the images must already have the model's input size).
int predict_images(const std::vector<std::string>& images, const std::string& config,
                   const std::vector<std::string>& sets, const std::string& weights, const std::string& classes_file,
                   int64_t top, int64_t batch_size, WeightsChoice choice) {
  AnyConfig cfg = load_any_config(config, sets);
  const ModelSpec& spec = cfg.model;
  EvalInput input(spec, cfg.recipe ? &*cfg.recipe : nullptr, "predict");
  Net net(spec);
  load_weights(weights, net, choice);
  print_banner();
  const Shape out = net.output_shape();
  if (out.size() != 1) throw ConfigError("predict: the model's output " + shape_str(out) + " is not a vector of logits");
  const int64_t K = out[0];
  std::vector<std::string> names =
      resolve_class_names(classes_file, weights, cfg.recipe ? std::optional(cfg.recipe->data.dataset) : std::nullopt);
  const int64_t per = numel_of(spec.input);
  top = std::min(top, K);
  Tensor batch;
  Image img;
  std::vector<float> probs;
  Net::InferenceScope fused(net);
  RunContext ctx{false, nullptr};
  for (size_t b = 0; b < images.size(); b += size_t(batch_size)) {
    const size_t n = std::min(images.size() - b, size_t(batch_size));
    batch.resize(Shape{int64_t(n), spec.input[0], spec.input[1], spec.input[2]});
    for (size_t i = 0; i < n; ++i) input.load(images[b + i], img, batch.data() + int64_t(i) * per);
    const Tensor& logits = net.forward(batch, ctx);
    probs.resize(size_t(logits.numel()));
    softmax_rows(logits.data(), int64_t(n), K, probs.data());
    for (size_t i = 0; i < n; ++i) {
      const float* p = probs.data() + int64_t(i) * K;
      std::vector<int64_t> order(static_cast<size_t>(K));
      for (int64_t k = 0; k < K; ++k) order[size_t(k)] = k;
      std::partial_sort(order.begin(), order.begin() + top, order.end(),
                        [&](int64_t x, int64_t y) { return p[x] > p[y] || (p[x] == p[y] && x < y); });
      fmt::print("{}\n", images[b + i]);
      for (int64_t r = 0; r < top; ++r) {
        const int64_t k = order[size_t(r)];
        const std::string name = k < int64_t(names.size()) ? names[size_t(k)] : "class " + std::to_string(k);
        fmt::print("  {}  {:6.2f}%  {}\n", r + 1, 100.0 * p[k], name);
      }
    }
  }
  return 0;
}

}  // namespace

Run add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "run a batch through a model in eval mode and write its logits");
  struct Opts {
    std::string config, weights, npy, out, classes;
    std::vector<std::string> sets, images;
    int64_t batch = 32, top = 5;
    bool ema = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "model or recipe YAML")->required();
  cmd->add_option("--weights,--checkpoint", o->weights,
                  "weights (.safetensors): a checkpoint of ours or a PyTorch state_dict")
      ->required();
  cmd->add_option("--npy", o->npy, "input batch: float32 N x C x H x W (.npy), preprocessed as the model expects");
  cmd->add_option("--out,-o", o->out, "where to write the logits: float32 N x classes (.npy)");
  cmd->add_option("--batch", o->batch, "images per forward pass")->check(whole_number_at_least(1));
  add_set_option(cmd, o->sets);
  add_ema_flag(cmd, o->ema);
  cmd->add_option("images", o->images,
                  "image files (JPEG, PNG, BMP, PNM): top classes with probabilities, through the recipe's eval "
                  "transforms");
  cmd->add_option("--top", o->top, "images: how many classes to show (default 5)")->check(whole_number_at_least(1));
  cmd->add_option("--classes", o->classes,
                  "images: class names, one per line (default: the checkpoint's, else the recipe's dataset's)");
  return [o] {
    const WeightsChoice choice = o->ema ? WeightsChoice::ema : WeightsChoice::raw;
    if (!o->images.empty()) {
      if (!o->npy.empty()) throw ConfigError("predict: give image files or --npy, not both");
      return predict_images(o->images, o->config, o->sets, o->weights, o->classes, o->top, o->batch, choice);
    }
    if (o->npy.empty()) throw ConfigError("predict: give image files, or --npy <input.npy> with --out <logits.npy>");
    if (o->out.empty()) throw ConfigError("predict: --out <logits.npy> is required");
    ModelSpec spec = load_model_or_recipe(o->config, o->sets);
    Net net(spec);
    load_weights(o->weights, net, choice);
    print_banner();
    Tensor input = read_npy(o->npy);
    const Shape& want = spec.input;
    Shape per_sample;
    if (input.ndim() == want.size() + 1) per_sample.assign(input.shape().begin() + 1, input.shape().end());
    if (per_sample != want)
      throw ConfigError(fmt::format("{}: input has shape {}, the model '{}' expects N x {}{}", o->npy,
                                    input.ndim() ? shape_str(input.shape()) : "[] (a scalar)", spec.name,
                                    shape_str(want),
                                    input.ndim() == want.size() && input.shape() == want
                                        ? " (add the batch dimension: a[None])"
                                        : " (set a different input with --set input=[C,H,W])"));
    const int64_t n = input.dim(0);
    const Shape out_sample = net.output_shape();
    Shape out_shape{n};
    out_shape.insert(out_shape.end(), out_sample.begin(), out_sample.end());
    Tensor logits(out_shape);
    const int64_t in_per = numel_of(want), out_per = numel_of(out_sample);
    Net::InferenceScope fused(net);
    RunContext ctx{false, nullptr};
    Tensor chunk;
    for (int64_t b = 0; b < n; b += o->batch) {
      const int64_t m = std::min(o->batch, n - b);
      Shape cs{m};
      cs.insert(cs.end(), want.begin(), want.end());
      chunk.resize(cs);
      std::memcpy(chunk.data(), input.data() + b * in_per, size_t(m * in_per) * sizeof(float));
      const Tensor& y = net.forward(chunk, ctx);
      std::memcpy(logits.data() + b * out_per, y.data(), size_t(m * out_per) * sizeof(float));
    }
    write_npy(o->out, logits);
    fmt::print("{}: {} x {} outputs of {} -> {}\n", o->npy, n, shape_str(out_sample), spec.name, o->out);
    return 0;
  };
}

}  // namespace cnn::cli
