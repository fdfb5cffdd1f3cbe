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

RowConvPlan plan_strided(const ConvGeom& g, int64_t N) {
  RowConvPlan p;
  p.SH = g.SH, p.SW = g.SW;
  const int ext_h = g.DH * (g.KH - 1), ext_w = g.DW * (g.KW - 1);
  // Phase planes cover every output's taps and every input pixel.
  p.A = std::max(g.OH + ext_h / g.SH, (g.H - 1 + g.PH) / g.SH + 1);
  p.B = std::max(g.OW + ext_w / g.SW, (g.W - 1 + g.PW) / g.SW + 1);
  const int64_t pitch = p.B, plane = int64_t(p.A) * p.B;
  const int phases = g.SH * g.SW;
  p.T = g.KH * g.KW;
  p.phase_taps.resize(size_t(phases));
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw) {
      const int phase = (kh * g.DH % g.SH) * g.SW + kw * g.DW % g.SW;
      p.spatial_off.push_back(int64_t(kh * g.DH / g.SH) * pitch + kw * g.DW / g.SW);
      p.phase_taps[size_t(phase)].push_back(kh * g.KW + kw);
    }
  const int64_t smax = *std::max_element(p.spatial_off.begin(), p.spatial_off.end());
  const int64_t qy = positions_for(N, g.OH, g.OW, pitch, plane), qx = positions_for(N, p.A, p.B, pitch, plane);
  p.phase_len = round_up(std::max({qy + smax, qx, N * plane}), 16);
  for (int t = 0; t < p.T; ++t) {
    const int kh = t / g.KW, kw = t % g.KW;
    const int phase = (kh * g.DH % g.SH) * g.SW + kw * g.DW % g.SW;
    p.fwd_off.push_back(phase * p.phase_len + p.spatial_off[size_t(t)]);
    p.bwd_off.push_back(-p.spatial_off[size_t(t)]);
  }
  for (int t = 0; t < p.T; ++t) p.fwd_taps.push_back(t);  // backward-data packs per phase (phase_taps)
  p.x = make_layout(N, pitch, plane, qx, 0, 0);
  p.x.length = phases * p.phase_len;
  p.dx = p.x;
  p.y = make_layout(N, pitch, plane, qy, 0, qy);
  // backward-data reads dy at [-smax, qx) per phase; wgrad at [0, qy).
  p.dy = make_layout(N, pitch, plane, qy, smax, std::max(qy, qx));
  p.ok = true;
  return p;
}

}  // namespace

bool narrow_fits(const ConvGeom& g) {
  const int pr = g.PW_end < 0 ? g.PW : g.PW_end;
  return g.SH == 1 && g.SW == 1 && g.KW == 3 && g.DW == 1 && g.PW == 1 && pr == 1;
}

namespace {

// The narrow layout's tap order: the taps of kernel column `mid` first, then those of column
// `left_of` (skipping outputs in column 0), then `right_of` (skipping column W - 1); offsets in that
// order. Forward's taps at kw = 0 look left; backward-data's (negated offsets) at kw = 2.
void order_narrow_taps(const ConvGeom& g, const std::vector<int64_t>& off, int left_of, int right_of,
                       std::vector<int>& taps, std::vector<int64_t>& ordered, ColumnSkips& skips) {
  taps.clear();
  for (int kw : {1, left_of, right_of})
    for (int kh = 0; kh < g.KH; ++kh) taps.push_back(kh * g.KW + kw);
  ordered.clear();
  for (int t : taps) ordered.push_back(off[size_t(t)]);
  skips = {g.W, g.KH, 2 * g.KH};
}

}  // namespace

RowConvPlan plan_row_conv(const ConvGeom& g, int64_t N, bool narrow) {
  if (g.SH != 1 || g.SW != 1) return plan_strided(g, N);
  RowConvPlan p;
  const int pb = g.PH_end < 0 ? g.PH : g.PH_end, pr = g.PW_end < 0 ? g.PW : g.PW_end;
  const int ext_h = g.DH * (g.KH - 1), ext_w = g.DW * (g.KW - 1);
  if (g.PH > ext_h || pb > ext_h || g.PW > ext_w || pr > ext_w) return p;
  p.narrow = narrow && narrow_fits(g);
  const int64_t pitch = p.narrow ? g.W : g.W + std::max(g.PW, pr),
                plane = (g.H + std::max<int64_t>(g.PH, pb)) * pitch;
  p.T = g.KH * g.KW;
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw) {
      const int64_t off = int64_t(kh * g.DH - g.PH) * pitch + (kw * g.DW - g.PW);
      p.fwd_off.push_back(off);
      p.bwd_off.push_back(-off);
    }
  for (int t = 0; t < p.T; ++t) p.fwd_taps.push_back(t);
  p.bwd_taps = p.fwd_taps;
  if (p.narrow) {
    const std::vector<int64_t> fwd = p.fwd_off, bwd = p.bwd_off;
    order_narrow_taps(g, fwd, 0, 2, p.fwd_taps, p.fwd_off, p.fwd_skips);
    order_narrow_taps(g, bwd, 2, 0, p.bwd_taps, p.bwd_off, p.bwd_skips);
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

// Parallel over (image, channel) planes, taken by whichever thread is free: LeNet-5's 6-channel
// rows left one thread waiting for the other's last channel (session 29, Intel Xeon, b64 training).
// Image-major, so that each thread packs the images the layers before and after it give that
// thread.
void pack_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& l, float* rows) {
  parallel_for_balanced(C * N, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / C, c = i % C;
      float* row = rows + c * l.length;
      float* p = row + l.front;
      if (n == 0) std::memset(row, 0, sizeof(float) * size_t(l.front));
      const float* img = src + (n * C + c) * H * W;
      float* plane = p + n * l.plane;
      for (int64_t h = 0; h < H; ++h) {
        std::memcpy(plane + h * l.pitch, img + h * W, sizeof(float) * size_t(W));
        std::memset(plane + h * l.pitch + W, 0, sizeof(float) * size_t(l.pitch - W));
      }
      std::memset(plane + H * l.pitch, 0, sizeof(float) * size_t(l.plane - H * l.pitch));
      if (n == N - 1) std::memset(p + N * l.plane, 0, sizeof(float) * size_t(l.length - l.front - N * l.plane));
    }
  });
}

