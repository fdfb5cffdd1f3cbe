#pragma once
// The training loop: epochs of shuffled mini-batches, SGD, evaluation after each epoch,
// metrics.jsonl, last/best checkpoints and the resolved config in the run directory.
#include <functional>
#include <string>

#include "config/recipe.h"
#include "dist/allreduce_options.h"

namespace cnn {

struct EpochRecord {
  int64_t epoch = 0;
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, test_top5 = 0;
  bool evaluated = true;                               // false on epochs skipped by train.eval_every
  double lr = 0, images_per_s = 0, seconds = 0;
  int64_t skipped = 0;                                 // unreadable images left out (train and test)
  int64_t step = 0;
};

enum class Progress {
  none,   // only epoch lines
  bar,    // a status line redrawn in place (a terminal)
  lines,  // a plain line every train.log_every steps (logs, CI)
};

struct TrainOptions {
  std::string resume;                                  // checkpoint to continue from
  std::string weights;                                 // initial weights after init (instead of train.init_from); no LSUV
  bool weights_strict = false;                         // every tensor must match (else: those that fit, noted)
  bool overwrite = false;                              // start over in an output directory that holds a run
  std::function<void(const std::string&)> log;         // receives one line at a time
  Progress progress = Progress::none;
  std::function<void(const std::string&)> status;      // Progress::bar: the line to redraw ("" clears it)
  dist::AllreduceOptions allreduce;                    // data-parallel: gradient buckets and overlap
};

struct TrainResult {
  std::vector<EpochRecord> epochs;
  double best_test_acc = -1;
  std::string output_dir;
  Recipe recipe;  // what the run trained with: the model's classes fitted to the dataset (its config.yaml)
};

// Throws Interrupted after saving last.safetensors when a signal asked it to stop
// (core/interrupt.h); a later train() with resume = that file continues the same run.
TrainResult train(const Recipe& recipe, const TrainOptions& options);

// One JSON object per line, as written to metrics.jsonl.
std::string epoch_json(const EpochRecord& r);

}  // namespace cnn
