#include <fmt/format.h>

#include <cctype>
#include <fstream>

#include "command.h"
#include "config/any_config.h"
#include "core/error.h"
#include "train/class_names.h"
#include "export/onnx_export.h"
#include "export/state_dict_export.h"
#include "graph/net.h"
#include "train/checkpoint.h"

namespace cnn::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}


}  // namespace

Run add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "write a model's eval-mode network as ONNX, or its weights for PyTorch");
  struct Opts {
    std::string config, checkpoint, format, out, input, classes;
    std::vector<std::string> sets;
    int64_t batch = 1, opset = 13;
    uint64_t init_seed = 0;
    bool dynamic_batch = false, fold_bn = false, softmax = false, ema = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "model or recipe YAML")->required();
  auto* ckpt = cmd->add_option("--checkpoint,--weights", o->checkpoint,
                               "weights (.safetensors): a checkpoint of ours or a PyTorch state_dict");
  auto* seed = cmd->add_option("--init-seed", o->init_seed,
                               "no checkpoint: export freshly initialized weights (seeded), e.g. to test a runtime");
  ckpt->excludes(seed);
  add_ema_flag(cmd, o->ema)->excludes(seed);
  cmd->add_option("--format,-f", o->format, "onnx | safetensors (default: from the --out extension)");
  cmd->add_option("--out,-o", o->out, "output file")->required();
  auto* batch = cmd->add_option("--batch", o->batch, "onnx: fixed batch size (default 1)")->check(whole_number_at_least(1));
  auto* dyn = cmd->add_flag("--dynamic-batch", o->dynamic_batch, "onnx: a symbolic batch dimension 'N'");
  batch->excludes(dyn);
  cmd->add_option("--opset", o->opset,
                  fmt::format("onnx: operator set version, {} to {} (default 13)", kMinOnnxOpset, kMaxOnnxOpset));
  cmd->add_flag("--fold-bn", o->fold_bn, "onnx: fold each BatchNorm into the convolution before it");
  cmd->add_flag("--softmax", o->softmax, "onnx: end with a softmax (output 'probabilities' instead of 'logits')");
  cmd->add_option("--input", o->input, "input shape CxHxW (default: the model's)");
  cmd->add_option("--classes", o->classes,
                  "onnx: class names, one per line, for the metadata (default: the checkpoint's, else the recipe's dataset's)");
  add_set_option(cmd, o->sets);
  return [o, seed] {
    const bool init = seed->count() > 0;
    std::string format = o->format;
    if (format.empty()) {
      if (ends_with(o->out, ".onnx")) format = "onnx";
      else if (ends_with(o->out, ".safetensors")) format = "safetensors";
      else throw ConfigError("export: --format onnx|safetensors is needed (the --out name '" + o->out +
                             "' ends in neither .onnx nor .safetensors)");
    }
    if (format != "onnx" && format != "safetensors")
      throw ConfigError("--format: expected onnx or safetensors, got '" + format + "'");
    if (o->checkpoint.empty() && !init)
      throw ConfigError("export: --checkpoint <weights.safetensors> is required (or --init-seed N for freshly "
                        "initialized weights)");
    std::vector<std::string> sets = o->sets;
    if (!o->input.empty()) sets.push_back(input_override(o->input));
    std::optional<DatasetKind> dataset;
    ModelSpec spec = load_model_or_recipe(o->config, sets, dataset);
    Net net(spec);
    if (o->checkpoint.empty()) net.init(o->init_seed);
    else load_weights(o->checkpoint, net, o->ema ? WeightsChoice::ema : WeightsChoice::raw);
    print_banner();
    const std::string source = o->checkpoint.empty() ? fmt::format("initialized with seed {}", o->init_seed)
                                                      : (o->ema ? "EMA weights from " : "weights from ") + o->checkpoint;

    if (format == "safetensors") {
      export_state_dict(net, o->out, {{"model", spec.name}, {"source", source}});
      fmt::print("{}: {} tensors of {} ({}) -> {}\n", spec.name, net.params().size() + net.buffers().size(),
                 spec.name, source, o->out);
      return 0;
    }
    OnnxExportOptions opts;
    opts.batch = o->batch;
    opts.dynamic_batch = o->dynamic_batch;
    opts.opset = o->opset;
    opts.fold_bn = o->fold_bn;
    opts.softmax = o->softmax;
    opts.class_names = resolve_class_names(o->classes, o->checkpoint, dataset);
    opts.doc = fmt::format("{} ({}), exported by cnn {}", spec.name, source, CNN_VERSION);
    export_onnx(net, opts, o->out);
    fmt::print("{}: ONNX opset {}, input {} x {}{}{}, checked -> {}\n", spec.name, opts.opset,
               opts.dynamic_batch ? "N" : std::to_string(opts.batch), shape_str(spec.input),
               opts.fold_bn ? ", BN folded" : "", opts.softmax ? ", softmax output" : "", o->out);
    return 0;
  };
}

}  // namespace cnn::cli
