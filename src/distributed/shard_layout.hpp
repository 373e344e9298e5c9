#pragma once
// Where each rank's shard and buckets lie in the param groups' arenas. Pure arithmetic on the
// groups' layout, the same on every rank.
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "simdoptim/param_group.hpp"
#include "simdoptim/sharded_optimizer.hpp"

namespace simdoptim::detail {

// Elements [begin, end) of tensor `tensor` of a group.
struct Piece {
  std::size_t tensor = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// One bucket: the same sub-range index of every rank's shard of one group.
struct Bucket {
  std::size_t group = 0;
  // Per rank: the sub-range's first arena element, and how many elements from there hold
  // tensors (a multiple of 16; the rest of the sub-range is padding, which stays zero).
  std::vector<std::size_t> begin;
  std::vector<std::size_t> content;
};

struct ShardLayout {
  int ranks = 1;
  std::vector<ShardRange> shards;  // [group * ranks + rank]
  std::vector<Bucket> buckets;     // group by group, then sub-range by sub-range
};

// Cuts every group's arena into `ranks` shards of whole units of its tensor alignment (16
// elements, 256 with q8 state; sizes differing by at most one unit) and each shard into the same
// number of sub-ranges per group, the largest shard's sub-ranges holding at most
// `bucket_elements` elements (rounded up to a unit).
ShardLayout make_shard_layout(const std::deque<ParamGroup>& groups, int ranks,
                              std::size_t bucket_elements);

// The pieces of `group`'s tensors inside arena elements [begin, end), in arena order.
std::vector<Piece> pieces_in(const ParamGroup& group, std::size_t begin, std::size_t end);

// "name[begin:end)": a piece's tensor name in the shard optimizer.
std::string piece_name(const ParamGroup& group, const Piece& piece);

}  // namespace simdoptim::detail
