#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "command.h"
#include "config/any_config.h"
#include "core/error.h"
#include "graph/net.h"
#include "io/npy.h"
#include "train/checkpoint.h"

namespace cnn::cli {

Run add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "run a batch through a model in eval mode and write its logits");
  struct Opts {
    std::string config, weights, npy, out;
    std::vector<std::string> sets, images;
    int64_t batch = 32;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "model or recipe YAML")->required();
  cmd->add_option("--weights,--checkpoint", o->weights,
                  "weights (.safetensors): a checkpoint of ours or a PyTorch state_dict")
      ->required();
  cmd->add_option("--npy", o->npy, "input batch: float32 N x C x H x W (.npy), preprocessed as the model expects");
  cmd->add_option("--out,-o", o->out, "where to write the logits: float32 N x classes (.npy)");
  cmd->add_option("--batch", o->batch, "images per forward pass")->check(CLI::PositiveNumber);
  cmd->add_option("--set", o->sets, "override a config field: dotted.key=value (repeatable)");
  cmd->add_option("images", o->images, "image files (not yet: needs the image pipeline)");
  return [o] {
    if (!o->images.empty())
      throw ConfigError("predict: image input needs the image pipeline (issue 4); pass a preprocessed float32 "
                        "N x C x H x W batch with --npy");
    if (o->npy.empty()) throw ConfigError("predict: --npy <input.npy> is required");
    if (o->out.empty()) throw ConfigError("predict: --out <logits.npy> is required");
    ModelSpec spec = load_model_or_recipe(o->config, o->sets);
    Net net(spec);
    load_weights(o->weights, net);
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
