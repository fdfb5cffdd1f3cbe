#pragma once
// How long a cache line takes to reach another CPU and come back: the cost under every meeting of
// the pool's threads and every activation one thread writes and the other reads. On the shared
// hosts this project is measured on it moves in phases (session 33, Zen 4: 56-84 ns, then 325-356
// ns for minutes, when the two vCPUs sit far apart), and small-step workloads (LeNet-5's training,
// batch-1 inference) slow down with it while the FMA peak does not.

namespace cnn {

// Median nanoseconds of a round trip (one thread stores, a second thread sees it and answers, the
// first sees the answer) over a few batches of round trips: two threads, the caller and one it
// starts, spinning (then yielding, so that one CPU still finishes).
double cross_thread_round_trip_ns();

}  // namespace cnn
