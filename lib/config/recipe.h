#pragma once
// A training recipe: model, data, optimizer, schedule, run directory. Every field has a default
// and is checked; unknown keys are errors with "did you mean". Field names follow DESIGN.md.
#include <cstdint>
#include <string>
#include <vector>

#include "config/model_spec.h"

namespace cnn {

struct TransformSpec {
  std::string type;           // "normalize" (issue 2); more come with the data pipeline
  std::vector<double> mean;   // normalize: per channel, on [0,1] pixel values
  std::vector<double> std;
};

struct DataSpec {
  std::string dataset = "mnist";          // mnist | fashion_mnist
  std::string root;                       // default per dataset (see recipe.cpp)
  std::vector<TransformSpec> train_transforms;
  std::vector<TransformSpec> eval_transforms;
  int64_t batch_size = 64;
  int64_t eval_batch_size = 0;            // 0: same as batch_size
  int64_t workers = 0;
  int64_t train_limit = 0;                // use only the first N training samples (0: all)
  int64_t eval_limit = 0;
};

struct OptimizerSpec {
  std::string type = "sgd";
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

struct ScheduleSpec {
  std::string type = "constant";          // constant | step | cosine
  int64_t step_epochs = 30;               // step: multiply by gamma every step_epochs epochs
  double gamma = 0.1;
  double min_lr = 0.0;                    // cosine: the floor
  double warmup_epochs = 0;               // linear warm-up from 0 in front of any schedule
};

struct TrainSpec {
  int64_t epochs = 10;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  double label_smoothing = 0.0;
  uint64_t seed = 1;
  int64_t log_every = 0;                  // steps between progress lines and step metrics (0: auto)
  int64_t eval_every = 1;                 // evaluate on the test set every N epochs (and after the last)
  std::string best_metric = "test_acc";   // best.safetensors keeps the best by: test_acc | test_top5 | test_loss
};

struct Recipe {
  std::string file;                       // recipe path ("" for a string)
  std::string model_path;                 // as resolved (absolute or relative to cwd)
  ModelSpec model;
  DataSpec data;
  TrainSpec train;
  std::string output = "runs/run";
  std::string resolved_yaml;              // the whole recipe after defaults and overrides
};

// Loads a recipe file; `overrides` are `dotted.key=value` strings from --set. The model path is
// relative to the recipe file; `model:` may also be an inline mapping. Overrides whose key starts
// with "model." apply to the model document.
Recipe load_recipe_file(const std::string& path, const std::vector<std::string>& overrides = {});
Recipe load_recipe_string(const std::string& yaml_text, const std::string& name_for_errors,
                          const std::string& base_dir, const std::vector<std::string>& overrides = {});

}  // namespace cnn
