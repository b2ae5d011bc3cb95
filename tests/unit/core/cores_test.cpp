#include "authd/core/cores.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace authd::core {
namespace {

// A replica started under `taskset -c 0` (or in a one-CPU cpuset) must size its threads to
// one CPU, not to every CPU of the host.
TEST(CoresTest, CountsTheAffinityMaskNotTheMachine) {
  unsigned seen = 0;
  std::thread pinned([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    seen = usable_cores();
  });
  pinned.join();
  EXPECT_EQ(seen, 1u);
  EXPECT_GE(usable_cores(), 1u);
  EXPECT_LE(usable_cores(), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace authd::core
