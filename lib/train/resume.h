#pragma once
// `cnn train --resume RUN_DIR_or_CHECKPOINT`: the run continues with its own resolved config (the
// one saved in the checkpoint) in the checkpoint's own directory. A --config or --set given with
// it is compared field by field: fields that would make it another run (model, data set, batch
// size, training transforms, seed) are refused, each named with its old and new value; the others
// (more epochs, another lr, eval settings) are explicit overrides, printed.
#include <string>
#include <vector>

#include "config/recipe.h"

namespace cnn {

struct ResumePlan {
  std::string checkpoint;              // the file to resume from
  Recipe recipe;                       // the config to run with; output = the checkpoint's directory
  std::vector<std::string> overrides;  // "train.epochs: 2 -> 4", one per changed field
};

// `resume`: a run directory (its last.safetensors) or a checkpoint. `config`: a recipe file, or ""
// to use the checkpoint's own. `sets`: --set overrides (applied to whichever config is used).
// Throws ConfigError naming every field that may not change.
ResumePlan plan_resume(const std::string& resume, const std::string& config, const std::vector<std::string>& sets);

// The fields that differ between two resolved recipe YAML texts, as "key: old -> new" (dotted
// keys, sorted); `refused` gets those that may not change on resume.
std::vector<std::string> recipe_differences(const std::string& old_yaml, const std::string& new_yaml,
                                            std::vector<std::string>* refused);

// How the learning-rate schedule continues at optimizer step `step` when the resumed run's
// train.epochs (or lr or schedule) differs from the checkpoint's: the lr is a function of the step
// and of the run's total steps, so a schedule that depends on the total (cosine, onecycle) is
// recomputed over the new total, not appended. One "note: ..." line naming the lr at `step` under
// both configs; "" when the lr schedule is the same.
std::string schedule_continuation_note(const TrainSpec& saved, const TrainSpec& now, int64_t step,
                                       int64_t steps_per_epoch);

}  // namespace cnn
