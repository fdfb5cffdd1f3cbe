#pragma once
// Winograd F(2x2, 3x3) convolution in the channel-blocked layout (blocked_conv.h), for 3x3
// stride-1 convolutions padded by one (training's three passes; inference's forward from 128
// input channels, conv_direct.h): each 2x2 block of outputs (a tile)
// from the 4x4 input pixels around it as
//   y = A^T [ sum over c of (G w G^T)[m][c] . (B^T d_c B) ] A
// (16 products per tile and channel pair instead of 36). A chunk of tiles' inputs is transformed
// into 16 blocked "images" whose pixels are the tiles (BlockedConvKernel::winograd_input), each
// multiplied by its transformed weights as a 1x1 blocked convolution (the table's tile), and the
// 16 results transformed back into the output's pixels (winograd_output). Its rounding differs
// from the direct sums' by a few units in the last place (the transforms add up to 9 values
// before and after the products); the same images give the same bits in any chunking or thread.
// Measured before writing it (session 27, Intel Xeon, AVX-512, 2 threads each on its own images,
// alternating with the direct kernel, a prototype with these loops; ResNet-18-CIFAR's shapes at
// the images the pipelined passes give a thread): 64 @32x32 1.27-1.37x, 128 @16x16 1.24-1.57x,
// 256 @8x8 1.20-1.75x, 512 @4x4 1.45-1.89x the direct kernel's speed.
#include <cstdint>

#include "kernels/blocked_conv.h"

namespace cnn {

struct WinogradPlan {
  const BlockedConvKernel* kernel = nullptr;  // the transforms' (the convolution's ISA)
  BlockedConvPlan gemm;  // one product: a 1x1 convolution of C to M channels over `gemm.pixels` tiles
  int L = 0, CB = 0, MB = 0;                   // lanes, input blocks, output blocks written
  int64_t x_block = 0, x_image = 0, x_row = 0;  // the 3x3 plan's padded input planes
  int64_t y_block = 0, y_image = 0, y_row = 0;  // its outputs
  int64_t OW = 0, TW = 0, tiles = 0;            // output pixels per row, tiles per row and per image
  bool on() const { return kernel != nullptr; }
};

// Whether g (M output channels) runs as Winograd F(2x2, 3x3) in training: a 3x3 kernel, stride and
// dilation 1, padding 1 on every side, an even output map, and at least 64 channels in and out
// (fewer: the transforms cost more than the products save; see winograd_conv.cpp).
bool winograd_suits(const ConvGeom& g, int M);
// Whether an inference forward of such a convolution over N images per call takes it too: from
// 128 input channels (its outputs pass through a scratch buffer on their way into the next
// layer's plane, which cost the 64-channel layers more than the products saved) and 128 tiles
// (each run of tiles reads all 16 weight sets; see winograd_conv.cpp).
bool winograd_suits_inference(const ConvGeom& g, int M, int64_t N);
// The plan over p's layouts (p: a blocked plan of a geometry winograd_suits).
WinogradPlan plan_winograd(const BlockedConvPlan& p);
// Floats of the transformed, packed weights: 16 packed 1x1 weight sets (blocked_weight_floats).
int64_t winograd_weight_floats(const WinogradPlan& wp);
// w (M x C x 3 x 3) -> G w G^T for each pair, packed; flip: w is the forward convolution's
// (C x M x 3 x 3) whose input gradient this computes (pack_blocked_weights' flip).
void pack_winograd_weights(const WinogradPlan& wp, const float* w, float* dst, bool flip = false);
// Floats of one thread's scratch (a chunk's transformed inputs and products).
int64_t winograd_scratch_floats(const WinogradPlan& wp);
// Single-threaded: images [0, count) of xb (the 3x3 plan's padded input planes) into yb (its
// output layout), as blocked_conv_images.
void winograd_images(const WinogradPlan& wp, int64_t count, const float* xb, const float* u, float* yb,
                     float* scratch);
// N images in parallel; thread t's scratch at scratch + t * winograd_scratch_floats(wp).
void winograd_run(const WinogradPlan& wp, int64_t N, const float* xb, const float* u, float* yb, float* scratch);

// The weight gradient: dw = G^T [ sum over tiles of (A g A^T) . (B^T d B) ] G (g: a tile's 2x2
// output gradient, d: its 4x4 input pixels), the 16 sums as 1x1 weight gradients of the chunk's
// transformed inputs and gradients (BlockedConvKernel::wgrad, winograd_grad). A partial: the 16
// sums, M x CB * lanes floats each.
int64_t winograd_wgrad_floats(const WinogradPlan& wp);
// Single-threaded: tiles [t0, t1) of the images at xb (the forward's padded input planes) and dy
// (the output gradient, blocked: its pixels at dy.dy_pix) added to one partial.
void winograd_wgrad_tiles(const WinogradPlan& wp, int64_t t0, int64_t t1, const float* xb, const BlockedGradient& dy,
                          float* partial, float* scratch);
// N images' tiles in `units` equal runs, unit u's sums added to partials + u * winograd_wgrad_floats,
// in parallel over the units (the same units, the same bits, whichever thread runs them).
void winograd_wgrad_run(const WinogradPlan& wp, int64_t N, const float* xb, const BlockedGradient& dy,
                        float* partials, int units, float* scratch);
// dw (M x C x 3 x 3) += G^T (the units' partials, added in unit order) G.
void add_winograd_wgrad(const WinogradPlan& wp, const float* partials, int units, float* dw);

}  // namespace cnn
