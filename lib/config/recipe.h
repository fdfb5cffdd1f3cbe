#pragma once
// A training recipe: model, data, optimizer, schedule, run directory. Every field has a default
// (the member initializers below) and is checked; unknown keys are errors with "did you mean".
// The fields' YAML names, checks and order are the table in config/recipe_fields.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "data/decode.h"

namespace cnn {

// One step of a data pipeline (data/transforms.h applies it; docs/config.md lists the types).
// 8-bit steps (random_crop, hflip, resize, center_crop, random_resized_crop, color_jitter) come
// before the float steps (normalize, random_erasing, cutout).
// autoaugment's policy: torchvision's AutoAugmentPolicy.
enum class AutoAugmentPolicy { imagenet, cifar10, svhn };

struct TransformSpec {
  std::string type;
  std::vector<double> mean;               // normalize: per channel, on [0,1] pixel values
  std::vector<double> std;
  std::vector<int64_t> size;              // crops, resize: [s] (square; resize: shorter side) or [h, w]; cutout: [s]
  int64_t pad = 0;                        // random_crop: zero padding on every side
  double p = 0.5;                         // hflip, random_erasing, cutout: probability
  double scale[2] = {0.08, 1.0};          // random_resized_crop (area fraction), random_erasing (0.02, 0.33)
  double ratio[2] = {3.0 / 4.0, 4.0 / 3.0};  // aspect ratio w/h range: random_resized_crop, random_erasing (0.3, 3.3)
  double brightness[2] = {1, 1};          // color_jitter factor ranges ([1, 1]: off)
  double contrast[2] = {1, 1};
  double saturation[2] = {1, 1};
  double value = 0;                       // random_erasing: the fill value (after normalize)
  int64_t num_ops = 2;                    // randaugment: ops applied in a row
  int64_t magnitude = 9;                  // randaugment: the magnitude bin, < num_magnitude_bins
  int64_t num_magnitude_bins = 31;        // randaugment, trivialaugment
  AutoAugmentPolicy policy = AutoAugmentPolicy::imagenet;  // autoaugment
};

// Fields that name one of a few choices are parsed once into these enums (config/recipe_fields.cpp).
// choice_names(E{}) lists each enum's YAML names, in the enum's order.
using ChoiceNames = std::vector<std::string>;
enum class DatasetKind { mnist, fashion_mnist, cifar10, image_folder, csv };  // data.dataset
inline const ChoiceNames& choice_names(DatasetKind) {
  static const ChoiceNames names = {"mnist", "fashion_mnist", "cifar10", "image_folder", "csv"};
  return names;
}
enum class BadImages { fatal, skip };  // data.bad_images
inline const ChoiceNames& choice_names(BadImages) {
  static const ChoiceNames names = {"fatal", "skip"};
  return names;
}
enum class EvalTta { none, hflip };  // data.eval_tta
inline const ChoiceNames& choice_names(EvalTta) {
  static const ChoiceNames names = {"none", "hflip"};
  return names;
}
enum class OptimizerType { sgd, rmsprop, adam, adamw };  // train.optimizer.type
inline const ChoiceNames& choice_names(OptimizerType) {
  static const ChoiceNames names = {"sgd", "rmsprop", "adam", "adamw"};
  return names;
}
enum class ScheduleType { constant, step, multistep, exponential, cosine, onecycle };  // train.schedule.type
inline const ChoiceNames& choice_names(ScheduleType) {
  static const ChoiceNames names = {"constant", "step", "multistep", "exponential", "cosine", "onecycle"};
  return names;
}
enum class AnnealStrategy { cos, linear };  // train.schedule.anneal_strategy
inline const ChoiceNames& choice_names(AnnealStrategy) {
  static const ChoiceNames names = {"cos", "linear"};
  return names;
}
enum class BestMetric { test_acc, test_top5, test_loss };  // train.best_metric
inline const ChoiceNames& choice_names(BestMetric) {
  static const ChoiceNames names = {"test_acc", "test_top5", "test_loss"};
  return names;
}

template <class E>
const std::string& name_of(E value) {
  return choice_names(value)[size_t(value)];
}
// The value called `name`, or nullopt.
template <class E>
std::optional<E> choice_named(const std::string& name) {
  const ChoiceNames& names = choice_names(E{});
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return E(i);
  return std::nullopt;
}

// data.mixup / data.cutmix (train/mixup.h: timm's Mixup, per sample).
struct MixSpec {
  double mixup_alpha = 0;                 // data.mixup.alpha: Beta(alpha, alpha) mixing weights (0: off)
  double cutmix_alpha = 0;                // data.cutmix.alpha (0: off)
  double prob = 1.0;                      // data.mix_prob: probability that a sample is mixed at all
  double switch_prob = 0.5;               // data.mix_switch_prob: CutMix instead of mixup when both are on
  bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }
};

