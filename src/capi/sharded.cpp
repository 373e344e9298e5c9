// The sharded optimizer's C entry points (include/simdoptim/simdoptim_mpi.h).
#include <memory>

#include "capi/handles.hpp"
#include "simdoptim/sharded_optimizer.hpp"
#include "simdoptim/simdoptim_mpi.h"

namespace capi = simdoptim::capi;

struct simdoptim_sharded {
  std::shared_ptr<simdoptim::Optimizer> optimizer;  // kept alive for `sharded`
  std::unique_ptr<simdoptim::ShardedOptimizer> sharded;
};

namespace {

simdoptim::ShardedOptimizer& sharded_of(const simdoptim_sharded* handle) {
  return *capi::require(capi::require(handle, "sharded")->sharded.get(), "sharded");
}

simdoptim_status create(const char* function, simdoptim_optimizer* optimizer, MPI_Comm comm,
                        size_t bucket_elements, simdoptim_sharded** out) {
  return capi::guard(function, [&] {
    capi::require(out, "out");
    simdoptim::Optimizer& opt = capi::optimizer_of(optimizer);
    auto handle = std::make_unique<simdoptim_sharded>();
    handle->optimizer = optimizer->optimizer;
    simdoptim::ShardedOptions options;
    if (bucket_elements != 0) options.bucket_elements = bucket_elements;
    handle->sharded = std::make_unique<simdoptim::ShardedOptimizer>(opt, comm, options);
    *out = handle.release();
  });
}

}  // namespace

extern "C" {

simdoptim_status simdoptim_sharded_create(simdoptim_optimizer* optimizer, MPI_Comm comm,
                                          size_t bucket_elements, simdoptim_sharded** out) {
  return create(__func__, optimizer, comm, bucket_elements, out);
}

simdoptim_status simdoptim_sharded_create_f(simdoptim_optimizer* optimizer, MPI_Fint comm,
                                            size_t bucket_elements, simdoptim_sharded** out) {
  return create(__func__, optimizer, MPI_Comm_f2c(comm), bucket_elements, out);
}

simdoptim_status simdoptim_sharded_destroy(simdoptim_sharded* sharded) {
  return capi::guard(__func__, [&] { delete sharded; });
}

simdoptim_status simdoptim_sharded_step(simdoptim_sharded* sharded) {
  return capi::guard(__func__, [&] { sharded_of(sharded).step(); });
}

simdoptim_status simdoptim_sharded_state_bytes(const simdoptim_sharded* sharded, size_t* bytes) {
  return capi::guard(__func__,
                     [&] { *capi::require(bytes, "bytes") = sharded_of(sharded).state_bytes(); });
}

simdoptim_status simdoptim_sharded_shard(const simdoptim_sharded* sharded, size_t group,
                                         size_t* begin, size_t* end) {
  return capi::guard(__func__, [&] {
    capi::require(begin, "begin");
    capi::require(end, "end");
    const simdoptim::ShardRange r = sharded_of(sharded).shard(group);
    *begin = r.begin;
    *end = r.end;
  });
}

simdoptim_status simdoptim_sharded_save(simdoptim_sharded* sharded, const char* path) {
  return capi::guard(__func__, [&] { sharded_of(sharded).save(capi::require(path, "path")); });
}

simdoptim_status simdoptim_sharded_load(simdoptim_sharded* sharded, const char* path) {
  return capi::guard(__func__, [&] { sharded_of(sharded).load(capi::require(path, "path")); });
}

}  // extern "C"
