#pragma once
// The processes of a data-parallel run (docs/distributed.md). When cnn is started by an MPI
// launcher (mpirun, srun) and built with MPI, they are MPI_COMM_WORLD; otherwise there is one
// process and every collective below returns at once with its input unchanged.
//
// Failures: MPI's errors are fatal (MPI_ERRORS_ARE_FATAL), and the launcher stops the job when a
// rank dies, naming it. A rank that is alive but stuck only shows as silence, so every collective
// here is watched: after `timeout` seconds without an answer this rank prints
// "error: rank R: ..." naming what it waited for, and ends the job.
#include <cstdint>
#include <memory>
#include <string>

namespace cnn::dist {

// Starts MPI when a launcher started this process (its environment says so) and ends it on
// destruction. One per program, in main, before any thread exists.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int rank();        // 0 alone
int size();        // 1 alone
bool is_root();    // rank 0: prints, writes metrics and checkpoints
bool active();     // more than one process
int local_size();  // ranks on this machine (1 alone)
std::string library_version();  // "Open MPI v4.1.4 ..." first line, or "" without MPI

// Seconds a collective may wait for the other ranks before the job is ended (default 600).
void set_timeout(double seconds);
double timeout();

// In-place sums over all ranks; `what` names the collective in the timeout error.
void sum(float* data, int64_t n, const char* what);
void sum(double* data, int64_t n, const char* what);
void sum(int64_t* data, int64_t n, const char* what);
// Non-blocking in-place float sums over all ranks (MPI_Iallreduce), e.g. of gradients while the
// backward pass goes on. Every rank must start the same sums in the same order, also relative to
// the blocking collectives above. Open MPI moves a non-blocking collective on only inside MPI
// calls (it has no progress thread by default): poll() between pieces of work lets it. Alone,
// start() leaves the data as it is.
class SumsInFlight {
 public:
  SumsInFlight();
  ~SumsInFlight();  // does not wait: a sum still in flight at destruction means the job is ending
  SumsInFlight(const SumsInFlight&) = delete;
  SumsInFlight& operator=(const SumsInFlight&) = delete;
  void start(float* data, int64_t n);
  void poll();                        // lets MPI progress the sums in flight (MPI_Test each)
  int64_t arrived() const;            // sums started since the last wait_all that have arrived
  void wait_all(const char* what);    // every sum started so far has arrived; watched like sum()

 private:
  struct Requests;
  std::unique_ptr<Requests> requests_;
};

// Rank 0's values to every rank.
void broadcast(float* data, int64_t n, const char* what);

// Ends every rank of the job with `code` (MPI_Abort); alone: std::exit(code).
[[noreturn]] void abort_job(int code);

}  // namespace cnn::dist
