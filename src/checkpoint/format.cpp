// The checkpoint file format, versions 1 to 3 (docs/checkpoint_format.md): encoding and decoding
// of optimizer and scheduler states. Decoding checks every CRC and every length before it
// allocates, so a corrupt or hostile file fails with CheckpointError, never a crash.
#include <stdexcept>

#include "checkpoint/byte_io.hpp"
#include "checkpoint/crc32c.hpp"
#include "kernels/quant8.hpp"
#include "simdoptim/version.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using detail::ByteReader;
using detail::ByteWriter;

constexpr std::size_t kMaxSchedulerDepth = 32;

std::string tag_name(std::uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((tag >> (8 * i)) & 0xFFu);
    s += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return s;
}

std::uint8_t dtype_code(DType d) {
  return static_cast<std::uint8_t>(d);
}

// A dtype code; versions before 3 hold only f32, and q8 is a state's dtype only.
DType read_dtype(ByteReader& r, std::uint32_t version, bool q8_allowed) {
  const std::uint8_t code = r.u8();
  const std::uint8_t last =
      version < 3 ? dtype_code(DType::f32) : dtype_code(q8_allowed ? DType::q8 : DType::f16);
  if (code > last) r.fail("unknown dtype code " + std::to_string(code));
  return static_cast<DType>(code);
}

bool read_bool(ByteReader& r, const char* what) {
  const std::uint8_t b = r.u8();
  if (b > 1) r.fail(std::string(what) + " flag is " + std::to_string(b) + ", not 0 or 1");
  return b == 1;
}

bool has_data(const TensorStateDict& t) {
  return !t.arrays.empty() || t.param.has_value() || t.param16.has_value() ||
         t.averaged.has_value();
}

// Version 3 records storage and arrays not fp32, version 2 averaged parameters; files without
// either stay version 1.
std::uint32_t version_of(const OptimizerStateDict& state) {
  std::uint32_t version = state.averaging ? 2 : 1;
  for (const GroupStateDict& g : state.param_groups) {
    if (g.storage && !g.storage->is_default()) return 3;
    for (const TensorStateDict& t : g.tensors) {
      if (t.dtype != DType::f32 || t.param16) return 3;
      for (const StateArray& a : t.arrays)
        if (a.dtype != DType::f32) return 3;
      if (t.averaged) version = 2;
    }
  }
  return version;
}

void write_storage(ByteWriter& w, const std::optional<StorageOptions>& storage) {
  w.u8(storage ? 1 : 0);
  if (!storage) return;
  w.u8(dtype_code(storage->param));
  w.u8(dtype_code(storage->grad));
  w.u8(dtype_code(storage->state));
  w.u8(storage->master_weights ? 1 : 0);
  w.u8(storage->stochastic_rounding ? 1 : 0);
  w.u64(storage->seed);
}

std::optional<StorageOptions> read_storage(ByteReader& r) {
  if (!read_bool(r, "has_storage")) return std::nullopt;
  StorageOptions s;
  s.param = read_dtype(r, 3, false);
  s.grad = read_dtype(r, 3, false);
  s.state = read_dtype(r, 3, true);
  s.master_weights = read_bool(r, "master_weights");
  s.stochastic_rounding = read_bool(r, "stochastic_rounding");
  s.seed = r.u64();
  try {
    s.validate();
  } catch (const std::invalid_argument& e) {
    r.fail(std::string("storage: ") + e.what());
  }
  return s;
}

