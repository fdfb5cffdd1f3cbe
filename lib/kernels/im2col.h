#pragma once
// im2col / col2im for one image (or one group of an image's channels).
// x: C x H x W. col: (C*KH*KW) x (OH*OW), row (c, ki, kj) holds x[c, oh*SH - PH + ki*DH, ow*SW - PW + kj*DW]
// (0 outside the image) for every output position (oh, ow).
#include <cstdint>

namespace cnn {

struct ConvGeom {
  int C = 0, H = 0, W = 0;       // input channels (of one group), height, width
  int KH = 1, KW = 1;
  int SH = 1, SW = 1;
  int PH = 0, PW = 0;            // top/left padding; bottom/right equal unless set otherwise
  int PH_end = -1, PW_end = -1;  // bottom/right padding (-1: same as PH/PW)
  int DH = 1, DW = 1;
  int OH = 0, OW = 0;            // filled by finish()
  void finish();                 // computes OH, OW (floor mode, as PyTorch)
  int64_t col_rows() const { return int64_t(C) * KH * KW; }
  int64_t col_cols() const { return int64_t(OH) * OW; }
  // 1x1 kernel, stride 1, no padding: the image is its own column matrix.
  bool is_pointwise() const;
};

// ld: distance between rows of col (default OH*OW); a larger ld lets several images share one
// column matrix side by side, so one GEMM covers a batch of small images.
void im2col(const float* x, const ConvGeom& g, float* col, int64_t ld = 0);
// Adds the columns back into dx (dx must be zeroed or hold gradient to add to).
void col2im(const float* col, const ConvGeom& g, float* dx, int64_t ld = 0);

}  // namespace cnn
