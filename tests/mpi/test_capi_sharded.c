/* The sharded optimizer through the C API (simdoptim_mpi.h) under mpirun: steps equal to one
 * process stepping the rank-order average, the Fortran-handle constructor, and a parameter list
 * that differs on one rank failing on every rank. Exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include "simdoptim/simdoptim_mpi.h"

static int failed = 0;

static void expect(int ok, const char* what) {
  if (!ok) {
    ++failed;
    fprintf(stderr, "test_capi_sharded: %s failed (last error: %s)\n", what,
            simdoptim_last_error());
  }
}

enum { kTensors = 3 };
static const int64_t kShapes[kTensors][2] = {{5, 7}, {1, 1}, {3, 100}};

static simdoptim_optimizer* make(size_t tensors) {
  static const char* names[] = {"w", "b", "v", "extra"};
  simdoptim_param_spec specs[4];
  const simdoptim_option options[] = {{"lr", 0.01}, {"weight_decay", 0.1}};
  const simdoptim_runtime runtime = {NULL, 1};
  simdoptim_optimizer* o = NULL;
  size_t i;
  for (i = 0; i < tensors; ++i) {
    specs[i].name = names[i];
    specs[i].shape = kShapes[i % kTensors];
    specs[i].ndim = 2;
    specs[i].requires_grad = 1;
  }
  expect(
      simdoptim_optimizer_create("adamw", options, 2, specs, tensors, &runtime, &o) == SIMDOPTIM_OK,
      "create");
  return o;
}

static float grad_value(int rank, int step, size_t t, size_t j) {
  return (float)((int)((rank * 31 + step * 17 + (int)t * 7 + (int)j * 3) % 41) - 20) / 8.0f;
}

/* Rank `rank`'s gradients, or (ranks > 0) the average of ranks 0..ranks-1 in rank order. */
static void write_grads(simdoptim_optimizer* o, int step, int rank, int ranks) {
  size_t t, j, n;
  int r;
  float* g;
  for (t = 0; t < kTensors; ++t) {
    simdoptim_optimizer_grad_data(o, t, &g, &n);
    for (j = 0; j < n; ++j) {
      float sum;
      if (ranks == 0) {
        g[j] = grad_value(rank, step, t, j);
        continue;
      }
      sum = grad_value(0, step, t, j);
      for (r = 1; r < ranks; ++r) sum = sum + grad_value(r, step, t, j);
      g[j] = sum / (float)ranks;
    }
  }
}

int main(int argc, char** argv) {
  int rank, ranks, step, worst;
  size_t t, n, bytes = 0;
  simdoptim_optimizer* full;
  simdoptim_optimizer* reference;
  simdoptim_optimizer* odd;
  simdoptim_sharded* sharded = NULL;
  simdoptim_sharded* refused = NULL;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);

  full = make(kTensors);
  reference = make(kTensors);
  expect(
      simdoptim_sharded_create_f(full, MPI_Comm_c2f(MPI_COMM_WORLD), 64, &sharded) == SIMDOPTIM_OK,
      "sharded_create_f");
  for (step = 0; step < 3; ++step) {
    write_grads(full, step, rank, 0);
    expect(simdoptim_sharded_step(sharded) == SIMDOPTIM_OK, "sharded_step");
    write_grads(reference, step, 0, ranks);
    simdoptim_optimizer_step(reference);
  }
  for (t = 0; t < kTensors; ++t) {
    float* a;
    float* b;
    simdoptim_optimizer_param_data(full, t, &a, &n);
    simdoptim_optimizer_param_data(reference, t, &b, &n);
    expect(memcmp(a, b, n * sizeof(float)) == 0, "bitwise equal parameters");
  }
  expect(simdoptim_sharded_state_bytes(sharded, &bytes) == SIMDOPTIM_OK && bytes > 0,
         "state_bytes");
  expect(simdoptim_sharded_destroy(sharded) == SIMDOPTIM_OK, "destroy");

  /* The last rank has one tensor more: every rank fails, none hangs. */
  odd = make(rank == ranks - 1 && ranks > 1 ? kTensors + 1 : kTensors);
  expect(simdoptim_sharded_create(odd, MPI_COMM_WORLD, 0, &refused) ==
             (ranks > 1 ? SIMDOPTIM_ERROR_INVALID_ARGUMENT : SIMDOPTIM_OK),
         "a differing parameter list is refused on every rank");
  simdoptim_sharded_destroy(refused);

  simdoptim_optimizer_destroy(odd);
  simdoptim_optimizer_destroy(reference);
  simdoptim_optimizer_destroy(full);
  MPI_Allreduce(&failed, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst != 0;
}
