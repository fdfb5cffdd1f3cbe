#pragma once
// An exponential moving average of a net's weights (train.ema), with the semantics of
// torchvision's reference ExponentialMovingAverage (torch.optim.swa_utils.AveragedModel with
// use_buffers=True): every `every` optimizer steps, avg = decay * avg + (1 - decay) * value for
// every parameter and buffer (float32, three rounded operations as torch's); the first update,
// and every update during the warm-up epochs, copies the weights instead (n_averaged = 0).
// BatchNorm's num_batches_tracked counters are copied, not averaged.
#include <map>
#include <string>
#include <vector>

#include "graph/net.h"
#include "io/safetensors.h"

namespace cnn {

struct Ema {
  std::vector<Tensor> values;  // net.params() then net.buffers(), in order
  Tensor n_averaged{1};        // updates so far (AveragedModel.n_averaged)
};

// The average of `net` as it is now, with no update counted.
Ema make_ema(const Net& net);
void update_ema(Ema& ema, const Net& net, double decay, bool copy);
// Exchanges the net's weights with the average (twice: back as before).
void swap_ema(Ema& ema, Net& net);

// Checkpoint entries: "ema.<name>" per tensor and "ema.n_averaged".
std::vector<NamedTensor> ema_entries(const Ema& ema, const Net& net, std::vector<std::string>& names);
// Restores from checkpoint entries (the "ema." ones of load_checkpoint); throws RuntimeError
// naming `path` when one is missing or mis-shaped.
void load_ema(Ema& ema, const Net& net, const std::map<std::string, Tensor>& entries, const std::string& path);

}  // namespace cnn
