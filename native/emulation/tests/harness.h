// Minimal test harness for the emulation tests: cases register themselves; `fcos4j_emu_tests NAME` runs one.
#pragma once
#include <cstdio>
#include <string>

namespace emutest {
using CaseFn = void (*)();
int add_case(const char* name, CaseFn fn);
void fail(const char* file, int line, const std::string& what);
int failures();
}  // namespace emutest

#define EMU_CASE(name)                                                   \
  static void name();                                                    \
  static const int name##_registered = ::emutest::add_case(#name, &name); \
  static void name()

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) ::emutest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                            \
  do {                                                                                            \
    const auto va_ = (a);                                                                         \
    const auto vb_ = (b);                                                                         \
    if (!(va_ == vb_))                                                                            \
      ::emutest::fail(__FILE__, __LINE__,                                                         \
                      "CHECK_EQ(" #a ", " #b "): " + std::to_string(va_) + " != " + std::to_string(vb_)); \
  } while (0)

// Checks that `text` contains `needle`.
#define CHECK_HAS(text, needle)                                                                      \
  do {                                                                                               \
    const std::string t_ = (text);                                                                   \
    if (t_.find(needle) == std::string::npos)                                                        \
      ::emutest::fail(__FILE__, __LINE__, std::string("expected \"") + (needle) + "\" in: " + t_);     \
  } while (0)
