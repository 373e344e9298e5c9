/* simdoptim C API, sharded optimizer over MPI (C++: simdoptim::ShardedOptimizer,
 * include/simdoptim/sharded_optimizer.hpp). A header of its own so that simdoptim.h needs no
 * MPI; the functions are in libsimdoptim.so when it was built with MPI. Conventions as
 * simdoptim.h. Every function but destroy, state_bytes and shard is collective over the
 * communicator: all ranks call it, in the same order. The engine owns MPI_Init and
 * MPI_Finalize, and destroys the handle before MPI_Finalize. Guide: docs/distributed.md. */
#ifndef SIMDOPTIM_SIMDOPTIM_MPI_H
#define SIMDOPTIM_SIMDOPTIM_MPI_H

#include <mpi.h>

#include "simdoptim/simdoptim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sharded optimizer: state for this rank's shard only. */
typedef struct simdoptim_sharded simdoptim_sharded;

/* Wraps `optimizer` (an elementwise optimizer whose param groups every rank of `comm` built
 * alike; it stays the engine's parameters, gradients and options) so that each rank keeps the
 * state of 1/size of every group's arena. `bucket_elements` (0: 1048576) is the most elements of
 * one rank's shard per bucket. A rank with another parameter list, or a non-elementwise
 * optimizer, fails with SIMDOPTIM_ERROR_INVALID_ARGUMENT on every rank. The handle keeps the
 * optimizer alive. `comm` is duplicated. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_create(simdoptim_optimizer* optimizer,
                                                        MPI_Comm comm, size_t bucket_elements,
                                                        simdoptim_sharded** out);
/* As simdoptim_sharded_create, with the communicator's Fortran handle (MPI_Comm_c2f; mpi4py:
 * comm.py2f()), for bindings that cannot pass an MPI_Comm. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_create_f(simdoptim_optimizer* optimizer,
                                                          MPI_Fint comm, size_t bucket_elements,
                                                          simdoptim_sharded** out);
/* Releases the handle (collective: it frees its communicator). NULL is allowed. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_destroy(simdoptim_sharded* sharded);
/* One step: gradients averaged in rank order and reduce-scattered, shards stepped, parameters
 * all-gathered; bitwise equal to one process stepping the average. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_step(simdoptim_sharded* sharded);
/* Bytes of optimizer state this rank holds. Not collective. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_state_bytes(const simdoptim_sharded* sharded,
                                                             size_t* bytes);
/* This rank's shard [begin, end) of group `group`'s arena, in elements. Not collective. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_shard(const simdoptim_sharded* sharded,
                                                       size_t group, size_t* begin, size_t* end);
/* Rank 0 writes the whole state to `path` in the single-process checkpoint format. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_save(simdoptim_sharded* sharded, const char* path);
/* Loads a checkpoint of any rank count (or of one process), re-sharded. */
SIMDOPTIM_API simdoptim_status simdoptim_sharded_load(simdoptim_sharded* sharded, const char* path);

#ifdef __cplusplus
}
#endif

#endif
