#include "dist/comm.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"

#ifdef CNN_HAVE_MPI
#include <mpi.h>
#endif

namespace cnn::dist {

namespace {

struct State {
  int rank = 0, size = 1, local_size = 1;
  bool mpi = false;  // MPI_Init ran (so MPI_Finalize must)
  double timeout_s = 600;
};
State g;

// Environment variables a launcher sets for the processes it starts (Open MPI's mpirun, PMIx
// under srun --mpi=pmix, PMI-1/2 under MPICH's hydra or srun --mpi=pmi2).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

// srun -n 4 without an MPI plugin starts four independent copies that would all train alone and
// write the same files: refused. (SLURM_STEP_NUM_TASKS is the srun step's task count; a batch
// script itself is a step of one task.)
void refuse_srun_without_mpi() {
  const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (!tasks || std::atoi(tasks) <= 1) return;
  throw ConfigError(std::string("started by srun as one of ") + tasks +
                    " tasks but without MPI (run srun --mpi=pmix, or mpirun; see docs/distributed.md)");
}

#ifdef CNN_HAVE_MPI
// Watches the collectives: a background thread that ends the process when one waits longer
// than the timeout. It never calls MPI (MPI_THREAD_FUNNELED); the launcher sees the rank exit
// with an error and stops the others.
class Watchdog {
 public:
  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void enter(const char* what) {
    what_.store(what);
    since_ns_.store(now_ns());
  }
  void leave() { since_ns_.store(0); }

 private:
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stop_; })) {
      const int64_t since = since_ns_.load();
      if (since == 0) continue;
      const double waited = double(now_ns() - since) * 1e-9;
      if (waited < g.timeout_s) continue;
      std::fprintf(stderr,
                   "error: rank %d: waited %.0f s for the other ranks in %s; one of them is stuck or unreachable "
                   "(--dist-timeout %.0f); ending the job\n",
                   g.rank, waited, what_.load(), g.timeout_s);
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
  std::atomic<int64_t> since_ns_{0};
  std::atomic<const char*> what_{""};
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};
std::unique_ptr<Watchdog> g_watchdog;

// Runs one blocking collective under the watchdog.
template <class F>
void watched(const char* what, F&& call) {
  if (g_watchdog) g_watchdog->enter(what);
  call();
  if (g_watchdog) g_watchdog->leave();
}
#endif

}  // namespace

Session::Session(int& argc, char**& argv) {
  if (!launched_by_mpi()) {
    refuse_srun_without_mpi();
    return;
  }
#ifdef CNN_HAVE_MPI
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g.mpi = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g.size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g.rank, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &g.local_size);
  MPI_Comm_free(&node);
  if (g.size > 1) g_watchdog = std::make_unique<Watchdog>();
#else
  (void)argc;
  (void)argv;
  const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (n && std::atoi(n) > 1)
    throw ConfigError(std::string("started by an MPI launcher as one of ") + n +
                      " processes, but this cnn was built without MPI (install libopenmpi-dev and rebuild)");
#endif
}

Session::~Session() {
#ifdef CNN_HAVE_MPI
  g_watchdog.reset();
  if (g.mpi) MPI_Finalize();
  g.mpi = false;
#endif
}

int rank() { return g.rank; }
int size() { return g.size; }
bool is_root() { return g.rank == 0; }
bool active() { return g.size > 1; }
int local_size() { return g.local_size; }
void set_timeout(double seconds) { g.timeout_s = seconds; }
double timeout() { return g.timeout_s; }

std::string library_version() {
#ifdef CNN_HAVE_MPI
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string s(buf, size_t(len));
  return s.substr(0, s.find_first_of(",\n"));
#else
  return "";
#endif
}

#ifdef CNN_HAVE_MPI
namespace {
void allreduce_sum(void* data, int64_t n, MPI_Datatype type, const char* what) {
  if (!active() || n == 0) return;
  // MPI counts are int: large buffers go in pieces.
  constexpr int64_t kMaxCount = int64_t(1) << 30;
  int type_size = 0;
  MPI_Type_size(type, &type_size);
  auto* bytes = static_cast<char*>(data);
  for (int64_t off = 0; off < n; off += kMaxCount) {
    const int count = int(std::min(kMaxCount, n - off));
    watched(what, [&] { MPI_Allreduce(MPI_IN_PLACE, bytes + off * type_size, count, type, MPI_SUM, MPI_COMM_WORLD); });
  }
}
}  // namespace

void sum(float* data, int64_t n, const char* what) { allreduce_sum(data, n, MPI_FLOAT, what); }
void sum(double* data, int64_t n, const char* what) { allreduce_sum(data, n, MPI_DOUBLE, what); }
void sum(int64_t* data, int64_t n, const char* what) { allreduce_sum(data, n, MPI_INT64_T, what); }

void broadcast(float* data, int64_t n, const char* what) {
  if (!active() || n == 0) return;
  constexpr int64_t kMaxCount = int64_t(1) << 30;
  for (int64_t off = 0; off < n; off += kMaxCount) {
    const int count = int(std::min(kMaxCount, n - off));
    watched(what, [&] { MPI_Bcast(data + off, count, MPI_FLOAT, 0, MPI_COMM_WORLD); });
  }
}

struct SumsInFlight::Requests {
  std::vector<MPI_Request> pending;  // MPI_REQUEST_NULL once arrived
  int64_t arrived = 0;
};
SumsInFlight::SumsInFlight() : requests_(std::make_unique<Requests>()) {}
SumsInFlight::~SumsInFlight() = default;

void SumsInFlight::start(float* data, int64_t n) {
  if (!active() || n == 0) return;
  constexpr int64_t kMaxCount = int64_t(1) << 30;  // MPI counts are int: large buffers go in pieces
  for (int64_t off = 0; off < n; off += kMaxCount) {
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, data + off, int(std::min(kMaxCount, n - off)), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
    requests_->pending.push_back(r);
  }
}

void SumsInFlight::poll() {
  for (MPI_Request& r : requests_->pending) {
    if (r == MPI_REQUEST_NULL) continue;
    int done = 0;
    MPI_Test(&r, &done, MPI_STATUS_IGNORE);  // sets r to MPI_REQUEST_NULL when done
    requests_->arrived += done;
  }
}

int64_t SumsInFlight::arrived() const { return requests_->arrived; }

void SumsInFlight::wait_all(const char* what) {
  auto& p = requests_->pending;
  if (!p.empty()) watched(what, [&] { MPI_Waitall(int(p.size()), p.data(), MPI_STATUSES_IGNORE); });
  p.clear();
  requests_->arrived = 0;
}

void abort_job(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (g.mpi && active()) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}
#else
void sum(float*, int64_t, const char*) {}
void sum(double*, int64_t, const char*) {}
void sum(int64_t*, int64_t, const char*) {}
void broadcast(float*, int64_t, const char*) {}
struct SumsInFlight::Requests {};
SumsInFlight::SumsInFlight() : requests_(std::make_unique<Requests>()) {}
SumsInFlight::~SumsInFlight() = default;
void SumsInFlight::start(float*, int64_t) {}
void SumsInFlight::poll() {}
int64_t SumsInFlight::arrived() const { return 0; }
void SumsInFlight::wait_all(const char*) {}
void abort_job(int code) { std::exit(code); }
#endif

}  // namespace cnn::dist
