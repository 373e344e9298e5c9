// Checkpoint files: atomic writing (temporary file in the same folder, fsync, rename, fsync of
// the folder) and reading, for optimizers and schedulers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
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

void write_atomically(const std::string& path, const std::vector<std::byte>& bytes) {
  std::string tmp = path + ".tmp.XXXXXX";
  Fd file{::mkstemp(tmp.data())};
  if (file.fd < 0) io_error("create a temporary file for", path);
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
    const int fd = file.fd;
    file.fd = -1;
    if (::close(fd) != 0) io_error("close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) io_error("rename the temporary file to", path);
    renamed = true;
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
  write_atomically(path, encode_checkpoint(state_dict(optimizer, options)));
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

template <class S>
void load_scheduler(S& scheduler, const std::string& path) {
  const auto bytes = read_file(path);
  const SchedulerState state = with_path(path, [&] { return decode_scheduler_checkpoint(bytes); });
  if (state.kind != scheduler.name())
    throw CheckpointError("'" + path + "': the checkpoint is for scheduler '" + state.kind +
                          "', this scheduler is '" + std::string(scheduler.name()) + "'");
  // A scheduler may fail halfway through its own load_state_dict; put its old state back.
  const SchedulerState before = scheduler.state_dict();
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
