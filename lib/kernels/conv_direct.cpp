#include "kernels/conv_direct.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"

namespace cnn {
namespace {

// Runs fn(q0, q1) over [0, positions) split into kRowConvQAlign-aligned chunks, one per thread.
template <class Fn>
void over_positions(int64_t positions, Fn&& fn) {
  const int64_t tiles = positions / kRowConvQAlign;
  parallel_for(tiles, [&](int64_t b, int64_t e, int tid) { fn(b * kRowConvQAlign, e * kRowConvQAlign, tid); });
}

}  // namespace

size_t DirectConvPlan::forward_floats() const {
  return size_t(C) * rows.x.length + size_t(M) * rows.y.length + size_t(packed_row_conv_weights(M, C, rows.T));
}

size_t DirectConvPlan::backward_floats(int threads) const {
  const size_t partials = size_t(std::max(threads - 1, 0)) * M * C * rows.T;
  return size_t(C) * rows.x.length + size_t(M) * rows.dy.length + size_t(C) * rows.dx.length +
         size_t(packed_row_conv_weights(C, M, rows.T)) + partials;
}

DirectConvPlan plan_direct_conv(const ConvGeom& g, int M, int64_t N, const RowConvKernel& kernel) {
  DirectConvPlan p;
  p.rows = plan_row_conv(g, N);
  p.M = M;
  p.C = g.C;
  p.N = N;
  p.g = g;
  p.kernel = &kernel;
  return p;
}

void direct_conv_forward(const DirectConvPlan& p, const float* x, const float* w, const float* bias, float* y,
                         float* workspace) {
  const RowConvPlan& r = p.rows;
  float* xrows = workspace;
  float* yrows = xrows + size_t(p.C) * r.x.length;
  float* wpack = yrows + size_t(p.M) * r.y.length;
  pack_rows(x, p.N, p.C, p.g.H, p.g.W, r.x, xrows);
  pack_row_conv_weights(w, p.M, p.C, r.T, false, wpack);
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data();
  a.x = xrows + r.x.front, a.x_stride = r.x.length;
  a.w = wpack, a.y = yrows, a.y_stride = r.y.length;
  over_positions(r.y.positions, [&](int64_t q0, int64_t q1, int) { p.kernel->forward(a, q0, q1); });
  unpack_rows(yrows, p.N, p.M, p.g.OH, p.g.OW, r.y, bias, y);
}

void direct_conv_backward(const DirectConvPlan& p, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* workspace) {
  const RowConvPlan& r = p.rows;
  float* xrows = workspace;
  float* dyrows = xrows + size_t(p.C) * r.x.length;
  float* dxrows = dyrows + size_t(p.M) * r.dy.length;
  float* wpack = dxrows + size_t(p.C) * r.dx.length;
  float* partials = wpack + packed_row_conv_weights(p.C, p.M, r.T);
  pack_rows(x, p.N, p.C, p.g.H, p.g.W, r.x, xrows);
  pack_rows(dy, p.N, p.M, p.g.OH, p.g.OW, r.dy, dyrows);

  const int64_t wsize = int64_t(p.M) * p.C * r.T;
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data();
  a.x = xrows + r.x.front, a.x_stride = r.x.length;
  a.dy = dyrows + r.dy.front, a.y_stride = r.dy.length;
  over_positions(r.y.positions, [&](int64_t q0, int64_t q1, int tid) {
    float* part = tid == 0 ? dw : partials + size_t(tid - 1) * wsize;
    if (tid != 0) std::memset(part, 0, sizeof(float) * size_t(wsize));
    p.kernel->wgrad(a, q0, q1, part);
  });
  const int64_t chunks = std::min<int64_t>(r.y.positions / kRowConvQAlign, num_threads());
  for (int64_t t = 1; t < chunks; ++t) {
    const float* part = partials + size_t(t - 1) * wsize;
    for (int64_t i = 0; i < wsize; ++i) dw[i] += part[i];
  }
  if (!dx) return;
  pack_row_conv_weights(w, p.C, p.M, r.T, true, wpack);
  RowConvArgs b;
  b.M = p.C, b.C = p.M, b.T = r.T, b.off = r.bwd_off.data();
  b.x = dyrows + r.dy.front, b.x_stride = r.dy.length;
  b.w = wpack, b.y = dxrows, b.y_stride = r.dx.length;
  over_positions(r.dx.positions, [&](int64_t q0, int64_t q1, int) { p.kernel->forward(b, q0, q1); });
  unpack_rows(dxrows, p.N, p.C, p.g.H, p.g.W, r.dx, nullptr, dx);
}

}  // namespace cnn