void write_group(ByteWriter& w, const GroupStateDict& g, std::uint32_t version) {
  w.u32(static_cast<std::uint32_t>(g.options.items().size()));
  for (const auto& [key, value] : g.options.items()) {
    w.str(key);
    w.f64(value);
  }
  w.u32(static_cast<std::uint32_t>(g.tensors.size()));
  for (const TensorStateDict& t : g.tensors) {
    w.str(t.name);
    w.u8(dtype_code(t.dtype));
    w.u32(static_cast<std::uint32_t>(t.shape.size()));
    for (std::int64_t d : t.shape) w.i64(d);
    w.i64(t.step);
    w.u8(t.initialized ? 1 : 0);
    w.u32(static_cast<std::uint32_t>(t.scalars.size()));
    for (const auto& [name, value] : t.scalars) {
      w.str(name);
      w.f64(value);
    }
    w.u32(static_cast<std::uint32_t>(t.arrays.size()));
    for (const StateArray& a : t.arrays) {
      w.str(a.name);
      w.u8(dtype_code(a.dtype));
      if (version >= 3 && a.dtype == DType::q8) w.u8(a.non_negative ? 1 : 0);
    }
    if (t.param16 && (t.dtype == DType::f32 || t.dtype == DType::q8))
      throw std::invalid_argument("tensor '" + t.name + "' has 16-bit param bits but dtype " +
                                  dtype_name(t.dtype));
    w.u8(t.param || t.param16 ? 1 : 0);
    if (version >= 3 && (t.param || t.param16)) w.u8(dtype_code(t.param ? DType::f32 : t.dtype));
    if (version >= 2) w.u8(t.averaged ? 1 : 0);
  }
  if (version >= 3) write_storage(w, g.storage);
}

// The GRUP section of one group: options and tensor metadata; the arrays follow in DATA.
GroupStateDict read_group(ByteReader& r, std::uint32_t version) {
  GroupStateDict g;
  const std::size_t options = r.count(12);
  for (std::size_t k = 0; k < options; ++k) {
    std::string key = r.str();
    const double value = r.f64();
    if (g.options.contains(key)) r.fail("option '" + key + "' appears twice");
    g.options.set(key, value);
  }
  const std::size_t tensors = r.count(35);
  g.tensors.resize(tensors);
  for (TensorStateDict& t : g.tensors) {
    t.name = r.str();
    t.dtype = read_dtype(r, version, false);
    const std::size_t ndim = r.count(8);
    for (std::size_t d = 0; d < ndim; ++d) t.shape.push_back(r.i64());
    t.step = r.i64();
    t.initialized = read_bool(r, "initialized");
    const std::size_t scalars = r.count(12);
    for (std::size_t s = 0; s < scalars; ++s) {
      std::string name = r.str();
      t.scalars.emplace_back(std::move(name), r.f64());
    }
    const std::size_t arrays = r.count(5);
    t.arrays.resize(arrays);
    for (StateArray& a : t.arrays) {
      a.name = r.str();
      a.dtype = read_dtype(r, version, true);
      if (a.dtype == DType::q8) a.non_negative = read_bool(r, "non_negative");
    }
    if (read_bool(r, "has_param")) {
      const DType stored = version >= 3 ? read_dtype(r, version, false) : DType::f32;
      // 16-bit parameters are kept as their own dtype; fp32 ones are parameters or master weights.
      if (stored == DType::f32)
        t.param.emplace();
      else if (stored == t.dtype)
        t.param16.emplace();
      else
        r.fail("tensor '" + t.name + "' of dtype " + dtype_name(t.dtype) + " has its param as " +
               dtype_name(stored));
    }
    if (version >= 2 && read_bool(r, "has_averaged")) t.averaged.emplace();
  }
  if (version >= 3) g.storage = read_storage(r);
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
  return g;
}

std::size_t checked_numel(ByteReader& r, const TensorStateDict& t) {
  try {
    return numel_of(t.shape);
  } catch (const std::invalid_argument& e) {
    r.fail("tensor '" + t.name + "': " + e.what());
  }
}

// One state array's elements in its dtype. A q8 array has one scale per 256 codes, each 0 or a
// power of two (what the quantizer makes; anything else would not dequantize exactly).
void read_array(ByteReader& r, const TensorStateDict& t, StateArray& a) {
  switch (a.dtype) {
    case DType::f32:
      a.data = r.floats();
      return;
    case DType::bf16:
    case DType::f16:
      a.bits16 = r.u16s();
      return;
    case DType::q8:
      break;
  }
  const std::string where = "tensor '" + t.name + "' state '" + a.name + "': ";
  a.codes = r.bytes8();
  a.scales = r.floats();
  const std::size_t blocks = (a.codes.size() + detail::kQuantBlock - 1) / detail::kQuantBlock;
  if (a.scales.size() != blocks)
    r.fail(where + std::to_string(a.codes.size()) + " codes need " + std::to_string(blocks) +
           " scales, the file has " + std::to_string(a.scales.size()));
  for (float scale : a.scales) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(scale);
    const bool power_of_two = (bits & 0x807fffffU) == 0 && bits != 0 && bits < 0x7f800000U;
    if (bits != 0 && !power_of_two)
      r.fail(where + "scale " + std::to_string(scale) + " is not 0 or a power of two");
  }
}

