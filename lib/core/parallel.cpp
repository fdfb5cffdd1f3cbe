#include "core/parallel.h"

#include <atomic>
#include <cstring>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace cnn {
namespace {

thread_local bool in_parallel = false;

// Workers spin briefly before sleeping: layer calls come back to back, and a condvar wake-up
// costs more than a small layer's whole work.
class ThreadPool {
 public:
  explicit ThreadPool(int n) : n_(n) {
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }

  void run(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, bool balanced) {
    int chunks = static_cast<int>(std::min<int64_t>(n, n_));
    job_ = &fn;
    job_n_ = n;
    job_chunks_ = chunks;
    balanced_ = balanced && n < (int64_t(1) << 31);
    if (balanced_) {
      for (int i = 0; i < chunks; ++i) ranges_[size_t(i)].set(n * i / chunks, n * (i + 1) / chunks);
      // a few pieces per chunk: a thread slowed by another process leaves whole pieces behind
      piece_ = std::max<int64_t>(1, n / (int64_t(chunks) * kPiecesPerChunk));
    }
    // Every worker checks in, with or without a chunk, so none can see a later call's state.
    pending_.store(n_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    std::exception_ptr error;
    try {
      run_chunk(0);
    } catch (...) {
      error = std::current_exception();
    }
    // Spin briefly, then yield: when another process holds the other core, a spinning caller
    // would only delay the worker it waits for.
    for (int spins = 0; pending_.load(std::memory_order_acquire) > 0; ++spins) {
      if (spins < 4000) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
    job_ = nullptr;
    if (error) std::rethrow_exception(error);
  }

 private:
  void run_chunk(int i) {
    if (i >= job_chunks_) return;
    if (balanced_) return run_balanced(i);
    int64_t begin = job_n_ * i / job_chunks_, end = job_n_ * (i + 1) / job_chunks_;
    if (begin < end) (*job_)(begin, end, i);
  }

  void loop(int index) {
    in_parallel = true;  // nested parallel_for calls from a worker run inline
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      int spins = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen && spins < 4000) {
        ++spins;
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_.load() != seen; });
        g = generation_.load();
      }
      seen = g;
      if (stop_) return;
      if (index < job_chunks_) run_chunk(index);  // layers never throw on worker threads
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // A chunk's unclaimed indices [front, back), packed in one word: its owner claims pieces from
  // the front, other threads from the back.
  struct alignas(64) Range {
    std::atomic<uint64_t> word{0};
    void set(int64_t front, int64_t back) {
      word.store(uint64_t(back) << 32 | uint64_t(front), std::memory_order_relaxed);
    }
    bool claim(int64_t piece, bool from_front, int64_t& b, int64_t& e) {
      uint64_t w = word.load(std::memory_order_relaxed);
      for (;;) {
        const int64_t front = int64_t(w & 0xffffffffu), back = int64_t(w >> 32);
        if (front >= back) return false;
        b = from_front ? front : std::max(front, back - piece);
        e = from_front ? std::min(back, front + piece) : back;
        const uint64_t next = from_front ? uint64_t(back) << 32 | uint64_t(e) : uint64_t(b) << 32 | uint64_t(front);
        if (word.compare_exchange_weak(w, next, std::memory_order_relaxed)) return true;
      }
    }
  };
  static constexpr int64_t kPiecesPerChunk = 8;

  void run_balanced(int i) {
    int64_t b, e;
    while (ranges_[size_t(i)].claim(piece_, true, b, e)) (*job_)(b, e, i);
    for (int k = 1; k < job_chunks_; ++k) {
      Range& other = ranges_[size_t((i + k) % job_chunks_)];
      while (other.claim(piece_, false, b, e)) (*job_)(b, e, i);
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_chunks_ = 0;
  bool balanced_ = false;
  int64_t piece_ = 1;
  std::vector<Range> ranges_ = std::vector<Range>(size_t(n_));
  bool stop_ = false;
};

std::unique_ptr<ThreadPool>& pool() {
  static std::unique_ptr<ThreadPool> p;
  return p;
}

}  // namespace

void set_num_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  openblas_set_num_threads(1);
  if (pool() && pool()->size() == n) return;
  pool().reset();
  pool() = std::make_unique<ThreadPool>(n);
}

int num_threads() {
  if (!pool()) set_num_threads(0);
  return pool()->size();
}

void parallel_copy(const float* src, float* dst, int64_t n) {
  parallel_elementwise(n, [&](int64_t b, int64_t e) { std::memcpy(dst + b, src + b, sizeof(float) * size_t(e - b)); });
}

namespace {
void run_parallel(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, bool balanced) {
  if (n <= 0) return;
  if (!pool()) set_num_threads(0);
  if (n == 1 || pool()->size() == 1 || in_parallel) {
    fn(0, n, 0);
    return;
  }
  in_parallel = true;
  try {
    pool()->run(n, fn, balanced);
  } catch (...) {
    in_parallel = false;
    throw;
  }
  in_parallel = false;
}
}  // namespace

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) { run_parallel(n, fn, false); }

void parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  run_parallel(n, fn, true);
}

const char* blas_core_name() { return openblas_get_corename(); }
const char* blas_config() { return openblas_get_config(); }

}  // namespace cnn
