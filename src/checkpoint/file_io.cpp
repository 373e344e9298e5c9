// Checkpoint files: atomic writing (temporary file in the same folder, fsync, rename, fsync of
// the folder) and reading, for optimizers and schedulers.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/checkpoint.hpp"
#include "simdoptim/lr_scheduler/reduce_lr_on_plateau.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw std::runtime_error("checkpoint: cannot " + what + " '" + path +
                           "': " + std::strerror(errno));
}

// Closes a descriptor on scope exit unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Whether `name` is one of `base`'s temporaries: base.tmp. and mkstemp's six characters.
bool is_temporary_of(std::string_view name, std::string_view base) {
  constexpr std::string_view kSuffix = ".tmp.";
  if (name.size() != base.size() + kSuffix.size() + 6 || !name.starts_with(base) ||
      name.substr(base.size(), kSuffix.size()) != kSuffix)
    return false;
  return std::all_of(name.end() - 6, name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// Removes the temporaries a save to `path` killed mid-write left behind. A writer holds a lock
// on its temporary until it is renamed, so one that can be locked has no live writer.
void remove_stale_temporaries(const std::string& path) {
  const std::string folder = folder_of(path);
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(folder.c_str()), ::closedir);
  if (!dir) return;  // the save itself reports an unusable folder
  while (const dirent* entry = ::readdir(dir.get())) {
    if (!is_temporary_of(entry->d_name, base)) continue;
    Fd stale{::openat(::dirfd(dir.get()), entry->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (stale.fd >= 0 && ::flock(stale.fd, LOCK_EX | LOCK_NB) == 0)
      ::unlinkat(::dirfd(dir.get()), entry->d_name, 0);
  }
}

void write_atomically(const std::string& path, const std::vector<std::byte>& bytes) {
  remove_stale_temporaries(path);
  std::string tmp = path + ".tmp.XXXXXX";
  Fd file{::mkstemp(tmp.data())};
  if (file.fd < 0) io_error("create a temporary file for", path);
  if (::flock(file.fd, LOCK_EX) != 0) io_error("lock", tmp);
  bool renamed = false;
  try {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(file.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) io_error("write", tmp);
      done += static_cast<std::size_t>(n);
    }
    // mkstemp creates the file 0600; a checkpoint is an ordinary file (umask applies).
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(file.fd, 0666 & ~mask) != 0) io_error("set the mode of", tmp);
    if (::fsync(file.fd) != 0) io_error("fsync", tmp);
    // Renamed while still open and locked, so no other save takes it for a stale one.
    if (::rename(tmp.c_str(), path.c_str()) != 0) io_error("rename the temporary file to", path);
    renamed = true;
    const int fd = file.fd;
    file.fd = -1;
    if (::close(fd) != 0) io_error("close", path);
    const std::string folder = folder_of(path);
    Fd dir{::open(folder.c_str(), O_RDONLY | O_DIRECTORY)};
    if (dir.fd < 0) io_error("open the folder", folder);
    if (::fsync(dir.fd) != 0) io_error("fsync the folder", folder);
  } catch (...) {
    if (!renamed) ::unlink(tmp.c_str());
    throw;
  }
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("checkpoint: cannot open '" + path + "'");
  std::vector<std::byte> bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw CheckpointError("checkpoint: cannot read '" + path + "'");
  in.seekg(0);
  bytes.resize(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!in) throw CheckpointError("checkpoint: cannot read '" + path + "'");
  return bytes;
}

// Prefixes a CheckpointError's message with the file name.
template <class F>
auto with_path(const std::string& path, F f) {
  try {
    return f();
  } catch (const CheckpointError& e) {
    throw CheckpointError("'" + path + "': " + e.what());
  }
}

}  // namespace

void save(Optimizer& optimizer, const std::string& path, const StateDictOptions& options) {
  StateDictOptions stored = options;
  stored.as_stored = true;
  write_atomically(path, encode_checkpoint(state_dict(optimizer, stored)));
}

void save(const OptimizerStateDict& state, const std::string& path) {
  write_atomically(path, encode_checkpoint(state));
}

OptimizerStateDict read_checkpoint(const std::string& path) {
  const auto bytes = read_file(path);
  return with_path(path, [&] { return decode_checkpoint(bytes); });
}

LoadReport load(Optimizer& optimizer, const std::string& path, const LoadOptions& options) {
  const OptimizerStateDict state = read_checkpoint(path);
  return with_path(path, [&] { return load_state_dict(optimizer, state, options); });
}

namespace {

template <class S>
void save_scheduler(const S& scheduler, const std::string& path) {
  write_atomically(path, encode_scheduler_checkpoint(scheduler.state_dict()));
}

// A scheduler state must have the keys, list lengths and children of the scheduler's own:
// nothing is left unread, and per-group lists match the groups. A list the scheduler has not
// filled yet (ReduceLROnPlateau's _last_lr before its first step) may be empty or per group.
void check_scheduler_schema(const SchedulerState& got, const SchedulerState& own,
                            std::size_t groups, const std::string& where) {
  if (got.kind != own.kind)
    throw CheckpointError(where + "is a '" + got.kind + "' state, expected '" + own.kind + "'");
  for (const auto& [key, list] : got.values) {
    const auto it = own.values.find(key);
    if (it == own.values.end()) throw CheckpointError(where + "unknown key '" + key + "'");
    const std::size_t want = it->second.size();
    const bool unfilled = want == 0 && (list.empty() || list.size() == groups);
    if (list.size() != want && !unfilled)
      throw CheckpointError(where + "'" + key + "' has " + std::to_string(list.size()) +
                            " values, expected " + std::to_string(want));
  }
  for (const auto& [key, list] : own.values)
    if (!got.values.contains(key)) throw CheckpointError(where + "key '" + key + "' is missing");
  if (got.children.size() != own.children.size())
    throw CheckpointError(where + std::to_string(got.children.size()) +
                          " child schedulers, expected " + std::to_string(own.children.size()));
  for (std::size_t c = 0; c < got.children.size(); ++c)
    check_scheduler_schema(got.children[c], own.children[c], groups,
                           where + "child " + std::to_string(c) + ": ");
}

template <class S>
void load_scheduler(S& scheduler, const std::string& path) {
  const auto bytes = read_file(path);
  const SchedulerState state = with_path(path, [&] { return decode_scheduler_checkpoint(bytes); });
  if (state.kind != scheduler.name())
    throw CheckpointError("'" + path + "': the checkpoint is for scheduler '" + state.kind +
                          "', this scheduler is '" + std::string(scheduler.name()) + "'");
  // A scheduler may fail halfway through its own load_state_dict; put its old state back.
  const SchedulerState before = scheduler.state_dict();
  check_scheduler_schema(state, before, scheduler.optimizer().param_groups().size(),
                         "'" + path + "': scheduler state: ");
  try {
    scheduler.load_state_dict(state);
  } catch (const std::exception& e) {
    scheduler.load_state_dict(before);
    throw CheckpointError("'" + path + "': cannot load scheduler state: " + e.what());
  }
}

}  // namespace

void save(const Scheduler& scheduler, const std::string& path) {
  save_scheduler(scheduler, path);
}
void load(Scheduler& scheduler, const std::string& path) {
  load_scheduler(scheduler, path);
}
void save(const ReduceLROnPlateau& scheduler, const std::string& path) {
  save_scheduler(scheduler, path);
}
void load(ReduceLROnPlateau& scheduler, const std::string& path) {
  load_scheduler(scheduler, path);
}

}  // namespace v1
}  // namespace simdoptim
