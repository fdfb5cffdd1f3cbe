#pragma once
// Finite-difference gradient checks for layers (and anything else with a forward function).
//
// The loss is L = sum(out * R) for a fixed random R, so dL/dout = R. For every checked entry v of
// an input or parameter, the numerical derivative is the central difference
//   (L(v + h) - L(v - h)) / (2h),
// computed as sum((out+ - out-) * R) in double: outputs the perturbation does not touch are
// bit-identical in both runs and cancel exactly, so float32 rounding only enters through the
// entries that really change. The realized step (float(v+h) - float(v-h)) is used, not h itself.
//
// gradcheck_layer() also checks the Layer contract: din is overwritten (it is pre-filled with NaN)
// and parameter gradients are accumulated (they are pre-filled with random values that are
// subtracted afterwards).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "layers/layer.h"

namespace cnn::test {

struct FdOptions {
  double eps = 1e-3;     // step
  double rtol = 1e-2;    // relative tolerance per entry
  double atol = 1e-3;    // absolute floor, times the tensor's largest |gradient| (at least 1e-2)
  int max_checks = 96;   // entries per tensor; a random subset (plus first and last) when larger
  uint64_t seed = 1;     // chooses the subset
  bool kink_retry = true;  // see check_finite_differences
};

struct FdProbe {
  std::string name;
  float* value;           // perturbed in place (restored afterwards)
  const float* analytic;  // the analytic gradient, same length
  int64_t n;
};

struct FdReport {
  bool ok = true;
  int64_t checked = 0;
  int64_t skipped = 0;    // entries at a kink (the two step sizes disagree): not judged
  double worst = 0;       // worst |a - n| / tolerance (ok means <= 1)
  std::string message;
};

// Fills t with values of magnitude in [0.1, 1] and random sign: away from the kinks at zero.
inline void fill_away_from_zero(Tensor& t, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    float m = rng.uniform(0.1f, 1.0f);
    t[i] = rng.uniform() < 0.5f ? -m : m;
  }
}

inline void fill_uniform(Tensor& t, Rng& rng, float lo = -1.f, float hi = 1.f) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

// Distinct values, all at least `gap` apart and at least 0.1 from zero (no ties for max pooling,
// no kinks for relu). Returns the gap.
inline double fill_distinct(Tensor& t, Rng& rng) {
  const int64_t n = t.numel();
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = i;
  shuffle(perm.data(), uint64_t(n), rng);
  // Values +-(0.1 + 1.8 * (k + 0.5) / n), k = 0 .. n/2: the positive and negative halves.
  const int64_t half = (n + 1) / 2;
  const double step = 1.8 / double(half);
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = perm[size_t(i)];
    double mag = 0.1 + step * double(k % half + 0.5);
    t[i] = static_cast<float>(k < half ? mag : -mag);
  }
  return step;
}

// Compares analytic gradients with central differences of L = sum(forward() * R).
inline FdReport check_finite_differences(const std::function<const Tensor&()>& forward, const Tensor& R,
                                         const std::vector<FdProbe>& probes, const FdOptions& o) {
  FdReport rep;
  Rng pick(o.seed * 7919 + 17);
  Tensor plus;
  char line[512];
  for (const FdProbe& p : probes) {
    std::vector<int64_t> idx;
    if (p.n <= o.max_checks) {
      for (int64_t i = 0; i < p.n; ++i) idx.push_back(i);
    } else {
      idx.push_back(0);
      idx.push_back(p.n - 1);
      while (int64_t(idx.size()) < o.max_checks) idx.push_back(int64_t(pick.below(uint64_t(p.n))));
    }
    double scale = 0;
    for (int64_t i = 0; i < p.n; ++i) scale = std::max(scale, double(std::fabs(p.analytic[i])));
    scale = std::max(scale, 1e-2);
    int shown = 0;
    auto numeric = [&](int64_t i, double h) {
      const float v0 = p.value[i];
      const float vp = static_cast<float>(v0 + h), vm = static_cast<float>(v0 - h);
      p.value[i] = vp;
      plus = forward();
      p.value[i] = vm;
      const Tensor& minus = forward();
      p.value[i] = v0;
      double d = 0;
      for (int64_t j = 0; j < R.numel(); ++j) d += (double(plus[j]) - double(minus[j])) * double(R[j]);
      return d / (double(vp) - double(vm));
    };
    for (int64_t i : idx) {
      const double ana = p.analytic[i];
      auto tol_for = [&](double num) { return o.rtol * std::max(std::fabs(num), std::fabs(ana)) + o.atol * scale; };
      double num = numeric(i, o.eps);
      double tol = tol_for(num);
      double err = std::fabs(num - ana);
      ++rep.checked;
      if (!(err <= tol) && o.kink_retry) {
        // A kink (relu, max) within the step makes the difference quotient depend on the step:
        // retry with a quarter of it. Agreement now passes; two numeric estimates that disagree
        // with each other mark a non-differentiable point, skipped (and counted).
        const double num2 = numeric(i, o.eps / 4);
        const double tol2 = tol_for(num2);
        if (std::fabs(num2 - ana) <= tol2) {
          num = num2, tol = tol2, err = std::fabs(num2 - ana);
        } else if (std::fabs(num2 - num) > std::max(tol, tol2)) {
          ++rep.skipped;
          continue;
        }
      }
      const double ratio = err / tol;
      if (!(ratio <= 1.0)) {  // NaN fails too
        rep.ok = false;
        if (shown++ < 5) {
          std::snprintf(line, sizeof line, "%s[%lld]: analytic %.7g numeric %.7g (|diff| %.3g > tol %.3g)\n",
                        p.name.c_str(), static_cast<long long>(i), ana, num, err, tol);
          rep.message += line;
        }
      }
      if (!(ratio <= rep.worst)) rep.worst = ratio;
    }
  }
  // Too many non-differentiable points means the check proved nothing (or the gradient is wrong
  // in a way that looks like noise).
  if (rep.skipped > std::max<int64_t>(2, rep.checked / 10)) {
    rep.ok = false;
    rep.message += "too many entries at non-differentiable points\n";
  }
  std::snprintf(line, sizeof line, "checked %lld entries (%lld skipped at kinks), worst |diff|/tol = %.3g",
                static_cast<long long>(rep.checked), static_cast<long long>(rep.skipped), rep.worst);
  rep.message += line;
  return rep;
}

