#include "kernels/blocked_im2col.h"

#include <algorithm>

#include "core/parallel.h"

namespace cnn {

namespace {
// Output pixels per chunk: the gathered window values about 64 KiB, so they stay in L2 for the
// tiles of every output group.
constexpr int64_t kChunkFloats = int64_t(1) << 14;

// The window values of output rows [r0, r1) of image x (C x H x W) as rows: value k of pixel i
// (counted from the chunk's first) at rows[k * pixels + i], zero where the window is padding;
// the columns whose windows lie inside the image row copied without checks (contiguous stores
// the compiler vectorizes; the kernel's transposes then make pixel vectors of them: storing
// each value straight into its pixel's lane took as long as the multiply-adds of ResNet-50's
// 7x7 stem, session 19).
void gather_rows(const ConvGeom& g, const float* x, int r0, int r1, float* rows) {
  const int64_t plane = int64_t(g.H) * g.W, pixels = int64_t(r1 - r0) * g.OW;
  const int span = (g.KW - 1) * g.DW;
  const int lo = std::min(g.OW, (g.PW + g.SW - 1) / g.SW);  // first column not reading the left padding
  const int hi = std::max(lo, std::min(g.OW, g.W - 1 - span + g.PW >= 0 ? (g.W - 1 - span + g.PW) / g.SW + 1 : 0));
  int k = 0;
  for (int c = 0; c < g.C; ++c)
    for (int kh = 0; kh < g.KH; ++kh)
      for (int kw = 0; kw < g.KW; ++kw, ++k) {
        const int off = kw * g.DW - g.PW;
        for (int oh = r0; oh < r1; ++oh) {
          float* dst = rows + k * pixels + int64_t(oh - r0) * g.OW;
          const int ih = oh * g.SH - g.PH + kh * g.DH;
          if (ih < 0 || ih >= g.H) {
            std::fill_n(dst, g.OW, 0.f);
            continue;
          }
          const float* src_row = x + c * plane + int64_t(ih) * g.W;
          for (int ow = 0; ow < lo; ++ow) {
            const int iw = ow * g.SW + off;
            dst[ow] = iw >= 0 && iw < g.W ? src_row[iw] : 0.f;
          }
          const float* src = src_row + off;
          // the strides the compiler vectorizes with a constant (stems: 1 and 2)
          if (g.SW == 1)
            std::copy(src + lo, src + hi, dst + lo);
          else if (g.SW == 2)
            for (int ow = lo; ow < hi; ++ow) dst[ow] = src[2 * ow];
          else
            for (int ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.SW];
          for (int ow = hi; ow < g.OW; ++ow) {
            const int iw = ow * g.SW + off;
            dst[ow] = iw >= 0 && iw < g.W ? src_row[iw] : 0.f;
          }
        }
      }
}
}  // namespace

bool blocked_im2col_suits(const ConvGeom& g) {
  constexpr int kChannels = 4, kValues = 32;
  return g.C <= kChannels && g.col_rows() <= kValues;
}

BlockedIm2colPlan plan_blocked_im2col(const ConvGeom& g, int M, const BlockedConvKernel& k) {
  BlockedIm2colPlan p;
  p.g = g;
  ConvGeom cols;  // the output map, one input channel per window value
  cols.C = g.C * g.KH * g.KW, cols.H = g.OH, cols.W = g.OW;
  cols.finish();
  p.conv = plan_blocked_conv(cols, M, k);
  p.rows = static_cast<int>(std::clamp<int64_t>(kChunkFloats / (int64_t(p.conv.CB) * p.conv.L * g.OW), 1, g.OH));
  return p;
}

int64_t blocked_im2col_weight_floats(const BlockedIm2colPlan& p) { return blocked_weight_floats(p.conv); }

void pack_blocked_im2col_weights(const BlockedIm2colPlan& p, const float* w, float* dst) {
  pack_blocked_weights(p.conv, w, dst);  // M x (C * KH * KW) x 1 x 1: the same floats
}

int64_t blocked_im2col_scratch_floats(const BlockedIm2colPlan& p) {
  const int64_t pixels = int64_t(p.rows) * p.g.OW;
  // window values as rows, then as pixel vectors; the outputs
  return pixels * p.conv.C + pixels * p.conv.CB * p.conv.L + pixels * p.conv.MB * p.conv.L;
}

void blocked_im2col_run(const BlockedIm2colPlan& p, int64_t N, const float* wpacked, const BlockedIm2colIo& io) {
  const BlockedConvPlan& c = p.conv;
  const BlockedConvKernel& k = *c.kernel;
  const BlockedConvPlan* into = io.target ? io.target->plane : nullptr;
  const int L = c.L, OW = p.g.OW;
  const int64_t chunks = (p.g.OH + p.rows - 1) / p.rows, scratch = blocked_im2col_scratch_floats(p);
  const int64_t in_image = int64_t(p.g.C) * p.g.H * p.g.W, out_image = int64_t(c.M) * c.pixels;
  const int64_t group_w = int64_t(c.CB) * L * c.G;
  parallel_for_balanced(N * chunks, [&](int64_t b, int64_t e, int tid) {
    float* const rows = io.scratch + tid * scratch;
    float* const cols = rows + int64_t(p.rows) * OW * c.C;
    for (int64_t it = b; it < e; ++it) {
      const int64_t n = it / chunks;
      const int r0 = int(it % chunks) * p.rows, r1 = std::min(p.g.OH, r0 + p.rows);
      const int64_t i0 = int64_t(r0) * OW, i1 = int64_t(r1) * OW, block = (i1 - i0) * L;
      gather_rows(p.g, io.x + n * in_image, r0, r1, rows);
      for (int cb = 0; cb < c.CB; ++cb) {
        const int lanes = std::min(L, c.C - cb * L);
        const float* lane_rows[kMaxBlockedLanes];
        for (int l = 0; l < lanes; ++l) lane_rows[l] = rows + int64_t(cb * L + l) * (i1 - i0);
        k.pack_pixels(lane_rows, lanes, i1 - i0, cols + cb * block);
      }
      float* out = cols + block * c.CB;  // NCHW outputs: the chunk's blocked results first
      BlockedConvArgs a;
      a.CB = c.CB, a.T = 1, a.tap = c.tap.data(), a.last_lanes = c.C % L;
      a.x = cols - i0 * L, a.x_block = block, a.x_pix = c.x_pix.data();
      a.prefetch = block;
      if (into) {
        a.y_pix = io.target->pix, a.y_block = into->x_block;
        a.clamp = io.target->clamp, a.lo = io.target->lo, a.hi = io.target->hi;
      } else {
        a.y_block = block;
      }
      for (int grp = 0; grp < c.MG; ++grp) {
        a.w = wpacked + grp * group_w;
        if (into) {
          a.y = io.y + n * into->x_image + grp * k.blocks * into->x_block;
          a.y_blocks = into->CB - grp * k.blocks;
          for (int blk = 0; blk < std::min(k.blocks, a.y_blocks); ++blk)
            fill_blocked_border(*into, a.y + blk * into->x_block, r0, r1);
          a.bias = io.target->bias ? io.target->bias + grp * c.G : nullptr;
        } else {
          a.y = out - i0 * L + grp * k.blocks * block;
        }
        k.forward(a, i0, i1);
      }
      if (into) continue;
      for (int mb = 0; mb < c.MB; ++mb) {
        const int lanes = std::min(L, c.M - mb * L);
        if (lanes <= 0) break;
        float* rows[kMaxBlockedLanes];
        for (int l = 0; l < lanes; ++l) rows[l] = io.y + n * out_image + int64_t(mb * L + l) * c.pixels + i0;
        BlockedEpilogue ep;
        ep.bias = io.bias ? io.bias + mb * L : nullptr;
        ep.clamp = io.clamp, ep.lo = io.lo, ep.hi = io.hi;
        k.unpack_finish(out + mb * block, i1 - i0, lanes, ep, rows);
      }
    }
  });
}

}  // namespace cnn
