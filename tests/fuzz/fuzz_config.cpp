// libFuzzer target: the YAML config reader. Any text must parse or throw std::invalid_argument
// (the documented error); a parsed config must dump to YAML that parses back to an equal dump.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "simdoptim/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const simdoptim::Config config = simdoptim::parse_config(text, "<fuzz>");
    const std::string dumped = simdoptim::dump_config(config);
    if (simdoptim::dump_config(simdoptim::parse_config(dumped, "<dump>")) != dumped)
      __builtin_trap();  // dump and parse disagree
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
