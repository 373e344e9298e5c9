#include "distributed/shard_layout.hpp"

#include <algorithm>

namespace simdoptim::detail {
namespace {

constexpr std::size_t kUnit = ParamGroup::kTensorAlign;

// The first unit of part `i` of `units` units cut into `parts` balanced parts.
std::size_t split(std::size_t units, std::size_t parts, std::size_t i) {
  return units * i / parts;
}

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

std::vector<Piece> pieces_in(const ParamGroup& group, std::size_t begin, std::size_t end) {
  std::vector<Piece> pieces;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const TensorInfo& t = group.info(i);
    const std::size_t lo = std::max(t.offset, begin);
    const std::size_t hi = std::min(t.offset + t.numel, end);
    if (lo < hi) pieces.push_back({i, lo - t.offset, hi - t.offset});
  }
  return pieces;
}

std::string piece_name(const ParamGroup& group, const Piece& piece) {
  return group.info(piece.tensor).name + "[" + std::to_string(piece.begin) + ":" +
         std::to_string(piece.end) + ")";
}

ShardLayout make_shard_layout(const std::deque<ParamGroup>& groups, int ranks,
                              std::size_t bucket_elements) {
  ShardLayout layout;
  layout.ranks = ranks;
  const auto k = static_cast<std::size_t>(ranks);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const ParamGroup& group = groups[g];
    // Cuts at the group's tensor alignment: with q8 state a quantization block (256 elements)
    // never straddles two shards or buckets, so each shard's blocks are the full arena's.
    const std::size_t unit = group.tensor_align();
    const std::size_t bucket_units =
        std::max<std::size_t>(1, round_up(bucket_elements, unit) / unit);
    const std::size_t units = group.padded_numel() / unit;
    for (std::size_t r = 0; r < k; ++r)
      layout.shards.push_back({split(units, k, r) * unit, split(units, k, r + 1) * unit});
    if (units == 0) continue;
    const std::size_t largest = (units + k - 1) / k;
    const std::size_t count = (largest + bucket_units - 1) / bucket_units;
    for (std::size_t b = 0; b < count; ++b) {
      Bucket bucket{g, std::vector<std::size_t>(k), std::vector<std::size_t>(k)};
      for (std::size_t r = 0; r < k; ++r) {
        const ShardRange s = layout.shards[g * k + r];
        const std::size_t shard_units = (s.end - s.begin) / unit;
        const std::size_t begin = s.begin + split(shard_units, count, b) * unit;
        const std::size_t end = s.begin + split(shard_units, count, b + 1) * unit;
        const std::vector<Piece> pieces = pieces_in(group, begin, end);
        bucket.begin[r] = begin;
        if (!pieces.empty()) {
          const Piece& last = pieces.back();
          bucket.content[r] = round_up(group.info(last.tensor).offset + last.end, kUnit) - begin;
        }
      }
      layout.buckets.push_back(std::move(bucket));
    }
  }
  return layout;
}

}  // namespace simdoptim::detail