void write_array(ByteWriter& w, const StateArray& a) {
  switch (a.dtype) {
    case DType::f32:
      w.floats(a.data);
      return;
    case DType::bf16:
    case DType::f16:
      w.u16s(a.bits16);
      return;
    case DType::q8:
      w.bytes8(a.codes);
      w.floats(a.scales);
      return;
  }
}

void read_data(ByteReader& r, std::uint32_t group, std::uint32_t tensor, TensorStateDict& t) {
  if (r.u32() != group || r.u32() != tensor)
    r.fail("tensor data out of order (expected group " + std::to_string(group) + " tensor " +
           std::to_string(tensor) + ")");
  const std::size_t numel = checked_numel(r, t);
  // A state array's size is checked against the optimizer on load: side arrays (Adafactor's
  // factored statistics) are not the tensor's size.
  for (StateArray& a : t.arrays) read_array(r, t, a);
  if (t.param) t.param = r.floats();
  if (t.param16) t.param16 = r.u16s();
  const std::size_t params = t.param ? t.param->size() : t.param16 ? t.param16->size() : numel;
  if (params != numel)
    r.fail("tensor '" + t.name + "' param has " + std::to_string(params) + " elements, its shape " +
           shape_to_string(t.shape) + " has " + std::to_string(numel));
  if (t.averaged) {
    t.averaged = r.floats();
    if (t.averaged->size() != numel)
      r.fail("tensor '" + t.name + "' averaged param has " + std::to_string(t.averaged->size()) +
             " elements, its shape " + shape_to_string(t.shape) + " has " + std::to_string(numel));
  }
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
}

void write_scheduler(ByteWriter& w, const SchedulerState& s) {
  w.str(s.kind);
  w.u32(static_cast<std::uint32_t>(s.values.size()));
  for (const auto& [key, list] : s.values) {
    w.str(key);
    w.u64(list.size());
    for (double v : list) w.f64(v);
  }
  w.u32(static_cast<std::uint32_t>(s.children.size()));
  for (const SchedulerState& child : s.children) write_scheduler(w, child);
}

SchedulerState read_scheduler(ByteReader& r, std::size_t depth) {
  if (depth > kMaxSchedulerDepth) r.fail("schedulers nested too deeply");
  SchedulerState s;
  s.kind = r.str();
  const std::size_t values = r.count(12);
  for (std::size_t k = 0; k < values; ++k) {
    std::string key = r.str();
    const std::uint64_t n = r.u64();
    if (n > r.remaining() / 8) r.fail("list '" + key + "' is truncated");
    std::vector<double> list(static_cast<std::size_t>(n));
    for (double& v : list) v = r.f64();
    if (!s.values.emplace(std::move(key), std::move(list)).second)
      r.fail("scheduler value appears twice");
  }
  const std::size_t children = r.count(12);
  for (std::size_t c = 0; c < children; ++c) s.children.push_back(read_scheduler(r, depth + 1));
  return s;
}

}  // namespace
}  // namespace v1

