#pragma once
// main() of the MPI tools: MPI_Init, the tool, its error reported with the rank, MPI_Finalize
// (after the tool's objects, which hold communicators, are gone).
#include <mpi.h>

#include <cstdio>
#include <exception>

template <class Run>
int mpi_main(int argc, char** argv, const char* program, Run run) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  int rc = 0;
  try {
    rc = run(rank, ranks);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s (rank %d): error: %s\n", program, rank, e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
