#pragma once
// The long-row layout of the direct convolution (row_conv.h). N images of H x W become one row
// per channel: image n's pixel (h, w) sits at row[front + n * plane + h * pitch + w], and every
// other position of the row is zero. pitch = W + max(left, right padding) and
// plane = (H + max(top, bottom padding)) * pitch: the zero columns right of one image row are the
// left padding of the next, the zero rows below one image are the top padding of the next. The
// convolution's output (and the input gradient) use the same pitch and plane, so a stride-1
// convolution is a sum of shifted rows, with offset (kh * DH - top) * pitch + (kw * DW - left)
// for tap (kh, kw), and backward-data uses the negated offsets.
#include <cstdint>
#include <vector>

#include "kernels/im2col.h"

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
  std::vector<int64_t> fwd_off;    // forward tap offsets (relative to the output position)
  std::vector<int64_t> bwd_off;    // backward-data tap offsets (negated)
  RowLayout x, y, dy, dx;          // input, output, output gradient (margins for backward-data), input gradient
};

// Plans the layouts for a stride-1, groups-1 convolution of N images with geometry g (padding
// no larger than the dilated kernel extent on each side); ok = false otherwise.
RowConvPlan plan_row_conv(const ConvGeom& g, int64_t N);

// src: N x C x H x W (image stride C * H * W, channel stride H * W) -> C rows of `layout`.
// Writes every position of each row (zeros between images), parallel over channels.
void pack_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& layout, float* rows);
// The inverse for the images' positions: dst[n][c][h][w] = rows[c][front + n * plane + h * pitch + w]
// (+ bias[c] when bias is non-null), parallel over channels.
void unpack_rows(const float* rows, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& layout,
                 const float* bias, float* dst);

}  // namespace cnn
