#include "crypto/argon2/argon2.h"

#include <sodium.h>

#include <bit>
#include <cstring>
#include <limits>

#include "crypto/argon2/arena.h"
#include "crypto/argon2/kernel.h"

namespace authd::crypto::argon2 {
namespace {

using detail::Block;
using detail::kBlockBytes;
using detail::kBlockWords;

static_assert(std::endian::native == std::endian::little,
              "Argon2 blocks are read as little-endian words in place");

constexpr std::uint32_t kVersion = 0x13;
constexpr std::uint32_t kSyncPoints = 4;  // slices per pass
constexpr std::size_t kAddressesPerBlock = kBlockWords;
constexpr std::size_t kPrehashBytes = 64;

void store32(unsigned char* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

void update32(crypto_generichash_blake2b_state& st, std::uint32_t v) {
  unsigned char b[4];
  store32(b, v);
  crypto_generichash_blake2b_update(&st, b, sizeof b);
}

void update_bytes(crypto_generichash_blake2b_state& st, std::span<const unsigned char> bytes) {
  update32(st, static_cast<std::uint32_t>(bytes.size()));
  if (!bytes.empty()) crypto_generichash_blake2b_update(&st, bytes.data(), bytes.size());
}

// H0 (RFC 9106 §3.2 step 1).
void prehash(const Params& p, const Inputs& in, std::size_t tag_len, unsigned char* h0) {
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, kPrehashBytes);
  update32(st, p.lanes);
  update32(st, static_cast<std::uint32_t>(tag_len));
  update32(st, p.m_cost_kib);
  update32(st, p.t_cost);
  update32(st, kVersion);
  update32(st, static_cast<std::uint32_t>(p.type));
  update_bytes(st, in.password);
  update_bytes(st, in.salt);
  update_bytes(st, in.secret);
  update_bytes(st, in.associated);
  crypto_generichash_blake2b_final(&st, h0, kPrehashBytes);
  sodium_memzero(&st, sizeof st);
}

// H' (RFC 9106 §3.3): a BLAKE2b-based hash of any output length >= kMinTag.
void hash_long(unsigned char* out, std::size_t out_len, const unsigned char* in,
               std::size_t in_len) {
  crypto_generichash_blake2b_state st;
  unsigned char len[4];
  store32(len, static_cast<std::uint32_t>(out_len));
  if (out_len <= 64) {
    crypto_generichash_blake2b_init(&st, nullptr, 0, out_len);
    crypto_generichash_blake2b_update(&st, len, sizeof len);
    crypto_generichash_blake2b_update(&st, in, in_len);
    crypto_generichash_blake2b_final(&st, out, out_len);
    sodium_memzero(&st, sizeof st);
    return;
  }
  unsigned char v[64];
  crypto_generichash_blake2b_init(&st, nullptr, 0, 64);
  crypto_generichash_blake2b_update(&st, len, sizeof len);
  crypto_generichash_blake2b_update(&st, in, in_len);
  crypto_generichash_blake2b_final(&st, v, 64);
  std::memcpy(out, v, 32);
  out += 32;
  std::size_t left = out_len - 32;
  while (left > 64) {
    crypto_generichash_blake2b(v, 64, v, 64, nullptr, 0);
    std::memcpy(out, v, 32);
    out += 32;
    left -= 32;
  }
  crypto_generichash_blake2b(out, left, v, 64, nullptr, 0);
  sodium_memzero(v, sizeof v);
  sodium_memzero(&st, sizeof st);
}

detail::FillFn fill_for(Kernel k) {
  switch (k) {
    case Kernel::kAvx512:
      return detail::fill_avx512;
    case Kernel::kAvx2:
      return detail::fill_avx2;
    case Kernel::kPortable:
    case Kernel::kAuto:
      break;
  }
  return detail::fill_portable;
}

// The blocks of one computation, and the scratch blocks every kernel call and address
// generation works in (inside the arena, so they are wiped with it).
struct Instance {
  Block* memory;
  std::uint32_t lanes;
  std::uint32_t lane_length;
  std::uint32_t segment_length;
  std::uint32_t passes;
  std::uint32_t memory_blocks;
  Type type;
  detail::FillFn fill;
  Block* scratch;  // 2 blocks for the kernel
  Block* zero;     // all zero, never written
  Block* input;    // the address generator's input block
  Block* half;     // G(zero, input)
  Block* address;  // G(zero, G(zero, input)): 128 pseudo-random words
};

// The next 128 data-independent reference positions (RFC 9106 §3.4.1.2).
void next_addresses(const Instance& in) {
  ++in.input->v[6];
  in.fill(in.zero, in.input, in.half, false, in.scratch);
  in.fill(in.zero, in.half, in.address, false, in.scratch);
}

// Which earlier block of lane `ref_lane` the block at `index` of this segment references
// (RFC 9106 §3.4.2), from the low 32 bits of its pseudo-random word.
std::uint32_t reference_index(const Instance& in, std::uint32_t pass, std::uint32_t slice,
                              std::uint32_t index, std::uint32_t j1, bool same_lane) {
  std::uint64_t area;
  if (pass == 0) {
    if (slice == 0) {
      area = index - 1;
    } else if (same_lane) {
      area = std::uint64_t{slice} * in.segment_length + index - 1;
    } else {
      area = std::uint64_t{slice} * in.segment_length - (index == 0 ? 1 : 0);
    }
  } else {
    const std::uint64_t others = in.lane_length - in.segment_length;
    area = same_lane ? others + index - 1 : others - (index == 0 ? 1 : 0);
  }
  std::uint64_t x = j1;
  x = (x * x) >> 32;
  const std::uint64_t relative = area - 1 - ((area * x) >> 32);
  const std::uint64_t start =
      (pass == 0 || slice == kSyncPoints - 1) ? 0 : std::uint64_t{slice + 1} * in.segment_length;
  return static_cast<std::uint32_t>((start + relative) % in.lane_length);
}

void fill_segment(const Instance& in, std::uint32_t pass, std::uint32_t lane, std::uint32_t slice) {
  const bool independent = in.type == Type::kArgon2i ||
                           (in.type == Type::kArgon2id && pass == 0 && slice < kSyncPoints / 2);
  if (independent) {
    std::memset(in.input, 0, sizeof(Block));
    in.input->v[0] = pass;
    in.input->v[1] = lane;
    in.input->v[2] = slice;
    in.input->v[3] = in.memory_blocks;
    in.input->v[4] = in.passes;
    in.input->v[5] = static_cast<std::uint64_t>(in.type);
  }
  std::uint32_t first = 0;
  if (pass == 0 && slice == 0) {
    first = 2;  // blocks 0 and 1 come from H0
    if (independent) next_addresses(in);
  }
  Block* const lane_start = in.memory + std::size_t{lane} * in.lane_length;
  std::uint32_t column = slice * in.segment_length + first;
  for (std::uint32_t i = first; i < in.segment_length; ++i, ++column) {
    const Block* prev = lane_start + (column == 0 ? in.lane_length - 1 : column - 1);
    std::uint64_t rand;
    if (independent) {
      if (i % kAddressesPerBlock == 0) next_addresses(in);
      rand = in.address->v[i % kAddressesPerBlock];
    } else {
      rand = prev->v[0];
    }
    std::uint32_t ref_lane = static_cast<std::uint32_t>((rand >> 32) % in.lanes);
    if (pass == 0 && slice == 0) ref_lane = lane;
    const std::uint32_t ref_index = reference_index(
        in, pass, slice, i, static_cast<std::uint32_t>(rand & 0xFFFFFFFFu), ref_lane == lane);
    const Block* ref = in.memory + std::size_t{ref_lane} * in.lane_length + ref_index;
    in.fill(prev, ref, lane_start + column, pass != 0, in.scratch);
  }
}

void block_from_bytes(Block& b, const unsigned char* bytes) {
  std::memcpy(b.v, bytes, kBlockBytes);
}

}  // namespace

bool kernel_supported(Kernel kernel) noexcept {
  switch (kernel) {
    case Kernel::kAuto:
    case Kernel::kPortable:
      return true;
    case Kernel::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Kernel::kAvx512:
      return __builtin_cpu_supports("avx512f");
  }
  return false;
}

Kernel best_kernel() noexcept {
  static const Kernel best = [] {
    if (kernel_supported(Kernel::kAvx512)) return Kernel::kAvx512;
    if (kernel_supported(Kernel::kAvx2)) return Kernel::kAvx2;
    return Kernel::kPortable;
  }();
  return best;
}

std::string_view kernel_name(Kernel kernel) noexcept {
  switch (kernel) {
    case Kernel::kAuto:
      return kernel_name(best_kernel());
    case Kernel::kPortable:
      return "portable";
    case Kernel::kAvx2:
      return "avx2";
    case Kernel::kAvx512:
      return "avx512";
  }
  return "?";
}

bool valid(const Params& p, const Inputs& in, std::size_t tag_len) noexcept {
  constexpr std::size_t kMax32 = std::numeric_limits<std::uint32_t>::max();
  if (p.type != Type::kArgon2d && p.type != Type::kArgon2i && p.type != Type::kArgon2id) {
    return false;
  }
  if (p.t_cost < 1 || p.lanes < 1 || p.lanes > kMaxLanes) return false;
  if (p.m_cost_kib < 2 * kSyncPoints * p.lanes) return false;
  if (tag_len < kMinTag || tag_len > kMax32) return false;
  if (in.salt.size() < kMinSalt || in.salt.size() > kMax32) return false;
  return in.password.size() <= kMax32 && in.secret.size() <= kMax32 &&
         in.associated.size() <= kMax32;
}

bool hash(const Params& p, const Inputs& in, std::span<unsigned char> tag, Kernel kernel) noexcept {
  if (!valid(p, in, tag.size())) return false;
  if (kernel == Kernel::kAuto) kernel = best_kernel();
  if (!kernel_supported(kernel)) return false;

  Instance inst{};
  inst.lanes = p.lanes;
  inst.segment_length = p.m_cost_kib / (p.lanes * kSyncPoints);
  inst.lane_length = inst.segment_length * kSyncPoints;
  inst.memory_blocks = inst.lane_length * p.lanes;
  inst.passes = p.t_cost;
  inst.type = p.type;
  inst.fill = fill_for(kernel);

  constexpr std::size_t kScratchBlocks = 6;
  detail::Arena arena =
      detail::Arena::acquire((std::size_t{inst.memory_blocks} + kScratchBlocks) * kBlockBytes);
  if (arena.data() == nullptr) return false;
  inst.memory = static_cast<Block*>(arena.data());
  Block* extra = inst.memory + inst.memory_blocks;
  inst.scratch = extra;
  inst.zero = extra + 2;
  inst.input = extra + 3;
  inst.half = extra + 4;
  inst.address = extra + 5;

  // The first two blocks of every lane: H'(H0 || LE32(0 or 1) || LE32(lane)).
  unsigned char seed[kPrehashBytes + 8];
  prehash(p, in, tag.size(), seed);
  unsigned char block_bytes[kBlockBytes];
  for (std::uint32_t lane = 0; lane < p.lanes; ++lane) {
    for (std::uint32_t j = 0; j < 2; ++j) {
      store32(seed + kPrehashBytes, j);
      store32(seed + kPrehashBytes + 4, lane);
      hash_long(block_bytes, kBlockBytes, seed, sizeof seed);
      block_from_bytes(inst.memory[std::size_t{lane} * inst.lane_length + j], block_bytes);
    }
  }
  sodium_memzero(seed, sizeof seed);

  for (std::uint32_t pass = 0; pass < p.t_cost; ++pass) {
    for (std::uint32_t slice = 0; slice < kSyncPoints; ++slice) {
      for (std::uint32_t lane = 0; lane < p.lanes; ++lane) fill_segment(inst, pass, lane, slice);
    }
  }

  // The tag: H' of the xor of every lane's last block.
  Block& last = inst.scratch[0];
  std::memcpy(&last, inst.memory + inst.lane_length - 1, sizeof(Block));
  for (std::uint32_t lane = 1; lane < p.lanes; ++lane) {
    const Block& b = inst.memory[std::size_t{lane} * inst.lane_length + inst.lane_length - 1];
    for (std::size_t w = 0; w < kBlockWords; ++w) last.v[w] ^= b.v[w];
  }
  std::memcpy(block_bytes, last.v, kBlockBytes);
  hash_long(tag.data(), tag.size(), block_bytes, kBlockBytes);
  sodium_memzero(block_bytes, sizeof block_bytes);
  return true;  // the arena wipes itself on the way back to the pool
}

std::size_t arena_bytes() noexcept { return detail::arena_bytes_mapped(); }

}  // namespace authd::crypto::argon2
