#pragma once
// Checkpoints: safetensors holding parameters and buffers under their model names
// ("conv1.weight"), optimizer state under "optimizer.<state name>" (optim/optimizer.h: e.g.
// "optimizer.momentum.conv1.weight", "optimizer.exp_avg.fc.bias", "optimizer.step"), and __metadata__ with
// epoch, step, best metric and the resolved config text. Written atomically.
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/net.h"
#include "io/safetensors.h"

namespace cnn {

class Optimizer;

// The names of the extra tensors a training checkpoint may hold beside the model's.
inline constexpr const char* kEmaPrefix = "ema.";                // train.ema's average
inline constexpr const char* kAccumulatePrefix = "accumulate.";  // gradients of a step in progress

struct CheckpointMeta {
  int64_t epoch = 0;          // epochs completed
  int64_t step = 0;           // optimizer steps taken
  double best_metric = -1;    // best value so far of train.best_metric (sign-adjusted: higher is better)
  // A checkpoint written mid-epoch (on an interrupt) also holds where the epoch stood, so
  // --resume continues the same run: batches done, running sums, and the dropout Rng state.
  int64_t epoch_step = 0;     // batches of epoch `epoch + 1` already done (0: at an epoch boundary)
  double epoch_loss_sum = 0, epoch_seconds = 0;
  int64_t epoch_correct = 0, epoch_seen = 0;
  std::array<uint64_t, 4> rng_state{};
  // train.accumulate: a checkpoint taken between two micro-batches of batch `epoch_step + 1` also
  // holds the step so far (train/train_run.h, StepAccumulation) and its summed parameter
  // gradients ("accumulate.<param>" tensors).
  int64_t micro_step = 0;     // micro-batches of that step done (0: at a step boundary)
  int64_t micro_steps = 1;    // train.accumulate when it was saved
  int64_t step_trained = 0, step_seen = 0, step_correct = 0;
  double step_loss_sum = 0, step_last_loss = 0;
  std::string config;         // resolved recipe YAML
  std::string model;          // model YAML text
  std::vector<std::string> class_names;  // the training set's, when known (predict, export)
};

// `extra`: more tensors to store, named with a prefix of their own (train.ema: "ema.*").
void save_checkpoint(const std::string& path, const Net& net, const Optimizer* optimizer, const CheckpointMeta& meta,
                     const std::vector<NamedTensor>& extra = {});

// Loads weights (and optimizer state when `optimizer` is given and the file has it) into `net`.
// Every missing, unexpected or mis-shaped tensor is named in one ConfigError.
// Entries "ema.*" and "accumulate.*" are not the model's: they go to `extra` when given, else they
// are ignored.
CheckpointMeta load_checkpoint(const std::string& path, Net& net, Optimizer* optimizer = nullptr,
                               std::map<std::string, Tensor>* extra = nullptr);

// Loads only the weights into `net` from either a checkpoint of ours or a plain state_dict saved
// as safetensors (e.g. a torchvision model's, whose names and shapes our torchvision-layout
// configs reproduce). Integer tensors (num_batches_tracked: I64) are converted; "optimizer.*"
// entries are ignored; a missing "*.num_batches_tracked" keeps the buffer's value. Every missing,
// unexpected or mis-shaped tensor is named in one ConfigError; an unreadable file is a
// RuntimeError naming it. The tensors of side heads (nodes only they use) may be missing: they
// keep their values (evaluation, prediction and export never run them).
// With WeightsChoice::ema the file's "ema.*" tensors (train.ema's average) are loaded instead of
// the raw weights; a file without them is a ConfigError naming it.
enum class WeightsChoice { raw, ema };
void load_weights(const std::string& path, Net& net, WeightsChoice choice = WeightsChoice::raw);

// The names of the nodes that only feed side heads (LayerSummary::head).
std::set<std::string> side_head_nodes(const Net& net);

// The metadata of a checkpoint (no net needed); a plain state_dict gives the defaults.
CheckpointMeta read_checkpoint_meta(const std::string& path);
// Every numeric field present must parse exactly (RuntimeError "<path>: checkpoint field 'epoch' is
// 'x', expected ..."); absent fields keep their defaults.
CheckpointMeta checkpoint_meta(const std::map<std::string, std::string>& safetensors_metadata,
                               const std::string& path = "");

}  // namespace cnn
