#include "kernels/blocked_stem.h"

#include <algorithm>

#include "core/parallel.h"

namespace cnn {

namespace {
// A chunk's planes and outputs are about kChunkFloats and 4 * kChunkFloats: in L2 while every
// output group's tiles sweep them.
constexpr int64_t kChunkFloats = int64_t(1) << 14;

// Input rows of a chunk of `rows` output rows.
int64_t chunk_input_rows(const ConvGeom& g, int64_t rows) { return (rows - 1) * g.SH + int64_t(g.KH - 1) * g.DH + 1; }

// The input rows of output rows [r0, r1) of image x (C x H x W) into c's planes at planes, with
// the padding as zeros: plane row j is padded row r0 * SH + j.
void copy_planes(const BlockedConvPlan& c, const float* x, int r0, int r1, float* planes) {
  const ConvGeom& g = c.g;
  const int64_t rows = chunk_input_rows(g, r1 - r0), right = c.WP - g.PW - g.W;
  for (int ch = 0; ch < g.C; ++ch)
    for (int64_t j = 0; j < rows; ++j) {
      float* dst = planes + ch * c.x_block + j * c.WP;
      const int64_t ih = int64_t(r0) * g.SH + j - g.PH;
      if (ih < 0 || ih >= g.H) {
        std::fill_n(dst, c.WP, 0.f);
        continue;
      }
      std::fill_n(dst, g.PW, 0.f);
      std::copy_n(x + (ch * int64_t(g.H) + ih) * g.W, g.W, dst + g.PW);
      std::fill_n(dst + g.PW + g.W, right, 0.f);
    }
}
}  // namespace

bool blocked_stem_suits(const ConvGeom& g) {
  constexpr int kChannels = 4;
  return g.C <= kChannels;
}

BlockedStemPlan plan_blocked_stem(const ConvGeom& g, int M, const BlockedConvKernel& k, int rows) {
  BlockedStemPlan p;
  BlockedConvPlan& c = p.conv;
  c = plan_blocked_conv(g, M, k);  // the groups and output blocks, and WP
  const int64_t by_planes = (kChunkFloats / (g.C * c.WP) - int64_t(g.KH - 1) * g.DH - 1) / g.SH + 1;
  const int64_t by_outputs = 4 * kChunkFloats / (int64_t(c.MB) * k.lanes * g.OW);
  p.rows = static_cast<int>(std::clamp<int64_t>(rows > 0 ? rows : std::min(by_planes, by_outputs), 1, g.OH));
  c.L = 1, c.CB = g.C;
  c.x_block = chunk_input_rows(g, p.rows) * c.WP;
  c.x_image = 0;  // one chunk's planes at a time
  for (int kh = 0, t = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw, ++t) c.tap[size_t(t)] = int64_t(kh) * g.DH * c.WP + int64_t(kw) * g.DW;
  for (int oh = 0; oh < g.OH; ++oh)
    for (int ow = 0; ow < g.OW; ++ow)
      c.x_pix[size_t(oh) * g.OW + ow] = int64_t(oh) * g.SH * c.WP + int64_t(ow) * g.SW;
  return p;
}

int64_t blocked_stem_weight_floats(const BlockedStemPlan& p) { return blocked_weight_floats(p.conv); }

void pack_blocked_stem_weights(const BlockedStemPlan& p, const float* w, float* dst) {
  pack_blocked_weights(p.conv, w, dst);  // one lane per input block: [MG][C][T][1][G]
}

int64_t blocked_stem_scratch_floats(const BlockedStemPlan& p) {
  const BlockedConvPlan& c = p.conv;
  return c.CB * c.x_block + int64_t(p.rows) * c.g.OW * c.MB * c.kernel->lanes;  // the planes; the outputs
}

void blocked_stem_run(const BlockedStemPlan& p, int64_t N, const float* wpacked, const BlockedStemIo& io) {
  const BlockedConvPlan& c = p.conv;
  const ConvGeom& g = c.g;
  const BlockedConvKernel& k = *c.kernel;
  const BlockedConvPlan* into = io.target ? io.target->plane : nullptr;
  const int L = k.lanes;
  const int64_t chunks = (g.OH + p.rows - 1) / p.rows, scratch = blocked_stem_scratch_floats(p);
  const int64_t in_image = int64_t(g.C) * g.H * g.W, out_image = int64_t(c.M) * c.pixels;
  const int64_t group_w = blocked_weight_floats(c) / c.MG;
  parallel_for_balanced(N * chunks, [&](int64_t b, int64_t e, int tid) {
    float* const planes = io.scratch + tid * scratch;
    float* const out = planes + c.CB * c.x_block;  // NCHW outputs: the chunk's blocked results first
    for (int64_t it = b; it < e; ++it) {
      const int64_t n = it / chunks;
      const int r0 = int(it % chunks) * p.rows, r1 = std::min(g.OH, r0 + p.rows);
      const int64_t i0 = int64_t(r0) * g.OW, i1 = int64_t(r1) * g.OW, block = (i1 - i0) * L;
      copy_planes(c, io.x + n * in_image, r0, r1, planes);
      BlockedConvArgs a;
      a.CB = c.CB, a.T = static_cast<int>(c.tap.size()), a.tap = c.tap.data();
      a.x = planes - int64_t(r0) * g.SH * c.WP, a.x_block = c.x_block, a.x_pix = c.x_pix.data();
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
        k.forward_planes(a, i0, i1);
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
