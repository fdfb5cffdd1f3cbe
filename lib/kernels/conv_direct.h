#pragma once
// Direct convolution (stride 1, groups 1) over the long-row layout (conv_rows.h) with the
// row-convolution kernels (row_conv.h): no im2col columns, no GEMM packing. Forward packs the
// input into rows, runs the kernel over position chunks in parallel and unpacks the output;
// backward packs the output gradient once and uses it for the weight gradient (partials per
// thread, or per unit of work for the blocked kernels, summed in their order: same --threads, same
// bits) and the input gradient.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/blocked_conv.h"
#include "kernels/conv_rows.h"
#include "kernels/row_conv.h"
#include "kernels/winograd_conv.h"

namespace cnn {

struct DirectConvPlan {
  RowConvPlan rows;  // forward and backward-data (narrow when it fits: conv_rows.h)
  RowConvPlan wide;  // the weight gradient's layouts: rows itself unless rows.narrow
  int M = 0, C = 0;
  int64_t N = 0;
  ConvGeom g;
  const RowConvKernel* kernel = nullptr;
  OutputMap y_map;   // forward writes y through it (no output rows, no unpack pass)
  OutputMap dx_map;  // stride 1: backward-data writes dx through it
  // Forward in the channel-blocked layout (blocked_conv.h) when `blocked.kernel` is set: the input
  // packed into blocked padded planes, the blocked kernel, the outputs unpacked through the
  // epilogue. The row layout then serves backward only.
  BlockedConvPlan blocked;
  bool forward_blocked() const { return blocked.kernel != nullptr; }
  // Stride 1: backward-data as the blocked convolution of the padded output gradient with the
  // reversed, transposed weights (backward_data_geometry), when `blocked_dx.kernel` is set.
  BlockedConvPlan blocked_dx;
  bool backward_data_blocked() const { return blocked_dx.kernel != nullptr; }
  // Strided: backward-data as one blocked convolution per phase of dx (plan_blocked_strided_dx),
  // when it has phases.
  BlockedStridedDx blocked_sdx;
  bool strided_dx_blocked() const { return !blocked_sdx.phases.empty(); }
  // The layout the output gradient is packed into for the blocked input gradient (either kind).
  const BlockedConvPlan* dy_padded() const {
    return backward_data_blocked() ? &blocked_dx : strided_dx_blocked() ? &blocked_sdx.pad : nullptr;
  }
  // With the blocked forward, the weight gradient is blocked too (blocked_wgrad_run): x packed as
  // forward packs it, dy as dy_padded() when backward-data is blocked, else unpadded through
  // dy_plain (a 1x1 plan over dy); dy_pix: where output pixel i sits in either.
  bool weight_gradient_blocked() const { return forward_blocked(); }
  // Forward and backward read x, and backward reads dy, only through pack_blocked_input (so
  // either may arrive through a BnPackMap).
  bool packs_input_and_output_grad() const { return forward_blocked() && dy_padded() != nullptr; }
  BlockedConvPlan dy_plain;
  std::vector<int64_t> dy_pix;
  // Training's three passes as Winograd F(2x2, 3x3) where the geometry suits (winograd_conv.h):
  // the pipelined forward (with its own packed weights: pack_pipelined_weights), and every
  // backward's input gradient (wino_dx) and weight gradient (wino's partials). A fused inference
  // forward takes it when its caller packed those weights (DirectForwardIo::winograd).
  WinogradPlan wino, wino_dx;
  // Workspace and packed weights of direct_conv_forward_pipelined.
  size_t pipelined_forward_floats(int threads) const;
  size_t pipelined_weight_floats() const;
  // Workspace in floats for forward (the input rows) and for backward with `threads` threads.
  size_t forward_floats(int threads) const;
  size_t packed_weight_floats() const;  // forward's packed weights (pack_direct_conv_weights)
  size_t backward_floats(int threads) const;
};

// ok() is false when the geometry does not fit the direct path (stride > 1, padding wider than
// the kernel, groups: the caller passes groups == 1 only).
DirectConvPlan plan_direct_conv(const ConvGeom& g, int M, int64_t N, const RowConvKernel& kernel);
inline bool direct_conv_fits(const DirectConvPlan& p) { return p.rows.ok; }

// Whether the planner should take the direct path for geometry g (when it fits) rather than
// im2col + GEMM, given the ISA of the direct kernels and the ISA OpenBLAS's SGEMM computes with
// (blas_core_isa): with AVX2 on both sides, strided and 1x1 convolutions from 32 input channels
// and maps of at most 7x7 with many channels measured faster as GEMM; AVX-512 kernels take every
// 3x3; an SGEMM narrower than the kernels takes nothing (the rules and measurements are in
// conv_direct.cpp).
bool direct_conv_preferred(const ConvGeom& g, Isa kernel_isa, Isa gemm_isa);

// The arrays of ConvEpilogue::slot_sums: a few per thread (the row kernels use one per thread).
int direct_conv_sum_slots();

// Images per direct-convolution call for a batch of N: the rows of x and dy for a group stay
// under the budget (default 1 Mi floats, 4 MiB), so the workspace does not grow with the batch
// and the packed rows are still in cache when the kernels read them.
int64_t direct_conv_group(const ConvGeom& g, int M, int64_t N);
// Test seam: sets the budget in floats (<= 0 restores the default).
void set_direct_conv_group_budget(int64_t floats);
// Whether plans run forward in the blocked layout where it fits (on by default). A test seam.
void set_direct_conv_blocked(bool on);
// Whether plans take Winograd F(2x2, 3x3) for training where it suits (on by default;
// CNN_CONV_WINOGRAD=0 turns it off). A test seam.
void set_direct_conv_winograd(bool on);
// Whether plans use the narrow layout (conv_rows.h) where it fits; off by default (CNN_CONV_NARROW=1
// turns it on: see conv_direct.cpp for why). Also a test seam.
void set_direct_conv_narrow(bool on);

// What forward does to each output after the convolution: + bias[m] (if set), + residual (same
// layout as y, if set), then clamped to [lo, hi] (if clamp): a fused inference pass.
// slot_sums (if set): direct_conv_sum_slots() arrays of 2 * M doubles; for each output channel m,
// the sum of the final outputs and of their squares are added into [s * 2 * M + 2 * m] and
// [s * 2 * M + 2 * m + 1] of the slot s of their work (BatchNorm's statistics while the outputs are
// in cache). Which outputs a slot sums depends on the thread count only.
struct ConvEpilogue {
  const float* bias = nullptr;
  const float* residual = nullptr;
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  double* slot_sums = nullptr;
};

// w: M x C x KH x KW -> the kernel's layout (packed_weight_floats() floats). Depends on M, C and
// the taps only: one packing serves every image group of a batch, and inference keeps it.
void pack_direct_conv_weights(const DirectConvPlan& p, const float* w, float* dst);
// The same for direct_conv_forward_pipelined (pipelined_weight_floats() floats).
void pack_pipelined_weights(const DirectConvPlan& p, const float* w, float* dst);
// Blocked handoffs (inference, planned by the Net; forward_blocked() plans only): x already in
// p.blocked's padded input layout (no pack), and/or the outputs written into the reader's input
// plane through y_target (no unpack: the epilogue is the target's, e's is unused).
struct DirectForwardIo {
  bool x_blocked = false;
  const BnPackMap* x_map = nullptr;  // x packed through it (training: a packed BatchNorm)
  const BlockedOutputTarget* y_target = nullptr;
  BlockedResidual residual;  // a blocked residual (data set: this group's first image) instead of e.residual
  // Winograd (p.wino): wpacked from pack_pipelined_weights, xrows of pipelined_forward_floats.
  bool winograd = false;
};
// x: N x C x H x W, wpacked: pack_direct_conv_weights, y: N x M x OH x OW; xrows: forward_floats().
void direct_conv_forward(const DirectConvPlan& p, const float* x, const float* wpacked, const ConvEpilogue& e,
                         float* y, float* xrows, const DirectForwardIo& io = {});
// Backward over a batch in image groups (plans of one layer that differ in N only; workspace:
// backward_floats of the largest): begin packs the input-gradient weights once (when dx) and
// clears the weight-gradient partials (when dw); each group overwrites its dx
// (N x C x H x W, when non-null) and adds its weight gradient to the partials (when dw; false: a
// frozen layer); finish adds the partials to dw in their order (same --threads, same bits).
// Measured before (per group: the weights packed again and the partials added to dw): ResNet-50
// training at batch 32 spent 11% of a step there, 1 image per group in its first stages.
void direct_conv_backward_begin(const DirectConvPlan& p, const float* w, bool dx, bool dw, float* workspace);
// add_dx: dx += the input gradient instead of dx = it. x_map, dy_map: x and dy packed through
// them (training: packed BatchNorms; only when packs_input_and_output_grad).
void direct_conv_backward_group(const DirectConvPlan& p, const float* x, const float* dy, float* dx, bool dw,
                                float* workspace, bool add_dx = false, const BnPackMap* x_map = nullptr,
                                const BnPackMap* dy_map = nullptr);
void direct_conv_backward_finish(const DirectConvPlan& p, float* dw, float* workspace);
// Pipelined passes over a whole batch of N images (training: the blocked path, forward_blocked()
// for forward, packs_input_and_output_grad() for backward; p: the layer's group plan, whose
// workspace they use): each thread packs, convolves and unpacks its own few images at a time, so
// they stay in its L2 and one thread's memory passes overlap the other's multiply-adds, in one
// parallel pass instead of one per step and group of images. Units of work are runs of images
// (forward: direct_conv_sum_slots(), e.slot_sums per unit; backward: the weight gradient's
// partials), taken whole by whichever thread is free: the same bits for the same thread count.
// x, y, dy, dx and the maps' x are the whole batch's. Forward: wpacked from pack_pipelined_weights,
// workspace of pipelined_forward_floats.
void direct_conv_forward_pipelined(const DirectConvPlan& p, int64_t N, const float* x, const float* wpacked,
                                   const ConvEpilogue& e, float* y, float* workspace, const BnPackMap* x_map);
// Between direct_conv_backward_begin and _finish. plane_sums (with x_map, dx written, not added):
// x_map's BatchNorm's backward sums of dx (bn_plane_grad_sums, BnPlaneSums::sums, the same bits),
// each plane's taken as the unpack writes it (strided: right after the image's dx).
void direct_conv_backward_pipelined(const DirectConvPlan& p, int64_t N, const float* x, const float* dy, float* dx,
                                    bool dw, float* workspace, bool add_dx, const BnPackMap* x_map,
                                    const BnPackMap* dy_map, float* plane_sums = nullptr);
// The three for one group: dw += weight gradient when non-null; dx overwritten when non-null.
void direct_conv_backward(const DirectConvPlan& p, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* workspace);

}  // namespace cnn
