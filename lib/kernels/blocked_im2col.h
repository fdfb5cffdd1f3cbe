#pragma once
// Convolutions of few input channels (a network's RGB stem: 3 x 3 x 3 or 3 x 7 x 7 values per
// output pixel) in the blocked layout, for inference: per chunk of output rows, each output
// pixel's C x KH x KW window values are gathered straight into the lanes of blocked pixel vectors
// (im2col in the blocked layout, in the thread's scratch), and the blocked tile runs on them as a
// 1x1 convolution of C x KH x KW input channels. The outputs go into the next layer's padded plane
// (a blocked handoff) or are unpacked to NCHW with the bias and clamp. Measured before writing it
// (session 19, Zen 5, MobileNet v1 inference at batch 32, `cnn bench --layers` against ONNX
// Runtime's profile): the stem on the row kernels 8.6 ms writing NCHW (which the first depthwise
// convolution then packs), ONNX Runtime's 5.1.
#include <cstdint>

#include "kernels/blocked_conv.h"

namespace cnn {

// The convolutions it is for: few input channels (RGB, RGBA) and windows of at most
// kBlockedIm2colValues values per pixel. Measured (session 19, Zen 5, batch 32, `--layers`):
// MobileNet v1's 3x3x3 stem 9.8 -> 6.9 ms (and its first depthwise 4.1 -> 2.9 without the pack);
// ResNet-50's 7x7x3 stem 26 -> 35 ms: gathering and transposing 147 values per pixel cost as
// much as the multiply-adds (a kernel reading NCHW rows directly, as ONNX Runtime's, would not).
bool blocked_im2col_suits(const ConvGeom& g);

struct BlockedIm2colPlan {
  ConvGeom g;            // the convolution
  BlockedConvPlan conv;  // the 1x1 convolution over the output map, g.C * KH * KW input channels
  int rows = 1;          // output rows per chunk
};

BlockedIm2colPlan plan_blocked_im2col(const ConvGeom& g, int M, const BlockedConvKernel& k);
// Floats of the packed weights and w (M x C x KH x KW) packed for p.conv.
int64_t blocked_im2col_weight_floats(const BlockedIm2colPlan& p);
void pack_blocked_im2col_weights(const BlockedIm2colPlan& p, const float* w, float* dst);
// Scratch floats per thread for blocked_im2col_run.
int64_t blocked_im2col_scratch_floats(const BlockedIm2colPlan& p);

struct BlockedIm2colIo {
  const float* x = nullptr;  // N x C x H x W
  float* y = nullptr;        // the target's planes, or N x M x OH x OW when target is null
  const BlockedOutputTarget* target = nullptr;  // with its bias and clamp
  const float* bias = nullptr;                  // NCHW outputs: M floats, or null
  bool clamp = false;                           // NCHW outputs
  float lo = 0.f, hi = 0.f;
  float* scratch = nullptr;  // num_threads() * blocked_im2col_scratch_floats(p)
};
// The convolution of N images, in parallel over (image, chunk of output rows).
void blocked_im2col_run(const BlockedIm2colPlan& p, int64_t N, const float* wpacked, const BlockedIm2colIo& io);

}  // namespace cnn
