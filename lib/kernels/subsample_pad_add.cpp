#include "kernels/subsample_pad_add.h"

#include <algorithm>

#include "core/parallel.h"
#include "kernels/activation.h"

namespace cnn {

SubsamplePadAddPlan plan_subsample_pad_add(int C, int H, int W, int M, int before, int stride,
                                           const BlockedConvKernel& k) {
  SubsamplePadAddPlan p;
  p.kernel = &k;
  p.C = C, p.H = H, p.W = W, p.M = M, p.before = before, p.stride = stride;
  p.OH = (H + stride - 1) / stride, p.OW = (W + stride - 1) / stride;
  for (int w = 0; w < p.OW; ++w) p.row_pix.push_back(int64_t(w) * k.lanes);
  return p;
}

// The subsampled rows (lanes x OW), a zero row, and one row of pixel vectors (OW x lanes) for
// NCHW outputs or an NCHW residual.
int64_t subsample_pad_add_scratch_floats(const SubsamplePadAddPlan& p) {
  const int L = p.kernel->lanes;
  return int64_t(L + 1) * p.OW + int64_t(p.OW) * L;
}

namespace {
// Output rows ahead whose input pixels are fetched into the caches: a strided input's lines come
// from memory one per output pixel. Session 20 (Zen 5, ResNet-20 b128, `--layers`, medians of 7
// and of 5 alternating runs): its two shortcuts 1.55 -> 1.13 and 0.80 -> 0.67 ms, then 1.52 ->
// 0.73 and 0.71 -> 0.38.
constexpr int64_t kRowsAhead = 2;
// Output row oh of block mb of image n as pixel vectors at dst, from x in a plane: lane l of
// output pixel ow is lane l's channel of input pixel (stride * oh, stride * ow), or zero. Lane by
// lane through a table of where each lane's channel sat, ResNet-20 inference at batch 128 spent
// 0.75-0.82 and 0.49-0.52 ms in its two shortcuts (session 23, Zen 5, `--layers`), against ONNX
// Runtime's 0.38 and 0.16 for a 1x1 convolution that computes the same.
void gather_row_vectors(const SubsamplePadAddPlan& p, const float* x, const PlaneOrNchw& t, int64_t n, int mb,
                        int64_t oh, float* dst) {
  const int L = p.kernel->lanes, lanes = std::min(L, p.M - mb * L);
  // lanes [l0, l1) hold x's channels mb * L + l - before; one run per input block they come from
  const int l0 = std::max(0, p.before - mb * L), l1 = std::min(lanes, p.C + p.before - mb * L);
  LaneRuns runs;
  for (int l = l0; l < l1;) {
    const int c = mb * L + l - p.before, b = c / L, end = std::min(l1, l + L - c % L);
    runs.lane[runs.n] = l, runs.count[runs.n] = end - l;
    runs.from[runs.n++] = b * t.plane->x_block + (c % L) - l;
    l = end;
  }
  const int64_t ahead = oh + kRowsAhead < p.OH ? kRowsAhead * p.stride * p.W : 0;
  p.kernel->gather_lanes(x + n * t.plane->x_image, t.pix + oh * p.stride * p.W, p.stride, p.OW, ahead, runs, dst);
}

// Where output row oh of image n, block mb starts in a plane laid out as `t` (its interior pixels
// of a row are consecutive).
template <class F>
F* plane_row(F* base, const PlaneOrNchw& t, int64_t n, int mb, int64_t oh, int OW) {
  return base + n * t.plane->x_image + mb * t.plane->x_block + t.pix[oh * OW];
}
}  // namespace

void subsample_pad_add_run(const SubsamplePadAddPlan& p, int64_t N, const SubsamplePadAddIo& io) {
  const BlockedConvKernel& k = *p.kernel;
  const int L = k.lanes, MB = (p.M + L - 1) / L, OW = p.OW;
  const int64_t scratch = subsample_pad_add_scratch_floats(p), OP = int64_t(p.OH) * OW;
  parallel_for(N * MB, [&](int64_t b, int64_t e, int tid) {
    float* const sub = io.scratch + tid * scratch;  // lanes rows of OW
    float* const zeros = sub + int64_t(L) * OW;
    float* const vectors = zeros + OW;
    std::fill_n(zeros, OW, 0.f);
    for (int64_t it = b; it < e; ++it) {
      const int64_t n = it / MB;
      const int mb = int(it % MB), lanes = std::min(L, p.M - mb * L);
      if (const BlockedConvPlan* yp = io.y_layout.plane) fill_blocked_border(*yp, io.y + n * yp->x_image + mb * yp->x_block);
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const float* rows[kMaxBlockedLanes];
        for (int l = 0; l < lanes && !io.x_layout.plane; ++l) {
          const int c = mb * L + l - p.before;
          if (c < 0 || c >= p.C) {
            rows[l] = zeros;
            continue;
          }
          const float* src = io.x + ((n * p.C + c) * p.H + oh * p.stride) * p.W;
          if (p.stride == 1) {
            rows[l] = src;
            continue;
          }
          float* row = sub + int64_t(l) * OW;
          for (int w = 0; w < OW; ++w) row[w] = src[int64_t(w) * p.stride];
          rows[l] = row;
        }
        const float* r_rows[kMaxBlockedLanes];
        if (!io.r_layout.plane)
          for (int l = 0; l < lanes; ++l) r_rows[l] = io.r + ((n * p.M + mb * L + l) * p.OH + oh) * OW;
        if (io.y_layout.plane) {  // pixel vectors into y's row, then the residual's added there
          float* yrow = plane_row(io.y, io.y_layout, n, mb, oh, OW);
          if (io.x_layout.plane) gather_row_vectors(p, io.x, io.x_layout, n, mb, oh, yrow);
          else k.pack_pixels(rows, lanes, OW, yrow, nullptr);
          const float* rrow = vectors;
          if (io.r_layout.plane) rrow = plane_row(io.r, io.r_layout, n, mb, oh, OW);
          else k.pack_pixels(r_rows, lanes, OW, vectors, nullptr);
          add_and_clamp(yrow, rrow, int64_t(OW) * L, io.clamp, io.lo, io.hi);
          continue;
        }
        if (io.x_layout.plane) gather_row_vectors(p, io.x, io.x_layout, n, mb, oh, vectors);
        else k.pack_pixels(rows, lanes, OW, vectors, nullptr);
        BlockedEpilogue ep;
        ep.clamp = io.clamp, ep.lo = io.lo, ep.hi = io.hi;
        if (io.r_layout.plane) {
          ep.residual_px = plane_row(io.r, io.r_layout, n, mb, oh, OW);
          ep.residual_pix = p.row_pix.data();
        } else {
          ep.residual = r_rows;
        }
        float* out[kMaxBlockedLanes];
        for (int l = 0; l < lanes; ++l) out[l] = io.y + (n * p.M + mb * L + l) * OP + oh * OW;
        k.unpack_finish(vectors, OW, lanes, ep, out);
      }
    }
  });
}

}  // namespace cnn
