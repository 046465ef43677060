#include "harness.h"

#include <cstring>
#include <map>

#include "fcos4j/emu/control.h"

namespace emutest {
namespace {
std::map<std::string, CaseFn>& cases() {
  static std::map<std::string, CaseFn> m;
  return m;
}
int g_failures = 0;
}  // namespace

int add_case(const char* name, CaseFn fn) {
  cases()[name] = fn;
  return 0;
}

void fail(const char* file, int line, const std::string& what) {
  ++g_failures;
  std::fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what.c_str());
}

int failures() { return g_failures; }
}  // namespace emutest

int main(int argc, char** argv) {
  auto& all = emutest::cases();
  if (argc < 2 || std::strcmp(argv[1], "--list") == 0) {
    for (auto& c : all) std::printf("%s\n", c.first.c_str());
    return argc < 2 ? 2 : 0;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    auto it = all.find(name);
    if (it == all.end() && name != "all") {
      std::fprintf(stderr, "unknown case %s\n", argv[i]);
      return 2;
    }
    const int before = emutest::failures();
    if (name == "all") {
      for (auto& c : all) {
        const int b = emutest::failures();
        fcos4j_emu_clear_error();
        c.second();
        std::printf("%s %s\n", emutest::failures() == b ? "ok  " : "FAIL", c.first.c_str());
      }
    } else {
      fcos4j_emu_clear_error();
      it->second();
      std::printf("%s %s\n", emutest::failures() == before ? "ok  " : "FAIL", argv[i]);
    }
    if (emutest::failures() != before) status = 1;
  }
  return status;
}
