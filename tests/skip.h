#pragma once
// Skipping a test that needs something absent (real data, python3, ...): prints "skipped: <why>"
// and exits with code 4, which ctest maps to "Skipped" (SKIP_RETURN_CODE 4 in tests/CMakeLists.txt).
// This ends the whole process: ctest runs each test case in its own process, so only this test
// case is affected there; running the test binary by hand stops at the first skip.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

inline void skip_test(const std::string& why) {
  std::cout << "skipped: " << why << std::endl;
  std::fflush(stdout);
  std::exit(4);
}
