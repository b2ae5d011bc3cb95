#include "cache/redis/link.h"

#include <algorithm>

#include "cache/redis/pubsub.h"
#include "cache/redis/reply.h"

namespace authd::cache::detail {

Link::Link(ClientCore& core, LinkKind kind)
    : core_(core),
      kind_(kind),
      master_(core),
      lookup_(core.io()),
      backoff_(core.options().backoff_initial, core.options().backoff_max),
      retry_timer_(core.io()),
      handshake_timer_(core.io()),
      health_timer_(core.io()) {}

void Link::start() {
  if (running_) return;
  running_ = true;
  backoff_.reset();
  attempt();
}

void Link::stop() {
  running_ = false;
  const bool was_up = drop();
  if (was_up && kind_ == LinkKind::kCommand) core_.command_link_down("client stopped");
}

void Link::restart(const std::string& reason) {
  if (!running_) return;
  down(reason, /*forced=*/true);
}

bool Link::drop() {
  const bool was_up = state_ == State::kUp;
  ++gen_;
  retry_timer_.cancel();
  handshake_timer_.cancel();
  health_timer_.cancel();
  master_.cancel();
  lookup_.cancel();
  if (conn_) conn_->close();  // pending commands complete with kUnavailable
  state_ = State::kIdle;
  health_pending_ = false;
  return was_up;
}

void Link::down(const std::string& reason, bool forced) {
  const bool was_up = drop();
  if (kind_ == LinkKind::kCommand) {
    if (was_up) {
      core_.command_link_down(reason);
    } else {
      core_.command_link_failed(reason);
    }
  }
  if (!running_) return;
  const auto up_for = was_up ? std::optional(Clock::now() - up_since_) : std::nullopt;
  retry_timer_.expires_after(backoff_.after_drop(up_for, forced));
  retry_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (!ec && running_ && gen == gen_) attempt();
  });
}

void Link::post_down(const std::string& reason) {
  core_.post([this, gen = gen_, reason] {
    if (gen == gen_) down(reason, false);
  });
}

void Link::attempt() {
  if (!running_) return;
  const auto& o = core_.options();
  if (kind_ == LinkKind::kSentinelWatch) {
    connect(o.sentinels[sentinel_next_++ % o.sentinels.size()]);
  } else if (sentinel_mode(o)) {
    state_ = State::kResolving;
    const auto gen = gen_;
    master_.start(
        [this, gen](const RedisEndpoint& master) {
          if (gen == gen_ && running_) connect(master);
        },
        [this, gen](const std::string& reason) {
          if (gen == gen_) down(reason, false);
        });
  } else {
    connect(o.endpoint);
  }
}

void Link::connect(const RedisEndpoint& endpoint) {
  state_ = State::kConnecting;
  endpoint_ = endpoint;
  conn_ = std::make_unique<Connection>(core_.io());
  const auto gen = gen_;
  Connection::Handlers h;
  h.on_connected = [this, gen](bool ok, const std::string& err) {
    if (gen != gen_) return;
    if (!ok) {
      post_down("connect to " + format_endpoint(endpoint_) + ": " + err);
      return;
    }
    handshake();
  };
  h.on_lost = [this, gen](const std::string& why) {
    if (gen == gen_) post_down(format_endpoint(endpoint_) + ": " + why);
  };
  if (kind_ != LinkKind::kCommand) {
    h.on_push = [this, gen](redisReply* r) {
      if (gen == gen_) on_push(r);
    };
  }
  lookup_.lookup(endpoint, [this, gen, endpoint, h = std::move(h)](
                               const std::string& ip, const std::string& error) mutable {
    if (gen != gen_) return;
    std::string err = error;
    if (ip.empty() ||
        !conn_->open(ip, endpoint.port, core_.options().connect_timeout, std::move(h), &err)) {
      post_down("connect to " + format_endpoint(endpoint) + ": " + err);
    }
  });
}

