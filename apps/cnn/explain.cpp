// cnn explain: CAM / Grad-CAM heatmaps of a model's top (or chosen) classes for image files or an
// .npy batch. Everything is computed before anything is written, so a bad input leaves no files.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "command.h"
#include "config/any_config.h"
#include "core/error.h"
#include "data/eval_input.h"
#include "explain/cam.h"
#include "explain/heatmap.h"
#include "explain/top_classes.h"
#include "graph/net.h"
#include "io/npy.h"
#include "io/png.h"
#include "train/checkpoint.h"
#include "train/class_names.h"

namespace fs = std::filesystem;

namespace cnn::cli {
namespace {

struct ExplainOpts {
  std::string config, weights, npy, out = "explain", layer, method, classes_file;
  std::vector<std::string> sets, images;
  int64_t class_index = -1, top = 1;
  float image_weight = 0.5f;
  bool ema = false;
};

struct Sample {
  std::string stem, label;  // output file stem; how it is printed
  Image shown;              // at the model's input size
};

// A file-name-safe version of a class name.
std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return out.substr(0, 40);
}

// The inputs as one batch and what each looks like.
Tensor load_inputs(const ExplainOpts& o, const AnyConfig& cfg, std::vector<Sample>& samples) {
  const ModelSpec& spec = cfg.model;
  if (!o.npy.empty()) {
    Tensor x = read_npy(o.npy);
    Shape per;
    if (x.ndim() == spec.input.size() + 1) per.assign(x.shape().begin() + 1, x.shape().end());
    if (per != spec.input || spec.input.size() != 3)
      throw ConfigError(fmt::format("{}: input has shape {}, the model '{}' expects N x {}", o.npy,
                                    shape_str(x.shape()), spec.name, shape_str(spec.input)));
    const int64_t C = spec.input[0], H = spec.input[1], W = spec.input[2];
    for (int64_t n = 0; n < x.dim(0); ++n) {
      Sample s{fmt::format("{}_{}", fs::path(o.npy).stem().string(), n), fmt::format("{}[{}]", o.npy, n), {}};
      const float* p = x.data() + n * C * H * W;
      s.shown = image_of_planes(p, C == 3 ? 3 : 1, H, W);  // other channel counts: the first plane
      samples.push_back(std::move(s));
    }
    return x;
  }
  EvalInput input(spec, cfg.recipe ? &*cfg.recipe : nullptr, "explain");
  Tensor x(Shape{int64_t(o.images.size()), spec.input[0], spec.input[1], spec.input[2]});
  for (size_t i = 0; i < o.images.size(); ++i) {
    Sample s{fs::path(o.images[i]).stem().string(), o.images[i], {}};
    input.load(o.images[i], s.shown, x.data() + int64_t(i) * numel_of(spec.input));
    samples.push_back(std::move(s));
  }
  return x;
}

struct Output {
  std::string png, npy;
  Image overlay;
  Tensor raw;
};

int run_explain(const ExplainOpts& o) {
  if (o.images.empty() == o.npy.empty()) throw ConfigError("explain: give image files or --npy <batch.npy> (one of them)");
  if (o.method != "" && o.method != "cam" && o.method != "gradcam")
    throw ConfigError("--method: expected cam or gradcam, got '" + o.method + "'");
  if (o.image_weight < 0 || o.image_weight > 1) throw ConfigError("--image-weight: expected a value in [0, 1]");
  AnyConfig cfg = load_any_config(o.config, o.sets);
  Net net(cfg.model);
  load_weights(o.weights, net, o.ema ? WeightsChoice::ema : WeightsChoice::raw);
  const CamLayer layer = resolve_cam_layer(net, o.layer);
  const CamMethod method = o.method.empty() ? default_cam_method(net, layer)
                                            : (o.method == "cam" ? CamMethod::cam : CamMethod::gradcam);
  CamExplainer explainer(net, layer, method);
  print_banner();
  const std::vector<std::string> names =
      resolve_class_names(o.classes_file, o.weights, cfg.recipe ? std::optional(cfg.recipe->data.dataset) : std::nullopt);
  std::vector<Sample> samples;
  const Tensor x = load_inputs(o, cfg, samples);
  const int64_t N = x.dim(0), H = cfg.model.input[1], W = cfg.model.input[2];
  const Tensor logits = explainer.forward(x);
  const int64_t K = logits.dim(1);
  if (o.class_index >= K)
    throw ConfigError(fmt::format("--class {}: the model has {} classes (0..{})", o.class_index, K, K - 1));
  const std::vector<TopClasses> tops = top_classes(logits, std::min<int64_t>(std::max<int64_t>(o.top, 5), K));
  const char* method_name = method == CamMethod::cam ? "cam" : "gradcam";
  const int64_t maps = o.class_index >= 0 ? 1 : std::min(o.top, K);
  std::vector<Output> outputs;
  std::vector<std::vector<std::string>> notes(static_cast<size_t>(N));
  for (int64_t r = 0; r < maps; ++r) {
    std::vector<int64_t> cls(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) cls[size_t(n)] = o.class_index >= 0 ? o.class_index : tops[size_t(n)].index[size_t(r)];
    const Tensor m = explainer.maps(cls);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t k = cls[size_t(n)];
      const std::string name = class_name(names, k);
      const std::string stem = fmt::format("{}_{}_{}", samples[size_t(n)].stem, slug(name), method_name);
      Output out;
      out.png = (fs::path(o.out) / (stem + ".png")).string();
      out.npy = (fs::path(o.out) / (stem + ".npy")).string();
      const float* map = m.data() + n * layer.height * layer.width;
      out.overlay = overlay_heatmap(samples[size_t(n)].shown, cam_heatmap(map, layer.height, layer.width, H, W),
                                    o.image_weight);
      out.raw = Tensor(Shape{layer.height, layer.width});
      std::copy(map, map + out.raw.numel(), out.raw.data());
      notes[size_t(n)].push_back(fmt::format("{} ({}) -> {}", name, k, out.png));
      outputs.push_back(std::move(out));
    }
  }
  fs::create_directories(o.out);
  for (const Output& out : outputs) {
    write_png(out.png, out.overlay);
    write_npy(out.npy, out.raw);
  }
  fmt::print("{} of layer '{}' ({}x{}x{})\n", method == CamMethod::cam ? "CAM" : "Grad-CAM", layer.name,
             layer.channels, layer.height, layer.width);
  for (int64_t n = 0; n < N; ++n) {
    fmt::print("{}\n", samples[size_t(n)].label);
    const TopClasses& t = tops[size_t(n)];
    for (size_t r = 0; r < t.index.size(); ++r)
      fmt::print("  {}  {:6.2f}%  {}\n", r + 1, 100.0 * t.prob[r], class_name(names, t.index[r]));
    for (const std::string& line : notes[size_t(n)]) fmt::print("  map: {}\n", line);
  }
  return 0;
}

}  // namespace

