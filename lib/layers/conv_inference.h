#pragma once
// A convolution's inference fusion (Layer::fuse_for_inference): the eval-mode BatchNorm after it
// folded into its weights and bias (layers/bn_fold.h), the residual add and clamp applied in its
// output pass, and the direct path's weights packed once for every forward instead of each time.
#include "core/tensor.h"
#include "kernels/conv_direct.h"
#include "layers/layer.h"

namespace cnn {

struct ConvInference {
  bool on = false;
  Tensor weight;             // folded weights (empty: the conv's own are used)
  Tensor bias;               // folded bias (empty: the conv's own, if any)
  Tensor packed;             // direct path: the weights in use, packed (conv_direct.h)
  const float* w = nullptr;  // the weights in use
  const float* b = nullptr;  // the bias in use, or null
  bool residual = false;     // forward's last input is added
  bool clamp = false;
  float lo = 0, hi = 0;
  size_t floats() const { return size_t(weight.numel() + bias.numel() + packed.numel()); }
};

// Sets `ci` up for the chain `f` with the conv's weight and bias (null: none), or turns it off and
// releases its memory when f is null. The direct path's packing is the caller's (it has the plan).
void prepare_conv_inference(ConvInference& ci, const InferenceFusion* f, const Tensor& weight, const Tensor* bias);

// The epilogue as the direct kernels take it; residual: the first output's residual, or null.
inline ConvEpilogue epilogue_of(const ConvInference& ci, const float* bias, const float* residual) {
  return {bias, residual, ci.clamp, ci.lo, ci.hi};
}

// The residual and clamp over y (n floats, in parallel) for the paths whose kernels do not apply them.
void finish_fused_outputs(const ConvInference& ci, const float* residual, float* y, int64_t n);

}  // namespace cnn