namespace detail {

void write_header(ByteWriter& w, FileKind kind, std::uint32_t version) {
  const std::size_t start = w.bytes().size();
  w.raw(kMagic, sizeof kMagic);
  w.u32(version);
  w.u8(kLittleEndian);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u16(0);
  w.u32(crc32c(0, w.bytes().data() + start, w.bytes().size() - start));
}

std::uint32_t read_header(ByteReader& r, FileKind kind) {
  if (r.remaining() < kHeaderSize) r.fail("truncated: too short for a checkpoint header");
  const auto head = r.take(kHeaderSize - 4);
  if (std::memcmp(head.data(), kMagic, sizeof kMagic) != 0)
    r.fail("not a simdoptim checkpoint (bad magic)");
  const std::uint32_t stored = r.u32();
  const std::uint32_t computed = crc32c(0, head.data(), head.size());
  if (stored != computed) r.fail("header CRC mismatch: the file is corrupted");
  ByteReader h(head.subspan(sizeof kMagic), r.what());
  const std::uint32_t version = h.u32();
  if (version > kFormatVersion)
    r.fail("format version " + std::to_string(version) + " is newer than this library reads (" +
           std::to_string(kFormatVersion) + "); upgrade simdoptim");
  if (version == 0) r.fail("invalid format version 0");
  const std::uint8_t order = h.u8();
  if (order != kLittleEndian)
    r.fail("byte order " + std::to_string(order) + " is not supported (1 = little-endian)");
  const auto file_kind = static_cast<FileKind>(h.u8());
  if (file_kind != kind) {
    const char* names[] = {"unknown", "optimizer", "scheduler"};
    const auto k = static_cast<std::size_t>(file_kind);
    r.fail(std::string("this is ") + (k < 3 ? names[k] : "an unknown kind of") +
           " checkpoint, not a" + (kind == FileKind::optimizer ? "n optimizer" : " scheduler") +
           " checkpoint");
  }
  const std::uint16_t reserved = h.u16();
  if (reserved != 0)
    r.fail("header reserved field is " + std::to_string(reserved) + ", not 0 (corrupted)");
  return version;
}

void write_section(ByteWriter& w, std::uint32_t tag, const std::vector<std::byte>& payload) {
  const std::size_t start = w.bytes().size();
  w.u32(tag);
  w.u64(payload.size());
  w.raw(payload.data(), payload.size());
  w.u32(crc32c(0, w.bytes().data() + start, w.bytes().size() - start));
}

std::span<const std::byte> read_section(ByteReader& r, std::uint32_t expected, const char* name) {
  const std::size_t offset = r.position();
  if (r.remaining() < 16)
    r.fail(std::string("truncated: section ") + name + " missing at offset " +
           std::to_string(offset));
  const std::uint32_t tag = r.u32();
  const std::uint64_t length = r.u64();
  if (length > r.remaining() || r.remaining() - length < 4)
    r.fail(std::string("truncated: section ") + name + " at offset " + std::to_string(offset) +
           " claims " + std::to_string(length) + " bytes, " + std::to_string(r.remaining()) +
           " remain (the file is truncated or corrupted)");
  const auto payload = r.take(static_cast<std::size_t>(length));
  const std::uint32_t stored = r.u32();
  std::uint8_t frame[12];
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<std::uint8_t>(tag >> (8 * i));
  for (int i = 0; i < 8; ++i) frame[4 + i] = static_cast<std::uint8_t>(length >> (8 * i));
  const std::uint32_t computed = crc32c(crc32c(0, frame, 12), payload.data(), payload.size());
  if (stored != computed)
    r.fail(std::string("section ") + name + " at offset " + std::to_string(offset) +
           ": CRC-32C mismatch, the file is corrupted");
  if (tag != expected)
    r.fail(std::string("expected section ") + name + " at offset " + std::to_string(offset) +
           ", found '" + tag_name(tag) + "'");
  return payload;
}

void write_end(ByteWriter& w, std::uint32_t sections) {
  ByteWriter p;
  p.u32(sections);
  write_section(w, kEnd, p.bytes());
}

void read_end(ByteReader& r, std::uint32_t sections) {
  ByteReader end(read_section(r, kEnd, "END"), r.what() + ": END");
  if (end.u32() != sections) end.fail("section count does not match");
  if (r.remaining() != 0)
    r.fail(std::to_string(r.remaining()) + " unexpected bytes after the END section");
}

}  // namespace detail

