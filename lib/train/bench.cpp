#include "train/bench.h"

#include <chrono>
#include <optional>

#include "core/rng.h"
#include "train/loss.h"
#include "optim/sgd.h"

namespace cnn {

BenchResult run_bench(Net& net, const BenchOptions& o) {
  Shape in_shape = net.spec().input;
  in_shape.insert(in_shape.begin(), o.batch);
  Tensor input(in_shape);
  Rng rng(7);
  for (int64_t i = 0; i < input.numel(); ++i) input[i] = rng.normal();
  const Shape out = net.output_shape();
  const int64_t K = numel_of(out);
  std::vector<int32_t> labels(size_t(o.batch));
  for (auto& l : labels) l = int32_t(rng.below(uint64_t(K)));
  std::optional<Sgd> opt;  // training only: its momentum would count in an inference run's memory
  if (o.train) opt.emplace(net.params(), SgdOptions{0.01, 0.9, 0, 1e-4, false});
  Rng drop_rng(1);
  RunContext ctx{o.train, &drop_rng};
  std::optional<Net::InferenceScope> fused;  // inference runs as cnn eval and predict do
  if (!o.train) fused.emplace(net);

  auto step = [&] {
    net.forward(input, ctx);
    if (!o.train) return;
    classification_loss(net, labels.data(), o.batch, 0.f);
    net.zero_grad();
    net.backward(ctx);
    opt->step(0.01);
  };
  for (int i = 0; i < o.warmup; ++i) step();

  BenchResult r;
  auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (r.iters < o.iters || elapsed < o.min_seconds) {
    step();
    ++r.iters;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  r.seconds = elapsed;
  r.ms_per_iter = 1000.0 * elapsed / r.iters;
  r.images_per_s = o.batch * r.iters / elapsed;

  if (!o.per_layer) return r;
  const int profiled = std::max(1, std::min(r.iters, 5));
  net.set_profiling(true);
  for (int i = 0; i < profiled; ++i) step();
  const auto& times = net.node_times();
  const auto rows = net.summary();
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string kernel = rows[i].kernel;
    const Net::BatchNormPacking packed = o.train ? net.batchnorm_packing(int(i)) : Net::BatchNormPacking{};
    if (packed.forward >= 0 || packed.backward >= 0)  // its passes run in the convolutions' packing
      kernel = packed.forward < 0 ? "packed bwd" : packed.backward < 0 ? "packed fwd" : "packed fwd+bwd";
    r.layers.push_back({rows[i].name, rows[i].type, kernel, 1000.0 * times[i].forward_s / profiled,
                        1000.0 * times[i].backward_s / profiled});
  }
  net.set_profiling(false);
  return r;
}

}  // namespace cnn
