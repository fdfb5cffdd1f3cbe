#pragma once
// The long-row layout of the direct convolution (row_conv.h). N images of H x W become one row
// per channel: image n's pixel (h, w) sits at row[front + n * plane + h * pitch + w], and every
// other position of the row is zero. pitch = W + max(left, right padding) and
// plane = (H + max(top, bottom padding)) * pitch: the zero columns right of one image row are the
// left padding of the next, the zero rows below one image are the top padding of the next. The
// convolution's output (and the input gradient) use the same pitch and plane, so a stride-1
// convolution is a sum of shifted rows, with offset (kh * DH - top) * pitch + (kw * DW - left)
// for tap (kh, kw), and backward-data uses the negated offsets.
//
// Strided convolutions use phase planes instead: with stride (SH, SW), the zero-padded input is
// split into SH * SW planes P[ph][pw][a][b] = x_padded[a * SH + ph][b * SW + pw], stored one
// after the other in the channel's row (phase_len floats each). Output (oh, ow) and the phase
// planes share the pitch and plane, and tap (kh, kw) reads phase (kh*DH % SH, kw*DW % SW) at
// spatial offset (kh*DH / SH) * pitch + kw*DW / SW: a stride-1 row convolution again, whose
// offsets also select the phase. Backward-data runs once per phase with that phase's taps.
#include <cstdint>
#include <vector>

#include "kernels/im2col.h"
#include "kernels/row_conv.h"

namespace cnn {

struct RowLayout {
  int64_t pitch = 0, plane = 0;  // see above
  int64_t front = 0;             // zero positions before image 0 (reads at negative offsets)
  int64_t positions = 0;         // Q rounded up to kRowConvQAlign: positions the kernels compute
  int64_t length = 0;            // floats per channel row, margins included
};

struct RowConvPlan {
  bool ok = false;                 // false: this convolution does not fit (stride, padding, groups)
  int T = 0;                       // taps
  int SH = 1, SW = 1;              // stride; > 1 uses phase planes (x and dx rows)
  int64_t phase_len = 0;           // strided: floats per phase plane in a channel's row
  int A = 0, B = 0;                // strided: phase plane rows and columns
  std::vector<std::vector<int>> phase_taps;  // strided: the taps reading each phase
  std::vector<int64_t> spatial_off;          // strided: tap offsets without the phase part
  std::vector<int64_t> fwd_off;    // forward tap offsets (relative to the output position)
  std::vector<int64_t> bwd_off;    // backward-data tap offsets (negated)
  // The kernel tap (kh * KW + kw) of each entry of fwd_off and bwd_off: the packed weights follow
  // that order. 0 .. T - 1 except in the narrow layout (pitch W: see plan_row_conv), whose taps
  // are grouped by the outputs they skip (fwd_skips, bwd_skips).
  bool narrow = false;
  std::vector<int> fwd_taps, bwd_taps;
  ColumnSkips fwd_skips, bwd_skips;
  RowLayout x, y, dy, dx;          // input, output, output gradient (margins for backward-data), input gradient
};

// Plans the layouts for a groups-1 convolution of N images with geometry g: stride 1 with
// padding no larger than the dilated kernel extent on each side, or any stride (phase planes);
// ok = false otherwise. With `narrow`, a 3x3 convolution padded by one column on each side
// (narrow_fits) gets pitch W: the zero column is dropped and the taps looking left and right
// skip the outputs at the image's edge instead (ColumnSkips, row_conv.h). The forward and
// backward-data kernels take it; the weight gradient keeps the wide layout (no skips).
bool narrow_fits(const ConvGeom& g);
RowConvPlan plan_row_conv(const ConvGeom& g, int64_t N, bool narrow = false);

// Strided: src (N x C x H x W) -> C rows of SH * SW phase planes of the zero-padded images. Phases
// that no tap reads (p.phase_taps) are not written.
void pack_phase_rows(const float* src, int64_t N, int64_t C, const ConvGeom& g, const RowConvPlan& p, float* rows);
// The inverse for the images' positions (the padding's positions are dropped); pixels of phases
// that no tap reads get zeros. add: dst += the rows instead (those pixels keep their values).
void unpack_phase_rows(const float* rows, int64_t N, int64_t C, const ConvGeom& g, const RowConvPlan& p, float* dst,
                       bool add = false);

// src: N x C x H x W (image stride C * H * W, channel stride H * W) -> C rows of `layout`.
// Writes every position of each row (zeros between images), parallel over channels.
void pack_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& layout, float* rows);

// src: N x C x H x W -> channel-blocked positions of `layout` (row_conv.h's wgrad layout):
// dst[((c / lanes) * layout.positions + q) * lanes + c % lanes] for q in [0, layout.positions),
// zero at the positions that are no pixel and for the channels past C. Parallel over
// (block, image).
void pack_blocked_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& layout,
                       int lanes, float* dst);

}  // namespace cnn