void pack_phase_rows(const float* src, int64_t N, int64_t C, const ConvGeom& g, const RowConvPlan& p, float* rows) {
  const int64_t plane = int64_t(p.A) * p.B, H = g.H, W = g.W;
  parallel_for_balanced(C, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c)
      for (int ph = 0; ph < p.SH; ++ph)
        for (int pw = 0; pw < p.SW; ++pw) {
          if (p.phase_taps[size_t(ph * p.SW + pw)].empty()) continue;  // no tap reads it (1x1 stride 2: 3 of 4)
          float* row = rows + c * p.x.length + (ph * p.SW + pw) * p.phase_len;
          for (int64_t n = 0; n < N; ++n) {
            const float* img = src + (n * C + c) * H * W;
            for (int64_t a = 0; a < p.A; ++a) {
              float* out = row + n * plane + a * p.B;
              const int64_t ih = a * p.SH + ph - g.PH;
              if (ih < 0 || ih >= H) {
                std::memset(out, 0, sizeof(float) * size_t(p.B));
                continue;
              }
              // Columns b whose input column b * SW + pw - PW lies in [0, W): [b0, b1).
              const int64_t last = W - 1 + g.PW - pw;
              const int64_t b0 = std::min<int64_t>(p.B, (std::max<int64_t>(0, g.PW - pw) + p.SW - 1) / p.SW);
              const int64_t b1 = std::clamp<int64_t>(last < 0 ? 0 : last / p.SW + 1, b0, p.B);
              const float* in = img + ih * W + pw - g.PW;
              for (int64_t b = 0; b < b0; ++b) out[b] = 0.f;
              for (int64_t b = b0; b < b1; ++b) out[b] = in[b * p.SW];
              for (int64_t b = b1; b < p.B; ++b) out[b] = 0.f;
            }
          }
          std::memset(row + N * plane, 0, sizeof(float) * size_t(p.phase_len - N * plane));
        }
  });
}

void unpack_phase_rows(const float* rows, int64_t N, int64_t C, const ConvGeom& g, const RowConvPlan& p, float* dst,
                       bool add) {
  const int64_t plane = int64_t(p.A) * p.B, H = g.H, W = g.W;
  parallel_for_balanced(C, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = 0; n < N; ++n) {
        float* img = dst + (n * C + c) * H * W;
        for (int64_t ih = 0; ih < H; ++ih) {
          const int64_t hp = ih + g.PH;
          for (int pw = 0; pw < p.SW; ++pw) {
            // Input columns iw with (iw + PW) % SW == pw come from phase column (iw + PW) / SW.
            const int64_t iw0 = ((pw - g.PW) % p.SW + p.SW) % p.SW;
            const int64_t phase = (hp % p.SH) * p.SW + pw;
            const float* r = rows + c * p.x.length + phase * p.phase_len + n * plane + hp / p.SH * p.B +
                             (iw0 + g.PW) / p.SW;
            float* o = img + ih * W;
            if (p.phase_taps[size_t(phase)].empty()) {  // no tap reads this phase: its gradient is zero
              for (int64_t iw = iw0; iw < W && !add; iw += p.SW) o[iw] = 0.f;
              continue;
            }
            if (add)
              for (int64_t iw = iw0, k = 0; iw < W; iw += p.SW, ++k) o[iw] += r[k];
            else
              for (int64_t iw = iw0, k = 0; iw < W; iw += p.SW, ++k) o[iw] = r[k];
          }
        }
      }
  });
}

void pack_blocked_rows(const float* src, int64_t N, int64_t C, int64_t H, int64_t W, const RowLayout& l, int lanes,
                       float* dst) {
  const int64_t blocks = (C + lanes - 1) / lanes, Q = l.positions, L = lanes;
  parallel_for_balanced(blocks * N, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {  // image-major, as pack_rows
      const int64_t n = i / blocks, b = i % blocks, c0 = b * L, cn = std::min<int64_t>(L, C - c0);
      float* block = dst + b * Q * L;
      // This image's plane (clipped to Q), and after the last image the rest of the row.
      const int64_t p0 = n * l.plane, p1 = std::min(Q, n + 1 == N ? std::max(Q, N * l.plane) : p0 + l.plane);
      if (p0 >= p1) continue;
      std::memset(block + p0 * L, 0, sizeof(float) * size_t((p1 - p0) * L));
      for (int64_t h = 0; h < H && p0 + h * l.pitch < Q; ++h) {
        float* out = block + (p0 + h * l.pitch) * L;
        const int64_t w1 = std::min(W, Q - (p0 + h * l.pitch));
        for (int64_t c = 0; c < cn; ++c) {
          const float* in = src + ((n * C + c0 + c) * H + h) * W;
          for (int64_t w = 0; w < w1; ++w) out[w * L + c] = in[w];
        }
      }
    }
  });
}

}  // namespace cnn
