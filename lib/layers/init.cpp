#include "layers/init.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"

// LAPACK (bundled with OpenBLAS): Householder QR and the explicit Q.
extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
}

namespace cnn {

void init_uniform(Tensor& t, float lo, float hi, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

void init_normal(Tensor& t, float mean, float std, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = mean + std * rng.normal();
}

void init_pytorch_default(Param& p, Rng& rng) {
  const float bound = p.fan_in > 0 ? 1.0f / std::sqrt(static_cast<float>(p.fan_in)) : 0.f;
  init_uniform(p.value, -bound, bound, rng);
}

std::pair<int64_t, int64_t> tensor_fans(const Shape& shape) {
  if (shape.size() < 2)
    throw std::invalid_argument("fan in and fan out can not be computed for a tensor with fewer than 2 dimensions");
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

double init_gain(const std::string& nl, double a) {
  if (nl == "linear" || nl == "conv1d" || nl == "conv2d" || nl == "sigmoid") return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + a * a));
  if (nl == "selu") return 3.0 / 4.0;
  throw std::invalid_argument("unsupported nonlinearity '" + nl + "'");
}

void init_orthogonal(Tensor& t, double gain, Rng& rng) {
  if (t.numel() == 0) return;
  if (t.shape().size() < 2) throw std::invalid_argument("orthogonal init needs a tensor with at least 2 dimensions");
  const int64_t rows = t.dim(0), cols = t.numel() / rows;
  // The flattened rows x cols normal matrix F, row-major. LAPACK wants a tall column-major
  // matrix A (m >= n): for rows < cols A = F^T, which column-major is F's buffer as it is; for
  // rows >= cols A = F, transposed into column-major.
  std::vector<double> f(static_cast<size_t>(rows * cols));
  for (auto& v : f) v = rng.normal();
  const bool wide = rows < cols;
  const int m = int(wide ? cols : rows), n = int(wide ? rows : cols);
  std::vector<double> a(f.size());
  if (wide) {
    a = f;
  } else {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) a[size_t(i + j * rows)] = f[size_t(i * cols + j)];
  }
  std::vector<double> tau(static_cast<size_t>(n));
  int info = 0, lwork = -1;
  double query = 0;
  dgeqrf_(&m, &n, a.data(), &m, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, int(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  dgeqrf_(&m, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error(fmt::format("orthogonal init: dgeqrf failed (info {})", info));
  std::vector<double> sign(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) sign[size_t(j)] = a[size_t(j + int64_t(j) * m)] < 0 ? -1.0 : 1.0;
  lwork = -1;
  dorgqr_(&m, &n, &n, a.data(), &m, tau.data(), &query, &lwork, &info);
  lwork = std::max(1, int(query));
  work.resize(size_t(lwork));
  dorgqr_(&m, &n, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error(fmt::format("orthogonal init: dorgqr failed (info {})", info));
  // Q (m x n, column-major) with column j times sign(R_jj); the tensor is Q^T when wide, else Q.
  float* out = t.data();
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      const double q = a[size_t(i + int64_t(j) * m)] * sign[size_t(j)] * gain;
      if (wide) out[int64_t(j) * m + i] = float(q);   // T[j][i], T is n x m = rows x cols
      else out[int64_t(i) * n + j] = float(q);        // T[i][j], T is m x n = rows x cols
    }
}

void apply_init_scheme(Param& p, const InitScheme& s, Rng& rng) {
  Tensor& t = p.value;
  const std::string& ty = s.type;
  auto fans = [&]() {
    try {
      return tensor_fans(t.shape());
    } catch (const std::invalid_argument&) {
      throw ConfigError(s.loc, s.path,
                        fmt::format("'{}' needs a weight with at least 2 dimensions (fan in/out), but parameter '{}' "
                                    "has shape {}",
                                    ty, p.name, shape_str(t.shape())));
    }
  };
  if (ty.empty() || t.numel() == 0) return;
  if (ty == "default") {
    if (p.init_kind == "bn_weight") t.fill(1.f);
    else if (p.init_kind == "bn_bias") t.zero();
    else init_pytorch_default(p, rng);
  } else if (ty == "zeros") {
    t.zero();
  } else if (ty == "ones") {
    t.fill(1.f);
  } else if (ty == "constant") {
    t.fill(float(s.value));
  } else if (ty == "normal") {
    init_normal(t, float(s.mean), float(s.std), rng);
  } else if (ty == "uniform") {
    init_uniform(t, float(s.a), float(s.b), rng);
  } else if (ty == "xavier_uniform" || ty == "xavier_normal") {
    auto [fi, fo] = fans();
    const double std = s.gain * std::sqrt(2.0 / double(fi + fo));
    if (ty == "xavier_uniform") {
      const float bound = float(std::sqrt(3.0) * std);
      init_uniform(t, -bound, bound, rng);
    } else {
      init_normal(t, 0.f, float(std), rng);
    }
  } else if (ty == "kaiming_uniform" || ty == "kaiming_normal") {
    auto [fi, fo] = fans();
    const double fan = double(s.mode == "fan_out" ? fo : fi);
    const double std = init_gain(s.nonlinearity, s.a) / std::sqrt(fan);
    if (ty == "kaiming_uniform") {
      const float bound = float(std::sqrt(3.0) * std);
      init_uniform(t, -bound, bound, rng);
    } else {
      init_normal(t, 0.f, float(std), rng);
    }
  } else if (ty == "orthogonal") {
    fans();  // the dimension check, with its message
    init_orthogonal(t, s.gain, rng);
  } else {
    throw ConfigError(s.loc, s.path, "unknown init scheme '" + ty + "'");
  }
}

}  // namespace cnn