struct DataSpec {
  DatasetKind dataset = DatasetKind::mnist;
  std::string root;                       // default per dataset (see recipe.cpp)
  std::string class_names;                // image_folder: optional file of "<folder> <name>" lines ("" none)
  BadImages bad_images = BadImages::fatal;  // image_folder: an unreadable image stops the run (fatal) or is skipped
  int64_t max_image_pixels = DecodeLimits{}.max_pixels;  // image_folder, csv: larger images are refused before decoding
  int64_t channels = 3;                   // image_folder, csv: 3 (RGB) or 1 (grayscale, PIL's convert("L"))
  std::vector<TransformSpec> train_transforms;
  std::vector<TransformSpec> eval_transforms;
  EvalTta eval_tta = EvalTta::none;       // hflip: evaluation averages the logits of each image and its mirror
  int64_t batch_size = 64;
  int64_t eval_batch_size = 0;            // 0: same as batch_size
  int64_t workers = 0;
  int64_t train_limit = 0;                // use only the first N training samples (0: all)
  int64_t eval_limit = 0;
  MixSpec mix;
};

// train.optimizer (torch.optim semantics; docs/config.md lists which fields each type uses).
struct OptimizerSpec {
  OptimizerType type = OptimizerType::sgd;
  double lr = 0.01;                       // default 0.01 (sgd, rmsprop), 0.001 (adam, adamw)
  double momentum = 0.0;                  // sgd, rmsprop
  double dampening = 0.0;                 // sgd
  bool nesterov = false;                  // sgd
  double weight_decay = 0.0;              // L2 added to the gradient; adamw: decoupled (default 0.01)
  double alpha = 0.99;                    // rmsprop: smoothing constant of the squared-gradient average
  double eps = 1e-8;                      // rmsprop, adam, adamw
  bool centered = false;                  // rmsprop
  double beta1 = 0.9, beta2 = 0.999;      // adam, adamw (`betas: [b1, b2]`)
  bool amsgrad = false;                   // adam, adamw
  bool no_decay_bn_bias = false;          // no weight decay on BN parameters and biases
  double grad_clip_norm = 0.0;            // clip the global gradient L2 norm to this (0: off)
};

// train.schedule: the learning rate of every optimizer step (optim/schedule.h).
struct ScheduleSpec {
  ScheduleType type = ScheduleType::constant;
  int64_t step_epochs = 30;               // step: multiply by gamma every step_epochs epochs
  double gamma = 0.1;                     // step, multistep, exponential (per epoch)
  std::vector<int64_t> milestones;        // multistep: epochs at which the lr is multiplied by gamma
  double min_lr = 0.0;                    // cosine: the floor
  double pct_start = 0.3;                 // onecycle: fraction of the steps spent rising to lr
  double div_factor = 25.0;               // onecycle: starts at lr / div_factor
  double final_div_factor = 1e4;          // onecycle: ends at lr / div_factor / final_div_factor
  AnnealStrategy anneal_strategy = AnnealStrategy::cos;  // onecycle
  bool three_phase = false;               // onecycle: torch's three_phase
  double warmup_epochs = 0;               // linear warm-up from 0 in front of any schedule
};

