#pragma once
// Depthwise convolution (one filter per channel, multiplier 1) and max pooling in the channel-blocked layout of
// blocked_conv.h, for inference: each channel block's padded plane in, 16 (AVX-512) or 8 (AVX2)
// channels per vector, the taps as whole-vector FMAs with no transposes. It reads the plane the
// pointwise convolution before it wrote and writes into the plane the pointwise convolution after
// it reads (MobileNet's blocked handoffs); an NCHW input or output is packed or unpacked per block
// on the way. Measured before writing it (session 18, Zen 5, MobileNet v1 inference at batch 32,
// `cnn bench --layers`): the plane kernels took 56 of 272 ms, and the pointwise convolutions' pack
// and unpack around them about 17% of the time.
#include <cstdint>
#include <vector>

#include "kernels/blocked_conv.h"
#include "kernels/pool.h"

namespace cnn {

// One channel block of one image: output pixel i = bias + sum over taps t of w[t] * x at
// x_pix[i] + tap[t] (lane by lane), clamped to [lo, hi] when clamp, stored at y + y_pix[i]
// (y_pix null: y + i * lanes).
struct BlockedDepthwiseArgs {
  int T = 0;
  const int64_t* tap = nullptr;
  const float* x = nullptr;
  const int64_t* x_pix = nullptr;
  const float* w = nullptr;     // [T][lanes]
  const float* bias = nullptr;  // lanes floats, or null
  float* y = nullptr;
  const int64_t* y_pix = nullptr;
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  int64_t prefetch = 0;  // floats ahead of each window's origin fetched into the caches (0: none)
  // Fetch the line of every tap, not only the origin's: strided windows' origins skip lines.
  bool prefetch_taps = false;
};

// The naive twins of the kernels' depthwise and maxpool members, any lanes.
void blocked_depthwise_reference(const BlockedDepthwiseArgs& a, int lanes, int64_t i0, int64_t i1);
void blocked_maxpool_reference(const BlockedDepthwiseArgs& a, int lanes, int64_t i0, int64_t i1);

// p: the plan of the depthwise geometry read as a dense convolution of all C channels
// (plan_blocked_conv with g.C = C and M = C): its input plane, taps and window origins.
// Floats of the packed weights ([CB][T][lanes], zeros past C) and w (C x 1 x KH x KW) packed.
int64_t blocked_depthwise_weight_floats(const BlockedConvPlan& p);
void pack_blocked_depthwise_weights(const BlockedConvPlan& p, const float* w, float* dst);
// Scratch floats per thread for blocked_depthwise_run (an input and an output block plane).
int64_t blocked_depthwise_scratch_floats(const BlockedConvPlan& p);

struct BlockedDepthwiseIo {
  const float* x = nullptr;  // N blocked padded images (p.x_image floats each), or NCHW when !x_blocked
  bool x_blocked = false;
  float* y = nullptr;        // the target's planes (borders zeroed here), or NCHW outputs when target is null
  const BlockedOutputTarget* target = nullptr;  // its plane and pixels; the epilogue is the one below
  const float* bias = nullptr;                  // p.CB * lanes floats (zeros past C), or null
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  float* scratch = nullptr;  // num_threads() * blocked_depthwise_scratch_floats(p)
};
// The depthwise convolution of N images, in parallel over (image, channel block).
void blocked_depthwise_run(const BlockedConvPlan& p, int64_t N, const float* wpacked, const BlockedDepthwiseIo& io);

// Max pooling in the same layout, for inference (PyTorch's MaxPool2d without indices): the
// window's taps over a plane whose border holds -inf, so padding never wins (the plan of C
// channels and pool geometry g; ceil mode as extra padding at the end).
BlockedConvPlan plan_blocked_maxpool(const PoolGeom& g, int C, const BlockedConvKernel& k);
// Max pooling of N images as blocked_depthwise_run (io's bias and clamp unused).
void blocked_maxpool_run(const BlockedConvPlan& p, int64_t N, const BlockedDepthwiseIo& io);

}  // namespace cnn