inline namespace v1 {

std::vector<std::byte> encode_checkpoint(const OptimizerStateDict& state) {
  ByteWriter w;
  const std::uint32_t format = version_of(state);
  detail::write_header(w, detail::FileKind::optimizer, format);
  std::uint32_t sections = 0;
  {
    ByteWriter meta;
    meta.str(version());
    meta.str(state.optimizer);
    meta.u32(static_cast<std::uint32_t>(state.param_groups.size()));
    if (format >= 2) {
      meta.u8(state.averaging ? 1 : 0);
      if (state.averaging) {
        meta.i64(state.averaging->step);
        meta.i64(state.averaging->n_averaged);
      }
    }
    detail::write_section(w, detail::kMeta, meta.bytes());
    ++sections;
  }
  for (std::size_t g = 0; g < state.param_groups.size(); ++g) {
    const GroupStateDict& group = state.param_groups[g];
    ByteWriter meta;
    write_group(meta, group, format);
    detail::write_section(w, detail::kGroup, meta.bytes());
    ++sections;
    for (std::size_t i = 0; i < group.tensors.size(); ++i) {
      const TensorStateDict& t = group.tensors[i];
      if (!has_data(t)) continue;
      ByteWriter data;
      data.u32(static_cast<std::uint32_t>(g));
      data.u32(static_cast<std::uint32_t>(i));
      for (const StateArray& a : t.arrays) write_array(data, a);
      if (t.param)
        data.floats(*t.param);
      else if (t.param16)
        data.u16s(*t.param16);
      if (t.averaged) data.floats(*t.averaged);
      detail::write_section(w, detail::kData, data.bytes());
      ++sections;
    }
  }
  detail::write_end(w, sections);
  return std::move(w.bytes());
}

OptimizerStateDict decode_checkpoint(std::span<const std::byte> bytes) {
  ByteReader r(bytes, "checkpoint");
  const std::uint32_t format = detail::read_header(r, detail::FileKind::optimizer);
  OptimizerStateDict state;
  std::uint32_t sections = 1;
  ByteReader meta(read_section(r, detail::kMeta, "META"), "checkpoint META");
  meta.str();  // the writer's library version, informational
  state.optimizer = meta.str();
  // Each group is a section of at least 16 bytes in the rest of the file.
  const std::uint32_t groups = meta.u32();
  if (groups > r.remaining() / 16)
    meta.fail("truncated or corrupted: group count " + std::to_string(groups) +
              " exceeds the data");
  if (format >= 2 && read_bool(meta, "has_averaging")) {
    const std::int64_t step = meta.i64();
    state.averaging = AveragingCounts{step, meta.i64()};
  }
  if (meta.remaining() != 0)
    meta.fail(std::to_string(meta.remaining()) + " unexpected trailing bytes");
  for (std::uint32_t g = 0; g < groups; ++g) {
    const std::string where = "checkpoint group " + std::to_string(g);
    ByteReader gr(read_section(r, detail::kGroup, "GRUP"), where);
    state.param_groups.push_back(read_group(gr, format));
    ++sections;
    auto& tensors = state.param_groups.back().tensors;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (!has_data(tensors[i])) continue;
      ByteReader dr(read_section(r, detail::kData, "DATA"),
                    where + " tensor '" + tensors[i].name + "'");
      read_data(dr, static_cast<std::uint32_t>(g), static_cast<std::uint32_t>(i), tensors[i]);
      ++sections;
    }
  }
  detail::read_end(r, sections);
  return state;
}

std::vector<std::byte> encode_scheduler_checkpoint(const SchedulerState& state) {
  ByteWriter w;
  detail::write_header(w, detail::FileKind::scheduler, 1);
  ByteWriter meta;
  meta.str(version());
  meta.str(state.kind);
  detail::write_section(w, detail::kMeta, meta.bytes());
  ByteWriter body;
  write_scheduler(body, state);
  detail::write_section(w, detail::kSched, body.bytes());
  detail::write_end(w, 2);
  return std::move(w.bytes());
}

SchedulerState decode_scheduler_checkpoint(std::span<const std::byte> bytes) {
  ByteReader r(bytes, "scheduler checkpoint");
  detail::read_header(r, detail::FileKind::scheduler);
  ByteReader meta(read_section(r, detail::kMeta, "META"), "scheduler checkpoint META");
  meta.str();
  const std::string kind = meta.str();
  if (meta.remaining() != 0)
    meta.fail(std::to_string(meta.remaining()) + " unexpected trailing bytes");
  ByteReader body(read_section(r, detail::kSched, "SCHD"), "scheduler checkpoint SCHD");
  SchedulerState state = read_scheduler(body, 0);
  if (body.remaining() != 0) body.fail("unexpected trailing bytes");
  if (state.kind != kind) body.fail("scheduler kind differs from META");
  detail::read_end(r, 2);
  return state;
}

}  // namespace v1
}  // namespace simdoptim
