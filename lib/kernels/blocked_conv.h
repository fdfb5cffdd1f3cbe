#pragma once
// Direct convolution in the channel-blocked layout (NCHWc): an image's channels in blocks of
// `lanes` (one vector), each block a plane of pixels with the block's channels innermost:
//   x[c][h][w] at xb[(c / lanes) * x_block + (h * pitch + w) * lanes + c % lanes].
// The input plane carries the convolution's padding as a zero border, so every tap of every
// output pixel reads memory that is there. A tile is P output pixels (any P pixels: each has its
// own window origin, so rows, image edges and strides cost nothing) x the G = blocks * lanes
// output channels of one group; per input channel and tap, P broadcast inputs times `blocks`
// weight vectors:
//   y[m][i] = sum over c < C, t < T of w[m][c][t] * x_window(i)[c][tap t].
// No positions are computed that are not outputs (the row layout computes its padding columns).
// Measured before writing it (session 13, Zen 3, AVX2, 6 pixels x 16 channels, prototype on
// ResNet-20's 3x3 shapes at batch 128): 92-94 GFLOP/s on one thread, 95% of the FMA peak, against
// 63-70 for the row kernel's forward tile.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/isa.h"
#include "kernels/channel_stats.h"
#include "kernels/im2col.h"

namespace cnn {

struct BlockedDepthwiseArgs;  // kernels/blocked_depthwise.h

struct BlockedConvArgs {
  int CB = 0;                      // input channel blocks
  int last_lanes = 0;              // channels of the last input block (0: all lanes; the rest are zeros)
  int T = 0;                       // taps
  const int64_t* tap = nullptr;    // each tap's offset from a window's origin (floats)
  const float* x = nullptr;        // the image's blocked input
  int64_t x_block = 0;             // floats between input channel blocks
  const int64_t* x_pix = nullptr;  // window origin of output pixel i at x + x_pix[i]
  const float* w = nullptr;        // the group's packed weights: [CB][T][lanes][G]
  float* y = nullptr;              // output pixel i of the group's first block at y + i * lanes
  int64_t y_block = 0;             // floats between output blocks
  // Written into another convolution's input plane (BlockedOutputTarget): output pixel i at
  // y + y_pix[i] instead, only the first y_blocks blocks stored, each result + bias[b * lanes + l]
  // (if set) and clamped to [lo, hi] (if clamp) first.
  const int64_t* y_pix = nullptr;
  int y_blocks = 0;
  const float* bias = nullptr;
  // + a residual after the bias (BlockedResidual, this image's, at the group's first block):
  // channels lanes from the group's first block are read
  const float* res = nullptr;
  int64_t res_block = 0, res_lane = 1;
  const int64_t* res_pix = nullptr;
  int res_channels = 0;
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  // Floats past each window's first pixel in this block to prefetch (0: none): 1x1 convolutions
  // read every input once per tile, so the next block's pixels are fetched while this one is used;
  // with prefetch_taps, the line of every tap that far ahead (strided convolutions: rows ahead).
  int64_t prefetch = 0;
  bool prefetch_taps = false;
};

// A residual added in a blocked convolution's output pass, in either layout: channel lane l of
// output block b at pixel i of an image at data + b * block + pix(i) + l * lane, pix(i) = pix[i]
// (null: i), images `image` floats apart. An NCHW residual: block lanes * HW, lane HW, pix null (its
// lanes gathered, none past `channels`); a blocked plane: its x_block, interior pixels and lane 1.
struct BlockedResidual {
  const float* data = nullptr;
  int64_t image = 0, block = 0, lane = 1;
  const int64_t* pix = nullptr;
  int channels = 0;
};

constexpr int kMaxBlockedLanes = 16;

// The weight gradient's sums over output pixels (of one or more images) in the blocked layout:
// the input as forward reads it, the output gradient blocked too (output pixel i's channels of
// block mb at dy + mb * dy_block + dy_pix[i]); the sums are added to a transposed dw:
//   dwt[(t * M + m) * CB * lanes + c] += sum over i of dy_i[m] * x_window(i)[c][tap t].
struct BlockedWgradArgs {
  int CB = 0, M = 0, T = 0;
  const int64_t* tap = nullptr;
  const float* x = nullptr;
  int64_t x_block = 0;
  const int64_t* x_pix = nullptr;
  const float* dy = nullptr;
  int64_t dy_block = 0;
  const int64_t* dy_pix = nullptr;
  // Along an output row (OW pixels) the window origins step by x_step floats, dy by one pixel.
  int64_t OW = 0, x_step = 0;
  // The sums run over the same pixels of `images` images, x_image and dy_image floats apart.
  int64_t images = 1, x_image = 0, dy_image = 0;
};

// A training BatchNorm's backward sums of the planes an unpack writes (its rows whole planes): x[l]
// the BatchNorm's input plane of channel l, channels[l] its map's channel (mean; scale and shift
// when relu), out[2 l] and out[2 l + 1] what grad_sums gives for x[l] and the finished row l.
struct BlockedGradSums {
  const float* const* x = nullptr;
  const BnChannel* channels = nullptr;
  bool relu = false;
  float* out = nullptr;
};
// Whether an unpack of rows of W pixels sums them as the vectors pass (every pixel in an L x L
// transpose, in grad_sums' lanes), so the rows need not stay in cache for a pass after it.
inline bool blocked_grad_sums_fused(int64_t W) { return W % kStatLanes == 0; }

// What an unpacked output gets on its way out: + bias[l] (if set), + residual[l][w] (if set), then
// clamped to [lo, hi] (if clamp); in that order, as the row kernels' finish_output_run.
// With sums set, the final values of channel l are also summed into its kSumLanes double lanes at
// sums + l * kBlockedSumStride and their squares into the kSumLanes after them (BatchNorm's
// statistics; the caller adds the lanes up in lane order).
struct BlockedEpilogue {
  const float* bias = nullptr;
  const float* const* residual = nullptr;
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  double* sums = nullptr;
  bool accumulate = false;  // rows[l][w] += the result (a second reader's input gradient)
  // Rows not read again before they leave the caches (a training forward's outputs, read after the
  // whole batch's statistics; an input gradient whose BatchNorm sums `grad` takes): stored past
  // them (no read for ownership), where aligned.
  bool stream = false;
  const BlockedGradSums* grad = nullptr;  // the planes' BatchNorm sums, as the values are finished
  // A blocked residual instead of rows: pixel w's lanes at residual_px + residual_pix[w], added
  // with the bias (then lanes floats, zeros past count) to the pixels before they are transposed
  // (the same additions in the same order).
  const float* residual_px = nullptr;
  const int64_t* residual_pix = nullptr;
};
constexpr int kBlockedSumLanes = 8, kBlockedSumStride = 2 * kBlockedSumLanes;

// Channel l's value v at pixel w through e (its sums into lane 0).
inline float finish_blocked_value(float v, int l, int64_t w, const BlockedEpilogue& e) {
  if (e.bias) v += e.bias[l];
  if (e.residual) v += e.residual[l][w];
  if (e.clamp) v = v > e.lo ? (v < e.hi ? v : e.hi) : e.lo;
  if (e.sums) {
    e.sums[l * kBlockedSumStride] += v;
    e.sums[l * kBlockedSumStride + kBlockedSumLanes] += double(v) * v;
  }
  return v;
}
// Lane l of pixel w of src (lanes floats per pixel), with a blocked residual and the bias added
// when e has one (then finished through e without them).
inline float blocked_pixel_value(const float* src, int64_t w, int l, int lanes, const BlockedEpilogue& e) {
  float v = src[w * lanes + l];
  if (!e.residual_px) return v;
  if (e.bias) v += e.bias[l];
  return v + e.residual_px[e.residual_pix[w] + l];
}
inline void store_blocked_value(float v, const BlockedEpilogue& e, float* out) {
  *out = e.accumulate ? *out + v : v;
}

// Up to two runs of a pixel vector's lanes read from the pixel's input blocks, the other lanes
// zero (a channel shift across blocks: option A's padding): lanes [lane[k], lane[k] + count[k]) at
// the pixel's position + from[k] + lane.
struct LaneRuns {
  int n = 0;
  int lane[2] = {}, count[2] = {};
  int64_t from[2] = {};
};

struct BlockedConvKernel {
  std::string_view name;
  Isa isa;
  int lanes;   // channels per block
  int blocks;  // output blocks per group (G = blocks * lanes)
  int tile;    // output pixels per tile (P)
  // Output pixels [i0, i1) of one group, single-threaded.
  void (*forward)(const BlockedConvArgs& a, int64_t i0, int64_t i1);
  // The same over an input whose channels are planes of their own (one lane per block: NCHW rows
  // with a border, a.x_block apart): a.w is [CB][T][G] and a.tap, a.x_pix count floats of a plane.
  void (*forward_planes)(const BlockedConvArgs& a, int64_t i0, int64_t i1);
  // Channel rows to pixels: dst[w * lanes + l] = rows[l][w] for l < count, 0 for count <= l < lanes;
  // with pix, pixel w at dst + pix[w] instead (rows read as one run across a plane's row ends,
  // stored into a padded plane: BlockedConvPlan::pack_pix).
  void (*pack_pixels)(const float* const* rows, int count, int64_t W, float* dst, const int64_t* pix);
  // The same through a BatchNorm's map: rows[l][w] through bn_map_value for channel c0 + l
  // (xrows[l][w]: map.x's value there, input_grad), with its bits.
  void (*pack_mapped)(const float* const* rows, const float* const* xrows, int count, int64_t W, float* dst,
                      const int64_t* pix, const BnPackMap& map, int c0);
  // Pixels to channel rows through the epilogue e (an empty one: a plain transpose):
  // rows[l][w] = e(src[w * lanes + l]) for l < count.
  void (*unpack_finish)(const float* src, int64_t W, int count, const BlockedEpilogue& e, float* const* rows);
  // The weight gradient of output pixels [i0, i1) of a.images images added to dwt
  // (BlockedWgradArgs), single-threaded.
  void (*wgrad)(const BlockedWgradArgs& a, int64_t i0, int64_t i1, float* dwt);
  // Output pixels [i0, i1) of one channel block of a depthwise convolution (blocked_depthwise.h),
  // single-threaded.
  void (*depthwise)(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1);
  // The same for max pooling: each pixel's maximum over the taps (w, bias and clamp unused).
  void (*maxpool)(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1);
  // count pixel vectors dst[i * lanes + l] through r from the pixels at base + pix[i * step];
  // ahead > 0: the runs of the pixel at pix[i * step + ahead] are prefetched meanwhile.
  void (*gather_lanes)(const float* base, const int64_t* pix, int64_t step, int64_t count, int64_t ahead,
                       const LaneRuns& r, float* dst);
  // A training BatchNorm's backward sums of one plane: plane_grad_sums, or plane_grad_sums_relu
  // through relu's scale and shift when relu is set (channel_stats.h), with their bits (their
  // kStatLanes partial sums as vectors; a sum that is zero may differ in its sign).
  void (*grad_sums)(const float* x, const float* dy, int64_t n, float mean, const BnChannel* relu, float& sum_dy,
                    float& sum_dy_xc);
  // Winograd F(2x2, 3x3) transforms (winograd_conv.h) of `count` tiles along a row of tiles, one
  // channel block. Input: tile j's 4x4 pixels at x + 2 * j * lanes (pixel rows `row` floats
  // apart) -> the 16 vectors of B^T d B at v + j * lanes + k * step (k = 4 * its row + its column).
  // Output: the 16 vectors of tile j at m + j * lanes + k * step -> the 2x2 pixels of A^T m A at
  // y + 2 * j * lanes (rows `row` apart). Additions only, in one order: every ISA gives the same bits.
  // The weight gradient's: tile j's 2x2 output-gradient pixels at dy + 2 * j * lanes (rows `row`
  // apart) -> the 16 vectors of A g A^T at v + j * lanes + k * step.
  void (*winograd_input)(const float* x, int64_t row, int64_t count, float* v, int64_t step);
  void (*winograd_output)(const float* m, int64_t step, int64_t count, float* y, int64_t row);
  void (*winograd_grad)(const float* dy, int64_t row, int64_t count, float* v, int64_t step);
};

// Every implementation, fastest first, the naive reference last: per ISA a two-block tile and a
// one-block tile for convolutions of at most one block of output channels (ResNet-20's 16
// channels are one AVX-512 block: a two-block tile would compute 32), and on AVX-512 a four-block
// tile first for 1x1 convolutions of output channels in multiples of 64.
std::span<const BlockedConvKernel> blocked_conv_kernels();
// The implementation of `isa` for a convolution of `taps` taps (0: a user of the layout and the
// packing only) and M output channels (the reference for generic): one block when M fits one,
// four for a 1x1 convolution whose M they divide, else two.
const BlockedConvKernel& blocked_conv_kernel(Isa isa, int M, int taps = 0);

extern const BlockedConvKernel kBlockedConvAvx512FourBlocks, kBlockedConvAvx512, kBlockedConvAvx512OneBlock;
extern const BlockedConvKernel kBlockedConvAvx2, kBlockedConvAvx2OneBlock;
extern const BlockedConvKernel kBlockedConvReference;

// One convolution's blocked geometry for kernel k.
struct BlockedConvPlan {
  const BlockedConvKernel* kernel = nullptr;
  int L = 0, G = 0;            // lanes, output channels per group
  int C = 0, M = 0;
  int CB = 0, MB = 0, MG = 0;  // input blocks, output blocks (MG * blocks), output groups
  int64_t HP = 0, WP = 0;      // the padded input plane
  float border = 0.f;          // what its border holds (-inf for max pooling)
  int64_t pixels = 0;          // OH * OW
  int64_t x_block = 0, x_image = 0, y_block = 0, y_image = 0;  // floats
  std::vector<int64_t> tap, x_pix;
  // Input rows packed per kernel call (pack_blocked_block): pack_rows rows of W pixels fill whole
  // vectors (1 when W does; 16 at 7 pixels a row), pixel j of such a run at pack_pix[j] floats from
  // the run's first (empty when pack_rows is 1: contiguous).
  int pack_rows = 1;
  std::vector<int64_t> pack_pix;
  ConvGeom g;
};

BlockedConvPlan plan_blocked_conv(const ConvGeom& g, int M, const BlockedConvKernel& k);
// Whether a and b read their input from the same padded blocked planes (layout and geometry).
bool same_blocked_input(const BlockedConvPlan& a, const BlockedConvPlan& b);
// Floats of the packed weights, and w (M x C x KH x KW) packed: [MG][CB][T][L][G], zeros past M and C.
int64_t blocked_weight_floats(const BlockedConvPlan& p);
// flip: w is the forward convolution's (p.C x p.M x KH x KW) whose input gradient p computes:
// its channels transposed and its taps reversed.
void pack_blocked_weights(const BlockedConvPlan& p, const float* w, float* dst, bool flip = false);
// The geometry whose convolution of a stride-1 convolution g's output gradient (padded) is g's
// input gradient: g.M input channels, the taps reversed (pack_blocked_weights with flip).
ConvGeom backward_data_geometry(const ConvGeom& g, int M);
// x (N x C x H x W) -> N blocked padded images (p.x_image floats each), borders and channels past
// C zeroed; in parallel. With a map, each value of x goes through it (bn_map_value, its x indexed
// as this x) on the way.
void pack_blocked_input(const BlockedConvPlan& p, const float* x, int64_t N, float* xb, const BnPackMap* map = nullptr);
// The same for channel block cb of image n alone, into block (p.x_block floats).
void pack_blocked_block(const BlockedConvPlan& p, const float* x, int64_t n, int64_t cb, float* block,
                        const BnPackMap* map = nullptr);
// The border (p.border values) of one block's padded plane (p.x_block floats at block); with rows, only the
// left and right borders of image rows [h0, h1), the rows above them when h0 == 0 and below them
// when h1 == H (disjoint row ranges zero disjoint memory).
void fill_blocked_border(const BlockedConvPlan& p, float* block);
void fill_blocked_border(const BlockedConvPlan& p, float* block, int h0, int h1);
// Where a convolution's forward may write its outputs instead of p.y_image floats per image: the
// padded input plane of the convolution that reads them (`plane`: that reader's plan, whose
// p.C are the writer's p.M channels and whose input is the writer's output map), the results
// + bias, + residual (either layout: BlockedResidual) and clamped on the way, in that order (an
// inference pass: BatchNorm folded, a shortcut, a ReLU). The reader then runs without packing its
// input (Net: blocked handoffs).
struct BlockedOutputTarget {
  const BlockedConvPlan* plane = nullptr;
  const int64_t* pix = nullptr;  // blocked_interior_pixels(*plane)
  const float* bias = nullptr;   // plane->CB * lanes floats, zeros past the channels; or null
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  BlockedResidual residual;      // data null: none
};
// The convolution of N blocked images into N blocked outputs (p.y_image floats each, or the
// target's planes: their borders zeroed here), in parallel over images, pixel chunks and (when
// those are too few for the threads) output groups.
void blocked_conv_run(const BlockedConvPlan& p, int64_t N, const float* xb, const float* wpacked, float* yb,
                      const BlockedOutputTarget* target = nullptr);

// N images of p's outputs (yb, p.y_image floats each) stored into the target's planes at y as
// blocked_conv_run's store would (+ bias, + residual, clamped: the same additions in the same
// order), their borders filled; in parallel. For outputs computed otherwise (winograd_conv.h).
void store_blocked_target(const BlockedConvPlan& p, int64_t N, const float* yb, const BlockedOutputTarget& t, float* y);

// Single-threaded, a thread's part of a pipelined pass (conv_direct.cpp): images [0, count) of xb
// convolved into yb (p.y_image floats each), every pixel chunk and output group in turn.
void blocked_conv_images(const BlockedConvPlan& p, int64_t count, const float* xb, const float* wpacked, float* yb);

// The input gradient of a strided convolution g (M output channels) as one blocked convolution
// per phase (a, b) of dx (its pixels a + SH * i, b + SW * j): the taps (kh, kw) that reach that
// phase, each reading the output gradient at a fixed offset from the phase pixel, over the output
// gradient padded so that every phase's windows stay inside it (`pad` packs it).
struct BlockedPhase {
  int a = 0, b = 0;
  int64_t rows = 0, cols = 0;  // the phase's pixels
  std::vector<int> taps;       // the forward's taps (kh * KW + kw) it reads; none: dx is zero there
  BlockedConvPlan plan;        // g.C outputs from g's M channels: plan.tap and plan.x_pix per phase
};
struct BlockedStridedDx {
  BlockedConvPlan pad;
  std::vector<BlockedPhase> phases;
};
BlockedStridedDx plan_blocked_strided_dx(const ConvGeom& g, int M, const BlockedConvKernel& k);
// w (M x C x KH x KW, the forward's) transposed into ph's weights: [MG][CB][taps][L][G].
int64_t blocked_phase_weight_floats(const BlockedPhase& ph);
void pack_blocked_phase_weights(const BlockedPhase& ph, const float* w, int T, float* dst);

// A tensor in either layout: NCHW (plane null) or another layer's blocked plane (its interior
// pixels at pix).
struct PlaneOrNchw {
  const BlockedConvPlan* plane = nullptr;
  const int64_t* pix = nullptr;
};

// Where the pixels of the unpadded input sit in p's padded blocked planes: ((h + PH) * WP + w + PW)
// * lanes for pixel h * W + w (the dy_pix of an output gradient packed as p's input).
std::vector<int64_t> blocked_interior_pixels(const BlockedConvPlan& p);
// An output gradient packed blocked: images dy_image floats apart, blocks dy_block apart, pixels at
// dy_pix.
struct BlockedGradient {
  const float* dy = nullptr;
  int64_t dy_image = 0, dy_block = 0;
  const int64_t* dy_pix = nullptr;
};
// Floats of one weight-gradient partial for p (dwt of BlockedWgradArgs).
int64_t blocked_wgrad_floats(const BlockedConvPlan& p);
// The partials p's weight gradient is spread over with `threads` threads: a few per thread when
// they are small (the rule and its measurement: blocked_conv.cpp), each an equal run of the
// (image, pixel) pairs taken by whichever thread is free, so a thread slowed by another process
// leaves whole runs to the other.
int blocked_wgrad_units(const BlockedConvPlan& p, int threads);
// The weight gradient of p over N blocked images xb and their output gradient: unit u of `units`
// adds the sums of its run of (image, pixel) pairs to partials + u * blocked_wgrad_floats(p), in
// parallel over the units (the same units, the same bits, whichever thread runs them).
void blocked_wgrad_run(const BlockedConvPlan& p, int64_t N, const float* xb, const BlockedGradient& dy,
                       float* partials, int units);
// Images per work item of the weight gradient (at least 1): its sweeps' length (blocked_conv.cpp).
int64_t blocked_wgrad_item_images(const BlockedConvPlan& p);
// Whether p's weight gradient is large: swept (read and written) once per item, it wants long ones.
bool blocked_wgrad_large(const BlockedConvPlan& p);
// Single-threaded: the weight gradient of `count` whole images added to dwt (one partial).
void blocked_wgrad_images(const BlockedConvPlan& p, int64_t count, const float* xb, const BlockedGradient& dy,
                          float* dwt);
// dw (M x C x KH x KW) += the units' partials, added in unit order.
void add_blocked_wgrad(const BlockedConvPlan& p, const float* partials, int units, float* dw);

}  // namespace cnn
