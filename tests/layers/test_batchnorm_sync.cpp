// BatchNorm's cross-process statistics (RunContext::batch_stats_sum, train.sync_bn): two
// "processes" (threads whose sums meet at a barrier), each with its own BatchNorm and half of a
// batch, give what one BatchNorm gives on the whole batch: outputs, input gradients, running
// statistics; their gamma/beta gradients add up to the whole batch's. With and without the ReLU
// the Net fuses into BatchNorm.
#include <barrier>
#include <catch2/catch.hpp>
#include <thread>

#include "../layer_builder.h"
#include "../thread_guard.h"
#include "core/rng.h"

using namespace cnn;
using namespace cnn::test;

namespace {

// Both threads get a + b, added in the same order.
struct TwoProcessSums {
  std::barrier<> meet{2};
  std::vector<double> mine[2];
};

class ThreadSum : public CrossProcessSum {
 public:
  ThreadSum(TwoProcessSums& shared, int me) : s_(shared), me_(me) {}
  void sum(double* values, size_t n) override {
    s_.mine[me_].assign(values, values + n);
    s_.meet.arrive_and_wait();
    for (size_t i = 0; i < n; ++i) values[i] = s_.mine[0][i] + s_.mine[1][i];
    s_.meet.arrive_and_wait();  // both have read before either writes again
    ++calls;
  }
  int calls = 0;

 private:
  TwoProcessSums& s_;
  int me_;
};

Tensor rows(const Tensor& t, int64_t from, int64_t count) {
  Shape s = t.shape();
  s[0] = count;
  Tensor out(s);
  const int64_t per = t.numel() / t.dim(0);
  std::copy(t.data() + from * per, t.data() + (from + count) * per, out.data());
  return out;
}

}  // namespace

TEST_CASE("BatchNorm with statistics summed over two processes equals one BatchNorm on the whole batch") {
  ThreadGuard one_thread(1);  // each "process" runs its layer on its own thread
  const bool fused = GENERATE(false, true);
  INFO("ReLU fused: " << fused);
  Rng rng(11);
  const Shape whole_shape{6, 3, 4, 5};
  Tensor x(whole_shape), dout(whole_shape);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform(-1.f, 2.f);
  for (int64_t i = 0; i < dout.numel(); ++i) dout[i] = rng.uniform(-1.f, 1.f);

  auto make = [fused] {
    auto bn = build_layer("bn", {});
    bn->fuse_relu(fused);
    bn->infer({Shape{6, 3, 4, 5}});
    Rng r(1);
    bn->init(r);
    bn->params()[0]->value[1] = 1.5f;  // a gamma other than 1
    return bn;
  };
  auto ref = make();
  Tensor ref_out(whole_shape), ref_dx(whole_shape);
  RunContext ctx{true, nullptr};
  ref->forward({&x}, ref_out, ctx);
  ref->backward({&x}, ref_out, dout, {&ref_dx}, ctx);

  TwoProcessSums shared;
  std::unique_ptr<Layer> half[2] = {make(), make()};
  Tensor out[2], dx[2];
  int calls[2] = {0, 0};
  auto process = [&](int p) {
    ThreadSum sum(shared, p);
    RunContext c{true, nullptr};
    c.batch_stats_sum = &sum;
    const Tensor xs = rows(x, 3 * p, 3), ds = rows(dout, 3 * p, 3);
    half[p]->infer({xs.shape()});
    out[p].resize(xs.shape());
    dx[p].resize(xs.shape());
    half[p]->forward({&xs}, out[p], c);
    half[p]->backward({&xs}, out[p], ds, {&dx[p]}, c);
    calls[p] = sum.calls;
  };
  std::thread other(process, 1);
  process(0);
  other.join();

  CHECK(calls[0] == 2);  // one sum in forward, one in backward
  for (int p = 0; p < 2; ++p) {
    const Tensor ro = rows(ref_out, 3 * p, 3), rd = rows(ref_dx, 3 * p, 3);
    for (int64_t i = 0; i < ro.numel(); ++i) {
      REQUIRE(out[p][i] == Approx(ro[i]).margin(1e-5));
      REQUIRE(dx[p][i] == Approx(rd[i]).margin(1e-5));
    }
    for (size_t b = 0; b < 2; ++b)  // running mean, running var
      for (int64_t c = 0; c < 3; ++c)
        CHECK(half[p]->buffers()[b]->value[c] == Approx(ref->buffers()[b]->value[c]).epsilon(1e-5));
  }
  for (size_t k = 0; k < 2; ++k)  // gamma and beta: the halves' gradients add up to the whole's
    for (int64_t c = 0; c < 3; ++c)
      CHECK(half[0]->params()[k]->grad[c] + half[1]->params()[k]->grad[c] ==
            Approx(ref->params()[k]->grad[c]).margin(1e-5));
}
