// The in-memory path allocates nothing once warm: a second epoch of CIFAR-sized batches with
// random_crop + hflip + normalize makes no heap allocation, inline or with worker threads.
// Counted by replacing the global operator new for this test binary (it only counts).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <numeric>

#include "core/parallel.h"
#include "core/rng.h"
#include "data/loader.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}

// Every form of new and delete is replaced, so each pair matches (AddressSanitizer checks that a
// block from one family is not freed by another: Catch allocates with the nothrow form).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace cnn;

TEST_CASE("loader: no heap allocation per batch in the steady state (in-memory data)", "[data][loader]") {
  ImageDataset d;
  d.count = 300, d.channels = 3, d.height = 32, d.width = 32, d.num_classes = 10;
  Rng rng(1);
  d.pixels.resize(size_t(300 * 3072));
  for (auto& p : d.pixels) p = uint8_t(rng.below(256));
  for (int i = 0; i < 300; ++i) d.labels.push_back(i % 10);
  const MemoryDataset data(std::move(d));
  TransformSpec crop, flip, norm;
  crop.type = "random_crop", crop.size = {32}, crop.pad = 4;
  flip.type = "hflip";
  norm.type = "normalize", norm.mean = {0.5, 0.4, 0.3}, norm.std = {0.2, 0.2, 0.2};
  const Pipeline pipeline({crop, flip, norm}, 3, "t");
  std::vector<int64_t> order(300);
  std::iota(order.begin(), order.end(), 0);
  set_num_threads(2);
  for (int64_t workers : {0, 2}) {
    Loader loader(data, pipeline, {3, 32, 32}, {64, workers, 1, false, 0});
    for (uint64_t epoch = 1; epoch <= 3; ++epoch) {
      const int64_t before = g_allocations.load();
      loader.start(epoch, order);
      int64_t images = 0;
      while (const Batch* b = loader.next()) images += b->size;
      const int64_t allocated = g_allocations.load() - before;
      REQUIRE(images == 300);
      INFO("workers " << workers << ", epoch " << epoch);
      if (epoch >= 2) CHECK(allocated == 0);
    }
  }
}
