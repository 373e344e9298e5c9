#include "tensor_reductions.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/reduce_kernel.hpp"

namespace simdoptim::detail {

void TensorReducer::add_tensor(std::size_t tensor, const float* x, std::size_t begin,
                               std::size_t end, std::size_t count, const std::uint16_t* x16) {
  for (std::size_t b = begin; b < end; b += kReduceChunk)
    jobs_.push_back({tensor, x, b, std::min(b + kReduceChunk, end), count, x16});
}

void TensorReducer::execute(Executor& executor, Isa isa, Reduction reduction,
                            std::span<double> out) {
  partials_.assign(jobs_.size(), 0.0);
  const KernelFn<ReduceArgs> kernel =
      reduction == Reduction::sum_squares ? sum_squares_kernel(isa) : abs_max_kernel(isa);
  auto body = [&](std::size_t j) {
    const Job& job = jobs_[j];
    kernel(ReduceArgs{job.x, &partials_[j], job.count, job.x16, format16_}, job.begin, job.end);
  };
  executor.run(jobs_.size(), body);
  // Combine in job order, which is tensor order then offset order: fixed by the data alone.
  for (std::size_t j = 0; j < jobs_.size(); ++j) {
    double& o = out[jobs_[j].tensor];
    const double p = partials_[j];
    if (reduction == Reduction::sum_squares)
      o += p;
    else
      o = (std::isnan(p) || p > o) ? p : o;
  }
}

}  // namespace simdoptim::detail
