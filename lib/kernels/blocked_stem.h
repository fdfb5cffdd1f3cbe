#pragma once
// Convolutions of few input channels (a network's RGB stem: 3 x 3 x 3 or 3 x 7 x 7 values per
// output pixel) in the blocked layout, for inference, per chunk of output rows: the chunk's input
// rows are copied with the padding into one plane per channel (one lane per input block), and the
// blocked tile reads its taps there, broadcasting one input value per channel and tap
// (BlockedConvKernel::forward_planes). The outputs go into the next layer's padded plane (a blocked
// handoff) or are unpacked to NCHW with the bias and clamp.
// Measured (session 20, Zen 5, 2 threads, `cnn bench --layers`, 5 alternating runs, medians; the
// row kernels first, then session 19's blocked im2col, which gathered each pixel's window values
// into blocked pixels and ran the tile as a 1x1 convolution over them, then this): ResNet-50's 7x7
// stem at batch 1 0.88 / - / 0.61 ms (ONNX Runtime 0.57; the im2col cost 26 -> 35 ms at batch 32:
// gathering 147 values per pixel took as long as the multiply-adds), MobileNet v1's 3x3 stem at
// batch 32 9.8 / 5.0 / 3.4 ms, VGG-16's at batch 8 - / 7.4 / 6.3, ResNet-20's at batch 128
// - / 0.97 / 0.64.
#include <cstdint>

#include "kernels/blocked_conv.h"

namespace cnn {

// The convolutions it is for: few input channels (RGB, RGBA).
bool blocked_stem_suits(const ConvGeom& g);

struct BlockedStemPlan {
  // g over a chunk's planes: one lane per input block (x_block floats each), pixel i's window at
  // x_pix[i] from the image's first padded row; its outputs in blocks of the kernel's lanes.
  BlockedConvPlan conv;
  int rows = 1;  // output rows per chunk
};

// rows: output rows per chunk (0: about 64 KiB of planes and 256 KiB of outputs).
BlockedStemPlan plan_blocked_stem(const ConvGeom& g, int M, const BlockedConvKernel& k, int rows = 0);
// Floats of the packed weights and w (M x C x KH x KW) packed for p.conv.
int64_t blocked_stem_weight_floats(const BlockedStemPlan& p);
void pack_blocked_stem_weights(const BlockedStemPlan& p, const float* w, float* dst);
// Scratch floats per thread for blocked_stem_run.
int64_t blocked_stem_scratch_floats(const BlockedStemPlan& p);

struct BlockedStemIo {
  const float* x = nullptr;  // N x C x H x W
  float* y = nullptr;        // the target's planes, or N x M x OH x OW when target is null
  const BlockedOutputTarget* target = nullptr;  // with its bias and clamp
  const float* bias = nullptr;                  // NCHW outputs: M floats, or null
  bool clamp = false;                           // NCHW outputs
  float lo = 0.f, hi = 0.f;
  float* scratch = nullptr;  // num_threads() * blocked_stem_scratch_floats(p)
};
// The convolution of N images, in parallel over (image, chunk of output rows).
void blocked_stem_run(const BlockedStemPlan& p, int64_t N, const float* wpacked, const BlockedStemIo& io);

}  // namespace cnn
