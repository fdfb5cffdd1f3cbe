#include "kernels/conv_rows.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "kernels/row_conv.h"

namespace cnn {
namespace {

int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

// Positions the kernels compute for N images of H x W: up to the last image's last pixel.
int64_t positions_for(int64_t N, int64_t H, int64_t W, int64_t pitch, int64_t plane) {
  return round_up((N - 1) * plane + (H - 1) * pitch + W, kRowConvQAlign);
}

// A row with `front` zeros before image 0, readable up to `reach` positions past image 0's
// start, and long enough to hold N whole planes.
RowLayout make_layout(int64_t N, int64_t pitch, int64_t plane, int64_t positions, int64_t front, int64_t reach) {
  RowLayout l;
  l.pitch = pitch;
  l.plane = plane;
  l.front = front;
  l.positions = positions;
  l.length = round_up(front + std::max({reach, positions, N * plane}), 16);
  return l;
}

}  // namespace

RowConvPlan plan_row_conv(const ConvGeom& g, int64_t N) {
  RowConvPlan p;
  const int pb = g.PH_end < 0 ? g.PH : g.PH_end, pr = g.PW_end < 0 ? g.PW : g.PW_end;
  const int ext_h = g.DH * (g.KH - 1), ext_w = g.DW * (g.KW - 1);
  if (g.SH != 1 || g.SW != 1 || g.PH > ext_h || pb > ext_h || g.PW > ext_w || pr > ext_w) return p;
  const int64_t pitch = g.W + std::max(g.PW, pr), plane = (g.H + std::max<int64_t>(g.PH, pb)) * pitch;
  p.T = g.KH * g.KW;
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw) {
      const int64_t off = int64_t(kh * g.DH - g.PH) * pitch + (kw * g.DW - g.PW);
      p.fwd_off.push_back(off);
      p.bwd_off.push_back(-off);
    }
  const auto [lo, hi] = std::minmax_element(p.fwd_off.begin(), p.fwd_off.end());
  const int64_t fmin = *lo, fmax = *hi;
  const int64_t qy = positions_for(N, g.OH, g.OW, pitch, plane), qx = positions_for(N, g.H, g.W, pitch, plane);
  // forward and wgrad read x at [fmin, qy + fmax); backward-data reads dy at [-fmax, qx - fmin).
  p.x = make_layout(N, pitch, plane, qx, std::max<int64_t>(0, -fmin), qy + fmax);
  p.y = make_layout(N, pitch, plane, qy, 0, qy);
  p.dy = make_layout(N, pitch, plane, qy, std::max<int64_t>(0, fmax), std::max(qy, qx - fmin));
  p.dx = make_layout(N, pitch, plane, qx, 0, qx);
  p.ok = true;
  return p;
}

void pack_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& l, float* rows) {
  parallel_for(C, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      float* row = rows + c * l.length;
      std::memset(row, 0, sizeof(float) * size_t(l.front));
      float* p = row + l.front;
      for (int64_t n = 0; n < N; ++n) {
        const float* img = src + (n * C + c) * H * W;
        float* plane = p + n * l.plane;
        for (int64_t h = 0; h < H; ++h) {
          std::memcpy(plane + h * l.pitch, img + h * W, sizeof(float) * size_t(W));
          std::memset(plane + h * l.pitch + W, 0, sizeof(float) * size_t(l.pitch - W));
        }
        std::memset(plane + H * l.pitch, 0, sizeof(float) * size_t(l.plane - H * l.pitch));
      }
      std::memset(p + N * l.plane, 0, sizeof(float) * size_t(l.length - l.front - N * l.plane));
    }
  });
}

void unpack_rows(const float* rows, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& l,
                 const float* bias, float* dst) {
  parallel_for(C, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* p = rows + c * l.length + l.front;
      const float b = bias ? bias[c] : 0.f;
      for (int64_t n = 0; n < N; ++n) {
        float* img = dst + (n * C + c) * H * W;
        for (int64_t h = 0; h < H; ++h) {
          const float* r = p + n * l.plane + h * l.pitch;
          float* o = img + h * W;
          if (bias)
            for (int64_t w = 0; w < W; ++w) o[w] = r[w] + b;
          else
            std::memcpy(o, r, sizeof(float) * size_t(W));
        }
      }
    }
  });
}

}  // namespace cnn
