/* MPI_Allreduce (float sum, in place) time per call over message sizes, for
 * scripts/bench/mpi_scaling.sh: the latency (smallest message) and bandwidth (largest) that the
 * efficiency model of docs/distributed.md starts from. Run under mpirun; rank 0 prints one line
 * per size: "bytes seconds_per_call bus_GB_per_s", bus bandwidth = 2 (p - 1) / p * bytes / time
 * (the traffic each rank sends in a ring all-reduce, as nccl-tests and OSU report it). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const long max_floats = argc > 1 ? atol(argv[1]) : 25600000; /* ResNet-50's gradients */
  float* buf = malloc(sizeof(float) * (size_t)max_floats);
  for (long i = 0; i < max_floats; ++i) buf[i] = 1.0f;
  for (long n = 1; n <= max_floats; n *= 8) {
    const int iters = n < 100000 ? 200 : (n < 5000000 ? 20 : 5);
    for (int i = 0; i < 10; ++i) /* warm-up */
      MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    for (int i = 0; i < iters; ++i) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    const double t = (MPI_Wtime() - t0) / iters;
    const double bytes = 4.0 * (double)n;
    if (rank == 0) printf("%.0f %.9f %.3f\n", bytes, t, 2.0 * (size - 1) / size * bytes / t / 1e9);
    if (n * 8 > max_floats && n != max_floats) n = max_floats / 8; /* end on max_floats exactly */
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
