// cross_thread_round_trip_ns: a positive, finite time below a millisecond (a round trip between
// two threads is tens to hundreds of nanoseconds on the machines seen; yielding keeps it bounded
// when the test shares its CPUs), and the same function twice in a row works.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/round_trip.h"

using namespace cnn;

TEST_CASE("cross_thread_round_trip_ns: a plausible time, twice", "[core][round_trip]") {
  for (int rep = 0; rep < 2; ++rep) {
    const double ns = cross_thread_round_trip_ns();
    INFO("round trip " << ns << " ns");
    CHECK(std::isfinite(ns));
    CHECK(ns > 0.0);
    CHECK(ns < 1e6);
  }
}
