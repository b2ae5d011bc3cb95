#include "cache/redis/sentinel.h"

#include <charconv>
#include <cstdlib>

#include "cache/redis/reply.h"

namespace authd::cache::detail {

std::optional<std::string_view> role_of(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
    return std::nullopt;
  }
  return reply_str(reply->element[0]);
}

std::optional<RedisEndpoint> parse_switch_master(const std::string& payload,
                                                 const std::string& master_name) {
  if (payload.size() <= master_name.size() ||
      payload.compare(0, master_name.size(), master_name) != 0 ||
      payload[master_name.size()] != ' ') {
    return std::nullopt;
  }
  // The new master is the last two fields.
  const auto last = payload.rfind(' ');
  const auto before = last == std::string::npos ? last : payload.rfind(' ', last - 1);
  RedisEndpoint master;
  master.port = 0;
  if (before != std::string::npos) {
    const std::string_view p = std::string_view(payload).substr(last + 1);
    std::from_chars(p.data(), p.data() + p.size(), master.port);
    master.host = payload.substr(before + 1, last - before - 1);
  }
  return master;
}

MasterResolver::MasterResolver(ClientCore& core)
    : core_(core), lookup_(core.io()), deadline_(core.io()) {}

MasterResolver::~MasterResolver() = default;

void MasterResolver::start(Found found, Failed failed) {
  ++round_;
  found_ = std::move(found);
  failed_ = std::move(failed);
  ask(0);
}

void MasterResolver::cancel() {
  ++round_;
  ++seq_;
  deadline_.cancel();
  lookup_.cancel();
  if (query_) query_->close();
}

void MasterResolver::ask(std::size_t tried) {
  const auto& o = core_.options();
  if (tried >= o.sentinels.size()) {
    core_.post([this, round = round_,
                why = "no sentinel gave an address for master '" + o.master_name + "'"] {
      if (round != round_) return;
      auto failed = failed_;
      failed(why);
    });
    return;
  }
  const std::size_t index = (next_ + tried) % o.sentinels.size();
  const RedisEndpoint sentinel = o.sentinels[index];
  const auto seq = ++seq_;

  query_ = std::make_unique<Connection>(core_.io());
  Connection::Handlers h;
  h.on_connected = [this, seq, tried, index](bool ok, const std::string& err) {
    if (seq != seq_) return;
    if (!ok) {
      next_sentinel(seq, tried, err);
      return;
    }
    const auto& opts = core_.options();
    if (!opts.sentinel_password.empty()) {
      query_->send({"AUTH", opts.sentinel_password}, [this, seq, tried](redisReply* r) {
        if (seq == seq_ && (r == nullptr || r->type == REDIS_REPLY_ERROR)) {
          next_sentinel(seq, tried, "AUTH to the sentinel failed");
        }
      });
    }
    query_->send({"SENTINEL", "get-master-addr-by-name", opts.master_name},
                 [this, seq, tried, index](redisReply* r) { on_answer(seq, tried, index, r); });
  };
  h.on_lost = [this, seq, tried](const std::string& why) { next_sentinel(seq, tried, why); };
  deadline_.expires_after(o.connect_timeout);
  deadline_.async_wait([this, seq, tried](const boost::system::error_code& ec) {
    if (!ec) next_sentinel(seq, tried, "no answer in time");
  });
  lookup_.lookup(sentinel, [this, seq, tried, h = std::move(h), port = sentinel.port](
                               const std::string& ip, const std::string& error) mutable {
    if (seq != seq_) return;
    std::string err = error;
    if (ip.empty() ||
        !query_->open(ip, port, core_.options().connect_timeout, std::move(h), &err)) {
      next_sentinel(seq, tried, err);
    }
  });
}

void MasterResolver::on_answer(std::uint64_t seq, std::size_t tried, std::size_t index,
                               redisReply* r) {
  if (seq != seq_) return;
  if (r == nullptr) return next_sentinel(seq, tried, "connection lost");
  if (r->type == REDIS_REPLY_ERROR) {
    return next_sentinel(seq, tried, std::string(reply_str(r).substr(0, 200)));
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
    return next_sentinel(seq, tried, "master '" + core_.options().master_name + "' unknown");
  }
  RedisEndpoint master;
  master.host = std::string(reply_str(r->element[0]));
  master.port = std::atoi(std::string(reply_str(r->element[1])).c_str());
  if (master.port <= 0 || master.port > 65535) return next_sentinel(seq, tried, "bad master port");
  ++seq_;  // done: ignore anything else from this query
  deadline_.cancel();
  next_ = index;  // ask the one that answered first next time
  core_.post([this, round = round_, master] {
    if (round != round_) return;
    if (query_) query_->close();
    auto found = found_;
    found(master);
  });
}

// Gives up on this sentinel (once) and asks the next one on a clean stack.
void MasterResolver::next_sentinel(std::uint64_t seq, std::size_t tried, const std::string& why) {
  if (seq != seq_) return;
  ++seq_;
  deadline_.cancel();
  if (query_) query_->close();
  core_.note_error("sentinel: " + why);
  core_.post([this, round = round_, tried] {
    if (round == round_) ask(tried + 1);
  });
}

}  // namespace authd::cache::detail
