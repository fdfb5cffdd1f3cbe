// Two variants of the blocked-convolution micro-kernels (variant.cpp: "old" and "new") timed in
// one process, alternating every repetition, with the FMA peak measured between repetitions: on a
// shared machine whose speed moves 2x from one second to the next, the ratio of two runs taken
// minutes apart says little, this one's says more. Each repetition is the training pass's own call
// (blocked_conv_images, blocked_wgrad_images) on N images per thread of a 3x3 stride-1 pad-1
// convolution of C channels to C at H x H, the table's kernel with its forward or weight gradient
// swapped for the variant's. Built and run by kernel_ab.sh.
//   kernel_ab ISA OP THREADS REPS C:H:N...   (ISA avx512|avx2, OP fwd|wgrad)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kernels/blocked_conv.h"
#include "kernels/fma_peak.h"

namespace cnn::kernel_ab {
void forward_old(const BlockedConvArgs&, int64_t, int64_t);
void forward_new(const BlockedConvArgs&, int64_t, int64_t);
void wgrad_old(const BlockedWgradArgs&, int64_t, int64_t, float*);
void wgrad_new(const BlockedWgradArgs&, int64_t, int64_t, float*);
}  // namespace cnn::kernel_ab

using namespace cnn;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// fn(t) on `threads` threads at once; the wall time.
template <class F>
double on_threads(int threads, F fn) {
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&fn, t] { fn(t); });
  for (std::thread& th : pool) th.join();
  return seconds_since(t0);
}

struct ThreadData {
  std::vector<float> x, w, y, dwt;
};

int run_shape(Isa isa, bool wgrad, int threads, int reps, int C, int H, int N) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = H, g.KH = g.KW = 3, g.PH = g.PW = 1;
  g.finish();
  const BlockedConvKernel& table = blocked_conv_kernel(isa, C, 9);
  if (table.blocks != 2) {
    std::fprintf(stderr, "error: C=%d: the variants are the two-block tile; use more than one block of channels\n", C);
    return 1;
  }
  BlockedConvKernel k[2] = {table, table};
  k[0].forward = kernel_ab::forward_old, k[0].wgrad = kernel_ab::wgrad_old;
  k[1].forward = kernel_ab::forward_new, k[1].wgrad = kernel_ab::wgrad_new;
  const BlockedConvPlan p[2] = {plan_blocked_conv(g, C, k[0]), plan_blocked_conv(g, C, k[1])};
  const std::vector<int64_t> dy_pix = blocked_interior_pixels(p[0]);  // the output gradient packed as the input
  std::vector<ThreadData> data(static_cast<size_t>(threads));
  for (ThreadData& d : data) {
    d.x.resize(size_t(N * p[0].x_image));
    for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = float(i % 7) * 0.1f - 0.3f;
    d.w.assign(size_t(blocked_weight_floats(p[0])), 0.01f);
    d.y.assign(size_t(N * p[0].y_image), 0.f);
    d.dwt.assign(size_t(blocked_wgrad_floats(p[0])), 0.f);
  }
  auto pass = [&](int v, int t) {
    ThreadData& d = data[size_t(t)];
    if (wgrad) blocked_wgrad_images(p[v], N, d.x.data(), {d.x.data(), p[v].x_image, p[v].x_block, dy_pix.data()}, d.dwt.data());
    else blocked_conv_images(p[v], N, d.x.data(), d.w.data(), d.y.data());
  };
  constexpr long kPeakIters = 200000;
  double time[2] = {0, 0}, peak_time = 0;
  for (int r = 0; r < reps; ++r) {
    for (int i = 0; i < 2; ++i) {
      const int v = r % 2 ? 1 - i : i;
      time[v] += on_threads(threads, [&](int t) { pass(v, t); });
    }
    peak_time += on_threads(threads, [&](int) {
      volatile float sink = isa == Isa::avx512 ? fma_loop_avx512(kPeakIters) : fma_loop_avx2(kPeakIters);
      (void)sink;
    });
  }
  const int lanes = isa == Isa::avx512 ? 16 : 8;
  const double flop = 2.0 * C * C * 9 * double(H) * H * N * reps * threads;
  const double peak = 12.0 * lanes * 2 * kPeakIters * reps * threads / peak_time / 1e9;  // 12 chains (fma_peak.h)
  const double gold = flop / time[0] / 1e9, gnew = flop / time[1] / 1e9;
  std::printf("%-6s %-5s C %4d  %3dx%-3d N %2d  old %6.1f  new %6.1f GFLOP/s  new/old %.3f  peak %6.1f: old %3.0f%% new %3.0f%%\n",
              isa == Isa::avx512 ? "avx512" : "avx2", wgrad ? "wgrad" : "fwd", C, H, H, N, gold, gnew, gnew / gold, peak,
              100 * gold / peak, 100 * gnew / peak);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: kernel_ab avx512|avx2 fwd|wgrad THREADS REPS C:H:N...\n");
    return 2;
  }
  const Isa isa = std::strcmp(argv[1], "avx2") == 0 ? Isa::avx2 : Isa::avx512;
  const bool wgrad = std::strcmp(argv[2], "wgrad") == 0;
  const int threads = std::atoi(argv[3]), reps = std::atoi(argv[4]);
  for (int i = 5; i < argc; ++i) {
    int C = 0, H = 0, N = 0;
    if (std::sscanf(argv[i], "%d:%d:%d", &C, &H, &N) != 3 || C <= 0 || H <= 0 || N <= 0) {
      std::fprintf(stderr, "error: shape '%s': expected C:H:N (channels, map size, images per thread)\n", argv[i]);
      return 2;
    }
    if (run_shape(isa, wgrad, threads, reps, C, H, N)) return 1;
  }
  return 0;
}
