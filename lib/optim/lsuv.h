#pragma once
// LSUV initialization (Mishkin & Matas 2015, "All you need is a good init") as the trainer runs
// it: once, before epoch 1 of a fresh run (not on --resume), on the first training batch.
#include <functional>
#include <string>

#include "config/recipe.h"
#include "data/dataset.h"
#include "graph/net.h"

namespace cnn {

// The net must already be initialized (Net::init: with init.lsuv its conv/linear weights
// without an explicit scheme are orthogonal). Takes the first min(lsuv.batch or
// data.batch_size, N) images of epoch 1's shuffled order (the trainer's, keyed by
// (seed, epoch 1)), with the train transforms, and calls Net::lsuv. `log` gets a summary line.
void run_lsuv(Net& net, const Dataset& train_set, const DataSpec& data, uint64_t seed,
              const std::function<void(const std::string&)>& log);

}  // namespace cnn
