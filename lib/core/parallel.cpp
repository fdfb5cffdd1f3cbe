#include "core/parallel.h"

#include <atomic>
#include <cstring>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/spin_wait.h"

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace cnn {
namespace {

thread_local bool in_parallel = false;
std::atomic<bool> workers_held{false};

// Workers spin briefly before sleeping: layer calls come back to back, and a condvar wake-up
// costs more than a small layer's whole work.
//
// A call's chunks are claimed, not assigned: each thread claims its own chunk first, then the
// chunks (or, balanced, the pieces) nobody has claimed yet, and the caller waits only for the
// workers that joined the call, never for one that has not woken yet. A worker that is asleep,
// or whose CPU another process holds, forfeits its chunk to the caller instead of stalling it for
// a wake-up or a time slice (session 33, LeNet-5 b64 training with a busy loop on the other CPU:
// 6.6 -> 4.3 ms a step; uncontended even). Which thread runs a chunk does not change its
// results: fn gets the chunk's index (static) or its own (balanced).
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
    const int chunks = static_cast<int>(std::min<int64_t>(n, n_));
    job_ = &fn;
    job_chunks_ = chunks;
    balanced_ = balanced && n < (int64_t(1) << 31);
    job_n_ = n;
    // Balanced ranges hold indices, in a few pieces per chunk (a thread slowed by another
    // process leaves whole pieces behind); a static call's range is its chunk's number.
    for (int i = 0; i < chunks; ++i) {
      if (balanced_) ranges_[size_t(i)].set(n * i / chunks, n * (i + 1) / chunks);
      else ranges_[size_t(i)].set(i, i + 1);
    }
    piece_ = balanced_ ? std::max<int64_t>(1, n / (int64_t(chunks) * kPiecesPerChunk)) : 1;
    const uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
    entry_.store(g << kGenerationShift, std::memory_order_release);  // open, nobody joined
    {
      std::lock_guard<std::mutex> lk(mu_);
      generation_.store(g, std::memory_order_release);
    }
    cv_.notify_all();
    std::exception_ptr error;
    try {
      work(0);
    } catch (...) {
      error = std::current_exception();
    }
    entry_.fetch_or(kClosed, std::memory_order_acq_rel);  // late workers stay out
    spin_then_yield([&] { return (entry_.load(std::memory_order_acquire) & kJoinedMask) == 0; });
    job_ = nullptr;
    if (error) std::rethrow_exception(error);
  }

 private:
  // The entry word: the call's generation, a closed bit, and how many workers joined it.
  static constexpr int kGenerationShift = 32;
  static constexpr uint64_t kClosed = uint64_t(1) << 31;
  static constexpr uint64_t kJoinedMask = kClosed - 1;

  bool join(uint64_t g) {
    uint64_t w = entry_.load(std::memory_order_acquire);
    do {
      if ((w >> kGenerationShift) != (g & 0xffffffffu) || (w & kClosed)) return false;
    } while (!entry_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire));
    return true;
  }

  // Thread i's own chunk from the front, then what is left of the others'.
  void work(int i) {
    for (int k = 0; k < job_chunks_; ++k) {
      const int owner = (i + k) % job_chunks_;
      int64_t b, e;
      while (ranges_[size_t(owner)].claim(piece_, k == 0, b, e)) {
        if (balanced_) (*job_)(b, e, i);
        else (*job_)(job_n_ * owner / job_chunks_, job_n_ * (owner + 1) / job_chunks_, owner);
      }
    }
  }

  void loop(int index) {
    in_parallel = true;  // nested parallel_for calls from a worker run inline
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      int spins = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen && spins < kSpinsBeforeYield) {
        ++spins;
        cpu_relax();
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_.load() != seen; });
        g = generation_.load();
      }
      seen = g;
      if (stop_) return;
      while (workers_held.load(std::memory_order_acquire) && !stop_) std::this_thread::yield();
      if (!join(g)) continue;
      if (index < job_chunks_) work(index);  // layers never throw on worker threads
      entry_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // A chunk's unclaimed indices [front, back), packed in one word: its owner claims pieces from
  // the front, other threads from the back (a static call's piece is the whole chunk).
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

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<uint64_t> entry_{0};
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int job_chunks_ = 0;
  bool balanced_ = false;
  int64_t piece_ = 1;
  std::vector<Range> ranges_ = std::vector<Range>(size_t(n_));
  std::atomic<bool> stop_{false};  // read by held workers while the destructor may set it
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

void hold_pool_workers(bool held) { workers_held.store(held, std::memory_order_release); }

void parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  run_parallel(n, fn, true);
}

const char* blas_core_name() { return openblas_get_corename(); }
const char* blas_config() { return openblas_get_config(); }

}  // namespace cnn
