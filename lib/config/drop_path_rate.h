#pragma once
// `train.drop_path_rate`: stochastic depth whose rate grows linearly with depth, as timm's
// `drop_path_rate` (resnet.py: block_dpr = drop_path_rate * block_idx / (num_blocks - 1)).
#include "config/model_spec.h"

namespace cnn::cfg {

// The residual merges of `model` are its `add` nodes, in order: merge i of N gets a drop_path node
// with p = rate * i / (N - 1) (the first: 0, the last: rate; one merge: 0) at the end of its first
// input, the residual branch, named "<block>.drop_path". Merges whose first input already is a
// drop_path node (`{merge: add, drop_path: p}` in the model, or one written by hand) keep it; p = 0
// adds no node. Node indices and heads are renumbered.
void apply_drop_path_rate(ModelSpec& model, double rate);

// The rate merge i of n gets (timm's linear decay rule).
double drop_path_rate_of(double rate, size_t i, size_t n);

}  // namespace cnn::cfg
