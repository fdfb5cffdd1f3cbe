#pragma once
// A residual block's option-A shortcut (He et al. 2015's CIFAR ResNets) with the block's add and
// ReLU, for inference: y = clamp(subsample_pad(x) + r), where subsample_pad(x) has channel c =
// x's channel c - before (zeros outside [0, C)) at pixel (oh, ow) = x's (stride * oh, stride *
// ow). x, r and y are each NCHW or in blocked planes (other layers', as blocked handoffs hand
// them over), lanes as the blocked kernel k's. Per output channel block and row: the row's pixel
// vectors (into y's plane row when y is blocked) from x's rows by k's pack, or from x's pixel
// vectors lane by lane (lane l of output block b is channel b * L + l - before of x, or zero),
// then the residual added and the clamp applied there (add_and_clamp), or on the way out
// to NCHW rows (k's unpack with the residual in its epilogue).
// Measured before writing it (session 20, Zen 5, ResNet-20 inference at batch 128, `cnn bench
// --layers`): each downsampling block's shortcut 0.59 ms and add 0.30 ms, its second convolution
// unpacking to NCHW for them and the next block's first convolution packing again, of 30 ms.
#include <cstdint>
#include <vector>

#include "kernels/blocked_conv.h"

namespace cnn {

struct SubsamplePadAddPlan {
  const BlockedConvKernel* kernel = nullptr;
  int C = 0, H = 0, W = 0;     // x
  int M = 0, OH = 0, OW = 0;   // y (and r)
  int before = 0, stride = 1;  // y's channel before + c is x's channel c
  std::vector<int64_t> row_pix;  // w * lanes for w < OW: the pixels of one plane row
};
SubsamplePadAddPlan plan_subsample_pad_add(int C, int H, int W, int M, int before, int stride,
                                           const BlockedConvKernel& k);
int64_t subsample_pad_add_scratch_floats(const SubsamplePadAddPlan& p);  // per thread

struct SubsamplePadAddIo {
  const float* x = nullptr;
  PlaneOrNchw x_layout;
  const float* r = nullptr;
  PlaneOrNchw r_layout;
  float* y = nullptr;
  PlaneOrNchw y_layout;  // y's plane border is filled here
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  float* scratch = nullptr;  // num_threads() * subsample_pad_add_scratch_floats(p)
};
// N images, in parallel over (image, output channel block).
void subsample_pad_add_run(const SubsamplePadAddPlan& p, int64_t N, const SubsamplePadAddIo& io);

}  // namespace cnn