// train.param_groups: per-parameter multipliers of the learning rate and weight decay (Caffe's
// lr_mult / decay_mult), for parameters whose name matches (a node name or prefix, see freeze).
struct ParamGroupSpec {
  std::string match;
  double lr_mult = 1.0;
  double wd_mult = 1.0;
};

// train.ema: an exponential moving average of the weights (train/ema.h), evaluated instead of
// the raw weights and checkpointed beside them.
struct EmaSpec {
  double decay = 0;                       // 0: off; else in (0, 1), e.g. 0.9998
  int64_t every = 1;                      // update every N optimizer steps (torchvision's model_ema_steps)
  int64_t warmup = 0;                     // epochs during which the average copies the weights
  bool enabled() const { return decay > 0; }
};

struct TrainSpec {
  int64_t epochs = 10;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  double label_smoothing = 0.0;
  double aux_weight = -1;                 // loss weight of every side head; < 0: the model's own (head: w)
  uint64_t seed = 1;
  int64_t log_every = 0;                  // steps between progress lines and step metrics (0: auto)
  int64_t eval_every = 1;                 // evaluate on the test set every N epochs (and after the last)
  BestMetric best_metric = BestMetric::test_acc;  // best.safetensors keeps the best by it
  // Fine-tuning (docs/config.md "Fine-tuning").
  std::string init_from;                  // weights to start from: the tensors that fit ("" none; --weights wins)
  bool init_strict = false;               // init_from must match the model exactly (--weights-strict)
  std::vector<std::pair<std::string, std::string>> weights_map;  // key prefix renames for init_from
  std::vector<std::string> freeze;        // parameter names or prefixes ("layer1" = "layer1.*"); "*": all
  std::vector<std::string> unfreeze;      // exceptions to freeze
  bool freeze_bn = false;                 // BN layers whose parameters are frozen run in eval mode
  std::vector<ParamGroupSpec> param_groups;  // the first match applies
  EmaSpec ema;
  // Data-parallel runs (docs/distributed.md): BatchNorm statistics over the global batch (all
  // ranks) instead of each rank's shard. No effect in a single process.
  bool sync_bn = false;
  // Gradient accumulation: each optimizer step is `accumulate` micro-batches of
  // data.batch_size / accumulate samples (which must divide), whose gradients add up to the full
  // batch's. Memory is planned for the micro-batch; BatchNorm sees micro-batches.
  int64_t accumulate = 1;
  // Stochastic depth growing with depth (timm's drop_path_rate): residual block i of N gets a
  // drop_path of rate * i / (N - 1) on its residual branch (config/drop_path_rate.h). 0: off.
  double drop_path_rate = 0;
};

struct Recipe {
  std::string file;                       // recipe path ("" for a string)
  std::string model_path;                 // as resolved (absolute or relative to cwd)
  ModelSpec model;
  DataSpec data;
  TrainSpec train;
  std::string output = "runs/run";
  bool report = true;                     // cnn train ends by writing report.html into output
  std::string resolved_yaml;              // the whole recipe after defaults and overrides
  bool classes_set = false;               // model_args.classes or --set model.classes given
  bool classes_from_data = false;         // `classes` was set from the dataset (with_model_classes)
  // What it was loaded from (with_model_classes reloads it with one more override).
  std::string source_text, source_name, base_dir;
  std::vector<std::string> overrides;
};

// Loads a recipe file; `overrides` are `dotted.key=value` strings from --set. The model path is
// relative to the recipe file; `model:` may also be an inline mapping. Overrides whose key starts
// with "model." apply to the model document.
Recipe load_recipe_file(const std::string& path, const std::vector<std::string>& overrides = {});
Recipe load_recipe_string(const std::string& yaml_text, const std::string& name_for_errors,
                          const std::string& base_dir, const std::vector<std::string>& overrides = {});

// The recipe with the model argument `classes` set to the dataset's class count, as timm's
// --num-classes: unchanged when the recipe sets classes itself or the model has no such argument.
Recipe with_model_classes(const Recipe& recipe, int64_t classes);

}  // namespace cnn
