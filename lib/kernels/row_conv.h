#pragma once
// Row convolution: the inner loop of the direct convolution engine (layers/conv_direct.*).
// Images are laid out as one long row per channel (conv_rows.h): each image's plane has a
// pitch wider than the image, and the zero columns and rows between images and rows are the
// padding, shared by both neighbours. A stride-1 convolution is then T shifted dot products
// along the row: with tap offsets off[t], for every position q in [q0, q1):
//   forward:  y[m][q] = sum over c < C, t < T of w[m][c][t] * x[c][q + off[t]]
//   wgrad:    dw[m][c][t] += sum over q of dy[m][q] * x[c][q + off[t]]
// wgrad reads dy and accumulates dw in a channel-blocked layout of the kernel's `lanes` output
// channels (one vector): dy[m][q] at dyb[((m / lanes) * dyb_positions + q) * lanes + m % lanes],
// dw[m][j] at dwb[((m / lanes) * C * T + j) * lanes + m % lanes]. The weight gradient is then a
// register tile of vectors over output channels, summed over positions with broadcast inputs:
// no horizontal sums. With lanes == 1 both layouts are the plain ones.
// The backward-data pass of a convolution is `forward` with transposed weights and negated
// offsets. Positions that are padding compute garbage (forward) or must hold zeros (wgrad's dy).
//
// Contract shared by every implementation:
// - q0 and q1 are multiples of kRowConvQAlign, and x[c][q + off[t]] is readable for q < q1;
//   y rows are writable for q < q1.
// - w is packed by pack_row_conv_weights: [ceil(M / kRowConvMB)][C][T][kRowConvMB], zero-filled.
// - Kernels are single-threaded; callers split [0, Q) across threads.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/isa.h"

