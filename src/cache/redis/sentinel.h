#pragma once
// Redis Sentinel: asking the sentinels where the master is, reading `+switch-master`
// announcements and ROLE replies. The links use these; the watch on `+switch-master` is a
// Link of kind kSentinelWatch. Threading: I/O thread only (see the contract at the top of
// include/authd/cache/redis_client.h).

#include <hiredis/hiredis.h>

#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "authd/cache/redis_client.h"
#include "cache/redis/client_core.h"
#include "cache/redis/connection.h"
#include "cache/redis/host_lookup.h"

namespace authd::cache::detail {

inline constexpr std::string_view kSwitchMasterChannel = "+switch-master";

inline bool sentinel_mode(const RedisOptions& options) { return !options.sentinels.empty(); }

/// The role in a ROLE reply ("master", "slave", "sentinel"); nullopt when it is not one.
std::optional<std::string_view> role_of(const redisReply* reply);

/// The new master in a `+switch-master` message ("<name> <old ip> <old port> <new ip> <new
/// port>"): nullopt when it is about another master than `master_name`; port 0 when it is
/// about ours but the address cannot be read.
std::optional<RedisEndpoint> parse_switch_master(const std::string& payload,
                                                 const std::string& master_name);

/// Asks the sentinels in turn (from the one that answered last) for the master's address.
class MasterResolver {
 public:
  using Found = std::function<void(const RedisEndpoint& master)>;
  using Failed = std::function<void(const std::string& reason)>;

  explicit MasterResolver(ClientCore& core);
  ~MasterResolver();
  MasterResolver(const MasterResolver&) = delete;
  MasterResolver& operator=(const MasterResolver&) = delete;

  /// Exactly one of `found` or `failed` (no sentinel answered) runs later, on a clean
  /// stack, unless cancel() comes first.
  void start(Found found, Failed failed);
  /// Abandons the resolution in progress; its callbacks will not run.
  void cancel();

 private:
  void ask(std::size_t tried);
  void next_sentinel(std::uint64_t seq, std::size_t tried, const std::string& why);
  void on_answer(std::uint64_t seq, std::size_t tried, std::size_t index, redisReply* r);

  ClientCore& core_;
  HostLookup lookup_;
  boost::asio::steady_timer deadline_;
  std::unique_ptr<Connection> query_;
  std::uint64_t round_ = 0;  // bumped by start() and cancel(): posts of older rounds are dropped
  std::uint64_t seq_ = 0;    // bumped per query and when one ends: its late callbacks are dropped
  std::size_t next_ = 0;     // the sentinel to ask first
  Found found_;
  Failed failed_;
};

}  // namespace authd::cache::detail
