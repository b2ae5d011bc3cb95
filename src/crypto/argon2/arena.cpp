#include "crypto/argon2/arena.h"

#include <sodium.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace authd::crypto::argon2::detail {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Arenas larger than this are unmapped when released rather than kept: an odd, very costly
// stored hash must not pin that much memory for the process lifetime.
constexpr std::size_t kMaxKeptArena = std::size_t{256} << 20;

std::atomic<std::size_t> g_mapped{0};

struct Idle {
  void* base;
  std::size_t capacity;
};

struct Pool {
  std::mutex mutex;
  std::vector<Idle> idle;  // most recently released last: its pages are the warmest
  // Idle arenas kept: as many as hashes may run at once on a machine's cores.
  std::size_t keep = std::max<std::size_t>(2, std::thread::hardware_concurrency());
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: arenas may be released during exit
  return *p;
}

// Maps `bytes` (a multiple of kHugePage) aligned to a huge page, asks for huge pages and
// faults every page in, so later use never faults.
void* map(std::size_t bytes) {
  const std::size_t padded = bytes + kHugePage;
  void* raw = mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  const std::size_t head = aligned - start;
  if (head != 0) munmap(raw, head);
  if (const std::size_t tail = padded - head - bytes; tail != 0) {
    munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  }
  void* base = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  // Random 1 KiB references over tens of MiB: huge pages spare most TLB misses. Advisory: a
  // kernel with transparent huge pages off simply keeps 4 KiB pages.
  (void)madvise(base, bytes, MADV_HUGEPAGE);
#endif
  std::memset(base, 0, bytes);
  g_mapped += bytes;
  return base;
}

void unmap(void* base, std::size_t bytes) {
  munmap(base, bytes);
  g_mapped -= bytes;
}

}  // namespace

Arena::Arena(Arena&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)) {}

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    Arena dying(std::move(*this));
    base_ = std::exchange(other.base_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
  }
  return *this;
}

Arena::~Arena() {
  if (base_ == nullptr) return;
  // Wiped before anyone else can hold it: Argon2's memory is derived from the password.
  sodium_memzero(base_, used_);
  if (capacity_ <= kMaxKeptArena) {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    if (p.idle.size() < p.keep) {
      p.idle.push_back({base_, capacity_});
      return;
    }
  }
  unmap(base_, capacity_);
}

Arena Arena::acquire(std::size_t bytes) noexcept {
  if (bytes == 0 || bytes > SIZE_MAX - 2 * kHugePage) return {};
  const std::size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  Pool& p = pool();
  Idle spare{nullptr, 0};
  {
    std::lock_guard lock(p.mutex);
    // The most recently released arena that is large enough; else the oldest idle one is
    // replaced by a larger one (the pool keeps its count, not its sizes).
    for (auto it = p.idle.rbegin(); it != p.idle.rend(); ++it) {
      if (it->capacity >= bytes) {
        const Idle found = *it;
        p.idle.erase(std::next(it).base());
        return Arena(found.base, found.capacity, bytes);
      }
    }
    if (!p.idle.empty()) {
      spare = p.idle.front();
      p.idle.erase(p.idle.begin());
    }
  }
  if (spare.base != nullptr) unmap(spare.base, spare.capacity);
  void* base = map(rounded);
  if (base == nullptr) return {};
  return Arena(base, rounded, bytes);
}

std::size_t arena_bytes_mapped() noexcept { return g_mapped.load(); }

}  // namespace authd::crypto::argon2::detail