void Link::handshake() {
  state_ = State::kHandshake;
  subscribe_sent_ = false;
  awaiting_confirms_ = 0;
  handshake_timer_.expires_after(core_.options().connect_timeout);
  handshake_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (!ec && gen == gen_ && state_ == State::kHandshake) down("handshake timed out", false);
  });
  const auto& o = core_.options();
  const auto gen = gen_;
  // Shared by the pipelined steps: the first failure wins.
  auto failure = std::make_shared<std::string>();
  auto check = [this, gen, failure](const char* step) {
    return [this, gen, failure, step](redisReply* r) {
      if (gen != gen_ || !failure->empty()) return;
      if (r == nullptr) {
        *failure = std::string(step) + ": connection lost";
      } else if (r->type == REDIS_REPLY_ERROR) {
        // Only the error code: the message of a failed AUTH is not repeated anywhere.
        std::string_view msg = reply_str(r);
        *failure =
            std::string(step) + " failed (" + std::string(msg.substr(0, msg.find(' '))) + ")";
      }
    };
  };

  const std::string& password =
      kind_ == LinkKind::kSentinelWatch ? o.sentinel_password : o.password;
  const std::string& username = kind_ == LinkKind::kSentinelWatch ? std::string() : o.username;
  if (!password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!username.empty()) auth.push_back(username);
    auth.push_back(password);
    conn_->send(auth, check("AUTH"));
  }

  switch (kind_) {
    case LinkKind::kCommand: {
      if (o.db != 0) conn_->send({"SELECT", std::to_string(o.db)}, check("SELECT"));
      const bool sentinel = sentinel_mode(o);
      conn_->send({sentinel ? "ROLE" : "PING"}, [this, gen, failure, sentinel](redisReply* r) {
        if (gen != gen_) return;
        if (failure->empty() && r == nullptr) *failure = "handshake: connection lost";
        if (failure->empty() && r->type == REDIS_REPLY_ERROR) {
          *failure = "handshake: " + std::string(reply_str(r).substr(0, 200));
        }
        if (failure->empty() && sentinel) {
          const std::string_view role = role_of(r).value_or("unknown");
          if (role != "master") {
            *failure =
                format_endpoint(endpoint_) + " is a " + std::string(role) + ", not the master";
          }
        }
        if (!failure->empty()) {
          post_down(*failure);
          return;
        }
        become_up();
      });
      break;
    }
    case LinkKind::kSubscriber:
    case LinkKind::kSentinelWatch:
      if (password.empty()) {
        subscribe_all();
      } else {
        // SUBSCRIBE only after AUTH succeeded: a rejected SUBSCRIBE would arrive as an
        // unsolicited error, which hiredis 0.14 treats as a fatal protocol state.
        conn_->send({"PING"}, [this, gen, failure](redisReply* r) {
          if (gen != gen_) return;
          if (failure->empty() && r == nullptr) *failure = "handshake: connection lost";
          if (!failure->empty()) {
            post_down(*failure);
            return;
          }
          subscribe_all();
        });
      }
      break;
  }
}

void Link::subscribe_all() {
  std::vector<std::string> channels =
      kind_ == LinkKind::kSentinelWatch
          ? std::vector<std::string>{std::string(kSwitchMasterChannel)}
          : core_.channels();
  subscribe_sent_ = true;
  if (channels.empty()) {
    become_up();
    return;
  }
  awaiting_confirms_ = channels.size();
  if (!conn_->subscribe(channels)) post_down("SUBSCRIBE could not be sent");
}

void Link::add_channel(const std::string& channel) {
  if (kind_ != LinkKind::kSubscriber || !conn_ || !subscribe_sent_) return;
  if (state_ != State::kHandshake && state_ != State::kUp) return;
  if (!conn_->subscribe({channel})) return;  // the next reconnect subscribes it
  if (state_ == State::kHandshake) ++awaiting_confirms_;
}

void Link::on_push(redisReply* r) {
  Push push = read_push(r);
  switch (push.kind) {
    case Push::Kind::kOther:
      return;
    case Push::Kind::kSubscribed:
      if (state_ == State::kHandshake && awaiting_confirms_ > 0 && --awaiting_confirms_ == 0) {
        become_up();
      }
      return;
    case Push::Kind::kMessage:
      break;
  }
  if (kind_ != LinkKind::kSentinelWatch) {
    core_.deliver(push.channel, push.payload);
    return;
  }
  if (auto master = parse_switch_master(push.payload, core_.options().master_name)) {
    core_.post([&core = core_, master = *master, payload = std::move(push.payload)] {
      core.master_switched(master, "sentinel +switch-master " + payload);
    });
  }
}

void Link::become_up() {
  handshake_timer_.cancel();
  state_ = State::kUp;
  up_since_ = Clock::now();
  switch (kind_) {
    case LinkKind::kCommand:
      health_pending_ = false;
      schedule_health();
      core_.command_link_up();
      break;
    case LinkKind::kSubscriber:
      core_.subscriber_ready();
      break;
    case LinkKind::kSentinelWatch:
      break;
  }
}

// A PING (ROLE with Sentinel) every health_interval; no answer within health_timeout drops
// the data links: a hung or partitioned server sends no EOF, and we would wait for TCP.
void Link::schedule_health() {
  health_timer_.expires_after(core_.options().health_interval);
  health_timer_.async_wait([this, gen = gen_](const boost::system::error_code& ec) {
    if (ec || gen != gen_ || state_ != State::kUp) return;
    const auto& o = core_.options();
    if (health_pending_) {
      if (Clock::now() - health_sent_ > o.health_timeout) {
        core_.restart_links("health check: no reply from " + format_endpoint(endpoint_) +
                                " within " + std::to_string(o.health_timeout.count()) + " ms",
                            false);
        return;
      }
    } else {
      health_pending_ = true;
      health_sent_ = Clock::now();
      const bool sentinel = sentinel_mode(o);
      conn_->send({sentinel ? "ROLE" : "PING"}, [this, gen, sentinel](redisReply* r) {
        if (gen != gen_ || r == nullptr) return;  // a loss is reported through on_lost
        health_pending_ = false;
        const auto role = role_of(r);
        if (sentinel && role && *role != "master") {
          core_.post([this, gen] {
            if (gen == gen_) {
              core_.restart_links(format_endpoint(endpoint_) + " is no longer the master", true);
            }
          });
        }
      });
    }
    schedule_health();
  });
}

}  // namespace authd::cache::detail