Run add_explain(CLI::App& app) {
  auto* cmd = app.add_subcommand("explain", "class activation maps (CAM / Grad-CAM) of images or an .npy batch");
  auto o = std::make_shared<ExplainOpts>();
  cmd->add_option("--config,-c", o->config, "model or recipe YAML (a recipe's eval transforms apply to images)")
      ->required();
  cmd->add_option("--weights,--checkpoint", o->weights, "weights (.safetensors): a checkpoint of ours or a PyTorch state_dict")
      ->required();
  cmd->add_option("images", o->images, "image files (JPEG, PNG, BMP, PNM)");
  cmd->add_option("--npy", o->npy, "input batch: float32 N x C x H x W (.npy), preprocessed as the model expects");
  cmd->add_option("--method", o->method, "cam | gradcam (default: cam for global-pool + linear nets, else gradcam)");
  cmd->add_option("--layer", o->layer, "layer or block name (default: the last spatial map before global pooling)");
  auto* cls = cmd->add_option("--class", o->class_index, "explain this class index")->check(whole_number_at_least(0));
  cmd->add_option("--top", o->top, "explain the K most probable classes (default 1)")
      ->check(whole_number_at_least(1))
      ->excludes(cls);
  cmd->add_option("--out,-o", o->out, "output directory (default: explain)");
  cmd->add_option("--image-weight", o->image_weight, "weight of the image in the overlay, 0..1 (default 0.5)");
  cmd->add_option("--classes", o->classes_file, "class names, one per line (default: the checkpoint's)");
  add_set_option(cmd, o->sets);
  add_ema_flag(cmd, o->ema);
  return [o] { return run_explain(*o); };
}

}  // namespace cnn::cli
