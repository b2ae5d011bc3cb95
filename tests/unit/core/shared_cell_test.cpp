// SharedCell: readers racing a writer always see a whole value, old or new. Run under
// ThreadSanitizer (label `threads`), this is the test that std::atomic<std::shared_ptr>
// failed in libstdc++ 12 (JwksCache's key set, reported as a data race in CI).

#include "authd/core/shared_cell.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace authd::core {
namespace {

struct Pair {
  int a;
  int b;  // always equal to a: a torn or freed value would show a mismatch
};

TEST(SharedCellTest, StartsEmptyAndHoldsWhatWasStored) {
  SharedCell<Pair> cell;
  EXPECT_EQ(cell.load(), nullptr);
  cell.store(std::make_shared<Pair>(Pair{7, 7}));
  ASSERT_NE(cell.load(), nullptr);
  EXPECT_EQ(cell.load()->a, 7);
}

TEST(SharedCellTest, ReplacedValueLivesOnWhileAReaderHoldsIt) {
  SharedCell<Pair> cell;
  cell.store(std::make_shared<Pair>(Pair{1, 1}));
  auto held = cell.load();
  cell.store(std::make_shared<Pair>(Pair{2, 2}));
  EXPECT_EQ(held->a, 1);
  EXPECT_EQ(cell.load()->a, 2);
  EXPECT_EQ(held.use_count(), 1);
}

TEST(SharedCellTest, ReadersRacingAWriterSeeWholeValuesInOrder) {
  SharedCell<Pair> cell;
  cell.store(std::make_shared<Pair>(Pair{0, 0}));
  constexpr int kWrites = 5000;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      // Readers keep what they loaded while the writer replaces it, as a verifier keeps a
      // key set through one verification: then only the cell orders their reads.
      std::vector<std::shared_ptr<const Pair>> held;
      int last = 0;
      while (!done.load(std::memory_order_acquire)) {
        held.push_back(cell.load());
        const auto& v = held.back();
        if (v->a != v->b || v->a < last) bad.fetch_add(1);
        last = v->a;
        if (held.size() > 64) held.erase(held.begin());
      }
    });
  for (int i = 1; i <= kWrites; ++i) cell.store(std::make_shared<Pair>(Pair{i, i}));
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(cell.load()->a, kWrites);
}

}  // namespace
}  // namespace authd::core