namespace cnn {

constexpr int kRowConvQAlign = 64;  // positions per tile of the widest kernel (4 AVX-512 vectors)
constexpr int kRowConvMB = 6;       // output channels per packed weight block

// Where forward's outputs go when written straight to an N x M x OH x OW tensor instead of rows:
// position q of the row layout (conv_rows.h: pitch, plane) is image q / plane, pixel
// (q % plane / pitch, q % plane % pitch), an output when that pixel is inside OH x OW. Kernels
// split each tile into runs of consecutive outputs (for_each_output_run) and copy those: no
// output rows are written and no unpacking pass reads them back.
struct OutputMap {
  int64_t N = 0, OH = 0, OW = 0, pitch = 0, plane = 0;
  int64_t image_stride = 0;    // M * OH * OW
  int64_t channel_stride = 0;  // OH * OW
};

// Calls fn(begin, len, dst) for each run of consecutive outputs among positions
// [t0, t0 + count): tile positions [begin, begin + len) go to out + dst (+ m * channel_stride).
template <class Fn>
inline void for_each_output_run(const OutputMap& o, int64_t t0, int64_t count, Fn&& fn) {
  int64_t q = t0;
  const int64_t end = t0 + count;
  while (q < end) {
    const int64_t n = q / o.plane, r = q % o.plane, h = r / o.pitch, w = r % o.pitch;
    if (n >= o.N) return;
    if (h >= o.OH) {  // the zero rows below the image
      q += o.plane - r;
      continue;
    }
    if (w >= o.OW) {  // the zero columns right of the row
      q += o.pitch - w;
      continue;
    }
    const int64_t len = std::min(o.OW - w, end - q);
    fn(static_cast<int>(q - t0), static_cast<int>(len), n * o.image_stride + h * o.OW + w);
    q += len;
  }
}

// The narrow layout (conv_rows.h: pitch W, no zero column) drops the column of padding a 3x3
// convolution needs on each side: a tap looking one column left reads, at an output in column 0,
// the previous image row's last pixel instead of a zero, so that output must skip the tap (and
// one looking right skips it in column W - 1). Taps are ordered so that [0, left) read every
// position, [left, right) skip outputs in column 0 and [right, T) outputs in column width - 1.
struct ColumnSkips {
  int64_t width = 0;  // the narrow layout's pitch; 0: every tap reads every position
  int left = 0, right = 0;
};

// Lanes of a vector of positions starting in column r (of `width`) whose column is not `col`.
inline uint32_t lanes_outside_column(int64_t r, int64_t width, int64_t col, int lanes) {
  uint32_t bits = lanes >= 32 ? ~0u : (1u << lanes) - 1;
  for (int64_t l = ((col - r) % width + width) % width; l < lanes; l += width) bits &= ~(1u << l);
  return bits;
}

struct RowConvArgs {
  int M = 0, C = 0, T = 0;      // output channels, input channels, taps
  const int64_t* off = nullptr; // T tap offsets
  ColumnSkips skips;            // forward only
  const float* x = nullptr;     // input row of channel c at x + c * x_stride
  int64_t x_stride = 0;
  const float* w = nullptr;     // packed weights (forward) or nullptr (wgrad)
  const float* dyb = nullptr;   // wgrad: the output gradient, channel-blocked (see above)
  int64_t dyb_positions = 0;
  const float* dy = nullptr;    // wgrad_rows: output-gradient row of channel m at dy + m * y_stride
  float* y = nullptr;           // forward: output row of channel m at y + m * y_stride
  int64_t y_stride = 0;
  const OutputMap* outputs = nullptr;  // forward: if set, write to `out` through the map instead of y
  float* out = nullptr;
  bool accumulate = false;             // with outputs: the sums start from what out holds
  const float* bias = nullptr;         // with outputs: added to output channel m (may be null)
  // With outputs, the epilogue of a fused inference pass (after the bias): the residual (same
  // layout as out, or null) is added, then the result clamped to [lo, hi] when `clamp` (ReLU, ReLU6).
  const float* residual = nullptr;
  bool clamp = false;
  float lo = 0.f, hi = 0.f;
  // With outputs: if set, the final outputs of channel m are summed into sums[2 * m] and their
  // squares into sums[2 * m + 1] (double), by the calling thread only: callers give each thread
  // its own array.
  double* sums = nullptr;
};

// Adds sum(v) and sum(v * v) over v[0..n) in double to s[0] and s[1], with kSumLanes partial
// sums combined in a fixed order (a single chain would cost more than the convolution's tile).
inline void add_sums(const float* v, int n, double* s) {
  constexpr int kSumLanes = 8;
  double a[kSumLanes] = {}, b[kSumLanes] = {};
  int e = 0;
  for (; e + kSumLanes <= n; e += kSumLanes)
    for (int l = 0; l < kSumLanes; ++l) {
      const double x = v[e + l];
      a[l] += x;
      b[l] += x * x;
    }
  for (int l = 0; e + l < n; ++l) {
    const double x = v[e + l];
    a[l] += x;
    b[l] += x * x;
  }
  double sa = 0, sb = 0;
  for (int l = 0; l < kSumLanes; ++l) sa += a[l], sb += b[l];
  s[0] += sa;
  s[1] += sb;
}

// out[e] = epilogue(acc[e] + bias) for e < len, as RowConvArgs describes; residual points at the
// run's first output (or is null). Every forward kernel finishes its output runs with it.
inline void finish_output_run(const RowConvArgs& a, const float* acc, int len, float bias, const float* residual,
                              float* out) {
  for (int e = 0; e < len; ++e) out[e] = acc[e] + bias;
  if (residual)
    for (int e = 0; e < len; ++e) out[e] += residual[e];
  if (a.clamp)
    for (int e = 0; e < len; ++e) {
      const float v = out[e];
      out[e] = v > a.lo ? (v < a.hi ? v : a.hi) : a.lo;
    }
}

// finish_output_run for output channel m of a tile (and its sums when a.sums is set).
inline void finish_channel_run(const RowConvArgs& a, int m, const float* acc, int len, int64_t at) {
  finish_output_run(a, acc, len, a.bias ? a.bias[m] : 0.f, a.residual ? a.residual + at : nullptr, a.out + at);
  if (a.sums) add_sums(a.out + at, len, a.sums + 2 * m);
}

// Packs w (M x C x T, or its transpose when `transpose`: w is then C x M x T and the packed
// weights are those of the C-output convolution) into the blocked layout. dst holds
// packed_row_conv_weights(M, C, T) floats.
int64_t packed_row_conv_weights(int M, int C, int T);
void pack_row_conv_weights(const float* w, int M, int C, int T, bool transpose, float* dst);
// Only the listed taps of w (in that order): the packed weights have taps.size() taps.
void pack_row_conv_weights(const float* w, int M, int C, int T, std::span<const int> taps, bool transpose, float* dst);

struct RowConvKernel {
  std::string_view name;
  Isa isa;
  int lanes;  // output channels per block of wgrad's dy and dw layouts
  void (*forward)(const RowConvArgs& a, int64_t q0, int64_t q1);
  // dwb: M x C x T channel-blocked (blocked_floats(M, C * T, lanes) floats), accumulated (+=).
  void (*wgrad)(const RowConvArgs& a, int64_t q0, int64_t q1, float* dwb);
  // The same sum from plain dy rows into a plain M x C x T dw (+=), with vectors over positions
  // and a horizontal sum per chunk: faster when the output channels fill at most one vector.
  void (*wgrad_rows)(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw);
};

// wgrad_rows rather than wgrad for M output channels.
inline bool wgrad_by_rows(const RowConvKernel& k, int M) { return M <= k.lanes; }

// Floats of a channel-blocked array of `channels` channels with `inner` entries each.
inline int64_t blocked_floats(int64_t channels, int64_t inner, int lanes) {
  return (channels + lanes - 1) / lanes * inner * lanes;
}
// dw[m][j] += dwb[((m / lanes) * inner + j) * lanes + m % lanes] for m < M, j < inner.
void add_blocked(const float* dwb, int64_t M, int64_t inner, int lanes, float* dw);

// Every implementation, fastest first, the naive reference last.
std::span<const RowConvKernel> row_conv_kernels();
// The first implementation whose ISA is enabled now.
const RowConvKernel& select_row_conv_kernel();

// Per-ISA tables (row_conv_avx512.cpp, row_conv_avx2.cpp, row_conv_ref.cpp).
extern const RowConvKernel kRowConvAvx512;
extern const RowConvKernel kRowConvAvx2;
extern const RowConvKernel kRowConvReference;

}  // namespace cnn