struct GradCheck {
  std::vector<Shape> inputs;  // with batch dim
  uint64_t seed = 1;
  bool train = true;
  bool distinct = false;      // fill_distinct inputs (and a step small enough to keep their order)
  bool away_from_zero = true; // otherwise uniform in [-1, 1]
  FdOptions fd;
};

// Initializes the layer (Layer::init with a seeded Rng), builds inputs and R, and checks every
// input gradient and parameter gradient. The run's Rng is reseeded before every forward so that
// stochastic layers (dropout) use the same mask throughout.
inline FdReport gradcheck_layer(Layer& layer, const GradCheck& gc) {
  Rng rng(gc.seed);
  const Shape out_shape = layer.infer(gc.inputs);
  layer.init(rng);
  FdOptions fd = gc.fd;
  fd.seed = gc.seed;
  std::vector<Tensor> xs;
  for (const Shape& s : gc.inputs) {
    Tensor t(s);
    if (gc.distinct) fd.eps = std::min(fd.eps, 0.25 * fill_distinct(t, rng));
    else if (gc.away_from_zero) fill_away_from_zero(t, rng);
    else fill_uniform(t, rng);
    xs.push_back(std::move(t));
  }
  Tensor R(out_shape);
  fill_uniform(R, rng);
  std::vector<const Tensor*> in;
  for (auto& x : xs) in.push_back(&x);

  Rng run_rng;
  RunContext ctx;
  ctx.train = gc.train;
  ctx.rng = &run_rng;
  Tensor out(out_shape);
  auto forward = [&]() -> const Tensor& {
    run_rng.reseed(gc.seed + 1000);
    layer.forward(in, out, ctx);
    return out;
  };

  // Analytic gradients.
  forward();
  std::vector<Tensor> din;
  for (const Shape& s : gc.inputs) {
    Tensor d(s);
    d.fill(std::numeric_limits<float>::quiet_NaN());  // backward must overwrite every entry
    din.push_back(std::move(d));
  }
  std::vector<Tensor*> dptr;
  for (auto& d : din) dptr.push_back(&d);
  std::vector<Param*> params = layer.params();
  std::vector<Tensor> g0;
  for (Param* p : params) {
    Tensor g(p->grad.shape());
    fill_uniform(g, rng, -0.5f, 0.5f);
    p->grad = g;  // backward must add to it
    g0.push_back(std::move(g));
  }
  layer.backward(in, out, R, dptr, ctx);
  std::vector<Tensor> pgrad;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = params[i]->grad;
    for (int64_t j = 0; j < g.numel(); ++j) g[j] -= g0[i][j];
    pgrad.push_back(std::move(g));
  }

  std::vector<FdProbe> probes;
  for (size_t i = 0; i < xs.size(); ++i)
    probes.push_back({"input" + std::to_string(i), xs[i].data(), din[i].data(), xs[i].numel()});
  for (size_t i = 0; i < params.size(); ++i)
    probes.push_back({params[i]->name, params[i]->value.data(), pgrad[i].data(), pgrad[i].numel()});
  return check_finite_differences(forward, R, probes, fd);
}

// Catch2 glue: fails the current test case with the report's message.
#define CHECK_GRADS(report)          \
  do {                               \
    const auto& rep_ = (report);     \
    INFO(rep_.message);              \
    CHECK(rep_.ok);                  \
    CHECK(rep_.checked > 0);         \
  } while (0)

}  // namespace cnn::test
