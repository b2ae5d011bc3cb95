// Beast/Asio transport. Structure follows Beast's advanced server-flex example: a listener per
// address, a session per connection (plain or TLS through CRTP), one strand per connection.

#include "authd/http/server.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "authd/core/clock.h"
#include "authd/core/hex.h"
#include "authd/http/client_ip.h"
#include "authd/obs/log.h"
#include "authd/obs/metrics.h"
#include "http/deadline_socket.h"
#include "http/request_head.h"
#include "http/response_wire.h"
#include "http/tls_tickets.h"

namespace authd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Mozilla "intermediate" TLS 1.2 suites: forward secret AEAD only. TLS 1.3 uses OpenSSL's
// defaults, which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<std::shared_ptr<ssl::context>, std::string> make_tls_context(const std::string& cert,
                                                                    const std::string& key,
                                                                    TicketKeys& tickets) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  tickets.install(h);
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use | ssl::context::no_compression);
  SSL_CTX_set_options(h, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(h, kTls12Ciphers) != 1)
    return unexpected(std::string("no usable TLS 1.2 cipher"));
  beast::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) return unexpected("cannot load TLS certificate " + cert + ": " + ec.message());
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) return unexpected("cannot load TLS private key " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(h) != 1)
    return unexpected("TLS private key " + key + " does not match certificate " + cert);
  return ctx;
}

// 128 bits: a random prefix drawn once per thread, then a per-thread counter through a
// bijective mix, so ids are unique without drawing random bytes per request. A request id
// correlates log lines; it is not a secret and need not be unpredictable.
std::string new_request_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  struct State {
    std::uint64_t key = 0, counter = 0;
    std::array<char, 32> text{};  // the prefix's 16 digits stay; the counter's change
    State() {
      SystemRandom random;
      std::uint64_t prefix = 0;
      random.fill(&prefix, sizeof prefix);
      random.fill(&key, sizeof key);
      for (int i = 0; i < 16; ++i) text[15 - i] = kHex[(prefix >> (4 * i)) & 0xf];
    }
  };
  static thread_local State state;
  std::uint64_t x = state.key + ++state.counter * 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;  // splitmix64's finalizer: a bijection
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  for (int i = 0; i < 16; ++i) state.text[31 - i] = kHex[(x >> (4 * i)) & 0xf];
  return std::string(state.text.data(), state.text.size());
}

// Unix seconds from the coarse clock (the time of the last tick, no clock read): a request's
// arrival is kept in whole seconds.
std::int64_t unix_seconds_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

std::string make_request_id(std::string_view given) {
  // Accept a caller's id only if it is short and plain, so it cannot forge log lines.
  if (!given.empty() && given.size() <= 128) {
    bool ok = true;
    for (char c : given)  // ASCII, whatever the locale
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '_' || c == '.'))
        ok = false;
    if (ok) return std::string(given);
  }
  return new_request_id();
}

struct AccessEntry {
  const RequestContext& ctx;
  const std::string& listener;
  const std::string& method;
  const std::string& client;
  int status;
  double seconds;
  std::size_t bytes;
};

/// Writes the "http.access" line, with any `extra` fields after the common ones.
template <class... Extra>
void log_access(log::Level level, const AccessEntry& e, Extra&&... extra) {
  log::write(level, "http.access",
             {{"request_id", e.ctx.request_id},
              {"listener", e.listener},
              {"method", e.method},
              {"route", e.ctx.route},
              {"status", e.status},
              {"latency_ms", e.seconds * 1000.0},
              {"bytes", e.bytes},
              {"client", e.client},
              log::Field(std::forward<Extra>(extra))...});
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void drain() = 0;
};

}  // namespace

// One event loop per I/O thread (as nginx workers): a connection lives on one loop, so its
// handlers need no strand and threads never contend on a shared scheduler. `main` (loop 0)
// also runs the acceptors and the drain timer.
struct Server::Loops {
  // An io_context that can destroy its queued handlers without being destroyed itself.
  // UNSAFE_IO: no lock per socket in the reactor. Sound because every operation on a socket
  // or descriptor of a loop starts on that loop's thread (sessions, the Postgres lanes, an
  // accepted connection handed over as a descriptor), and other threads only post to it; the
  // scheduler's lock, which posts need, stays.
  struct Loop : asio::io_context {
    Loop() : asio::io_context(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) {}
    void destroy_handlers() { shutdown(); }
  };
  Loop main;
  std::vector<std::unique_ptr<Loop>> extra;

  void destroy_handlers() {
    main.destroy_handlers();
    for (auto& l : extra) l->destroy_handlers();
  }
};

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  explicit Impl(ServerOptions o, obs::Registry& m, Loops& loops)
      : options(std::move(o)),
        trusted_proxies(
            TrustedProxies::parse(options.config.trusted_proxies).value_or(TrustedProxies{})),
        ioc(loops.main),
        extra_loops(loops.extra),
        workers(static_cast<std::size_t>(options.config.worker_threads)),
        requests(m.counter("authd_http_requests_total",
                           "HTTP requests by route, method and status.",
                           {"listener", "route", "method", "status"})),
        latency(m.histogram("authd_http_request_duration_seconds",
                            "Time from a complete request to its response being written.",
                            {"listener", "route"}, obs::latency_buckets())),
        in_flight(m.gauge("authd_http_requests_in_flight", "Requests being handled now.").get()),
        connections(m.gauge("authd_http_connections_open", "Open client connections.").get()),
        rejected(m.counter("authd_http_connections_rejected_total",
                           "Connections closed at accept: the listener's or the client "
                           "address's connection cap was reached.",
                           {"listener", "reason"})),
        protocol_errors(m.counter("authd_http_protocol_errors_total",
                                  "Connections ended by a malformed or oversized request or a "
                                  "timeout.",
                                  {"reason"})),
        held(m.counter("authd_http_held_requests_total",
                       "Requests that waited for the store, by how the wait ended.", {"outcome"})),
        held_now(m.gauge("authd_http_held_requests", "Requests waiting for the store now.").get()) {
  }

  ServerOptions options;
  TrustedProxies trusted_proxies;
  asio::io_context& ioc;                                   // Loops::main
  std::vector<std::unique_ptr<Loops::Loop>>& extra_loops;  // Loops::extra
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::atomic<std::size_t> next_loop{0};

  asio::io_context& pick_loop() {
    const std::size_t n = extra_loops.size() + 1;
    const std::size_t i = next_loop.fetch_add(1, std::memory_order_relaxed) % n;
    return i == 0 ? ioc : *extra_loops[i - 1];
  }
  void stop_loops() {
    for (auto& g : keep_running) g.reset();
    ioc.stop();
    for (auto& l : extra_loops) l->stop();
  }
  asio::thread_pool workers;
  std::atomic<bool> workers_joined{false};
  std::atomic<bool> is_draining{false};
  std::atomic<std::size_t> open{0};

  // Shared by every context, so that a certificate reload keeps the tickets clients hold;
  // declared before the contexts that point to it, so it is destroyed after them.
  TicketKeys tickets{
      std::chrono::duration_cast<std::chrono::seconds>(options.config.tls_ticket_rotation)};
  std::mutex tls_mu;
  std::shared_ptr<ssl::context> tls;

  std::mutex sessions_mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_session = 0;

  // Connections are counted per listener, so that probes on the admin listener never wait
  // behind public connections, and per client address, so that one address cannot take them
  // all (balancers, in trusted_proxies, are exempt: every request comes from them).
  struct Slots {
    std::atomic<std::size_t> open{0};
    std::size_t cap = 0;
  };
  struct Listener {
    std::shared_ptr<tcp::acceptor> acceptor;
    bool open_while_draining;  // the admin listener keeps answering probes (503) while draining
  };
  std::mutex address_mu;
  std::unordered_map<std::string, std::size_t> per_address;

  enum class AddressSlot { kExempt, kTaken, kFull };
  // Takes a connection slot for `address` unless it is exempt or already holds its share.
  AddressSlot take_address_slot(const std::string& address) {
    const std::size_t cap = options.config.max_connections_per_address;
    if (cap == 0 || address.empty() || trusted_proxies.contains(address))
      return AddressSlot::kExempt;
    std::lock_guard lock(address_mu);
    auto& n = per_address[address];
    if (n >= cap) return AddressSlot::kFull;
    ++n;
    return AddressSlot::kTaken;
  }
  void release_address_slot(const std::string& address) {
    std::lock_guard lock(address_mu);
    auto it = per_address.find(address);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
  }
  std::vector<Listener> listeners;
  std::optional<asio::steady_timer> drain_timer;

  obs::Family<obs::Counter>& requests;
  obs::Family<obs::Histogram>& latency;
  obs::Gauge& in_flight;
  obs::Gauge& connections;
  obs::Family<obs::Counter>& rejected;
  obs::Family<obs::Counter>& protocol_errors;
  obs::Family<obs::Counter>& held;
  obs::Gauge& held_now;

  std::shared_ptr<ssl::context> current_tls() {
    std::lock_guard lock(tls_mu);
    return tls;
  }

  std::uint64_t register_session(std::weak_ptr<SessionBase> s) {
    std::lock_guard lock(sessions_mu);
    auto id = ++next_session;
    sessions.emplace(id, std::move(s));
    return id;
  }
  void unregister_session(std::uint64_t id) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(id);
  }

  void start_accept(const std::string& name, std::shared_ptr<tcp::acceptor> acc,
                    std::shared_ptr<Slots> slots, std::shared_ptr<const Router> router,
                    bool use_tls);
  void begin_shutdown();
  void poll_drain(std::chrono::steady_clock::time_point deadline);
};

namespace {

using ImplPtr = std::shared_ptr<Server::Impl>;

// The metric children of a connection's last answer: a keep-alive client mostly asks the same
// route again, and looking a child up takes its family's lock and builds its labels. Children
// live as long as their family, which never drops one.
class RouteMetrics {
 public:
  obs::Counter& requests(Server::Impl& server, const std::string& listener, std::string_view route,
                         const std::string& method, int status) {
    if (!counter_ || status != status_ || route != counter_route_ || method != method_) {
      counter_ =
          &server.requests.with({listener, std::string(route), method, std::to_string(status)});
      status_ = status;
      counter_route_ = route;
      method_ = method;
    }
    return *counter_;
  }
  obs::Histogram& latency(Server::Impl& server, const std::string& listener,
                          std::string_view route) {
    if (!histogram_ || route != histogram_route_) {
      histogram_ = &server.latency.with({listener, std::string(route)});
      histogram_route_ = route;
    }
    return *histogram_;
  }

 private:
  obs::Counter* counter_ = nullptr;
  std::string_view counter_route_;  // routes are views of the router's text (RequestContext)
  std::string method_;
  int status_ = 0;
  obs::Histogram* histogram_ = nullptr;
  std::string_view histogram_route_;
};

// Per I/O thread: a plain connection writes its answer from here and keeps only what the
// socket does not take at once, so an idle connection holds no answer's worth of memory, and
// a loop with a thousand connections writes from one warm buffer, not a thousand cold ones.
std::string& loop_answer_buffer() {
  static thread_local std::string buffer;
  return buffer;
}

template <class Derived>
class Session : public SessionBase {
 public:
  // A read's room, as nginx's client_header_buffer_size: most requests fit whole, and an idle
  // connection holds this much; a larger request grows the buffer as it arrives.
  static constexpr std::size_t kReadSize = 1024;
  // The connection's slots (listener and address) are taken at accept and given back here.
  Session(ImplPtr server, std::string listener, std::shared_ptr<Server::Impl::Slots> slots,
          std::shared_ptr<const Router> router, std::string peer, bool address_counted)
      : server_(std::move(server)),
        listener_(std::move(listener)),
        slots_(std::move(slots)),
        router_(std::move(router)),
        peer_(std::move(peer)),
        peer_is_proxy_(server_->trusted_proxies.contains(peer_)),
        address_counted_(address_counted) {
    server_->open.fetch_add(1);
    server_->connections.add(1);
  }
  ~Session() override {
    server_->unregister_session(id_);
    server_->open.fetch_sub(1);
    slots_->open.fetch_sub(1);
    if (address_counted_) server_->release_address_slot(peer_);
    server_->connections.add(-1);
  }

  void drain() override {
    asio::dispatch(derived().stream().get_executor(), [self = derived().shared_from_this()] {
      self->close_after_response_ = true;
      // An idle connection has nothing in flight: end it now rather than at idle timeout.
      if (self->idle_) beast::get_lowest_layer(self->stream()).cancel();
    });
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }
  const config::ServerConfig& cfg() const { return server_->options.config; }

  void after_start(std::uint64_t id) { id_ = id; }

  // Waits for the first byte of the next request under the idle timeout (a shorter one for a
  // new connection's first request: a socket that connects and stays silent is not a client
  // worth a slot); the whole request then has read_timeout to arrive, so a client trickling
  // bytes (slowloris) is cut off.
  void wait_request() {
    if (close_after_response_) return derived().do_close();
    if (buffer_.size() > 0) return read_request();
    idle_ = true;
    beast::get_lowest_layer(derived().stream())
        .expires_after(requests_ == 0 ? cfg().first_byte_timeout : cfg().idle_timeout);
    derived().stream().async_read_some(
        buffer_.prepare(kReadSize),
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
          self->idle_ = false;
          if (ec) return self->derived().do_close();
          self->buffer_.commit(n);
          self->read_request();
        });
  }

  // The head first: what it says decides whether the body can be framed at all.
  void read_request() {
    ++requests_;
    method_ = "-";  // until the head is read
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(cfg().max_header_bytes));
    parser_->body_limit(cfg().max_body_bytes);
    beast::get_lowest_layer(derived().stream()).expires_after(cfg().read_timeout);
    parse_buffered();
  }

  // Parses what the buffer holds and reads more only when the request is not complete: a
  // request that arrived whole (the usual case) is handled without another trip through the
  // event loop, which Beast's composed read would take.
  void parse_buffered() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const bool had_head = parser_->is_header_done();
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return on_read(ec);
      if (!had_head && parser_->is_header_done()) {
        if (refuse_head()) return;
        parser_->eager(true);
      }
      if (used == 0) break;
    }
    if (parser_->is_done()) return on_read({});
    derived().stream().async_read_some(
        buffer_.prepare(kReadSize),
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
          if (ec == asio::error::eof) {
            // The client closed: between requests that is the end; inside one it is an error.
            if (!self->parser_->got_some()) return self->on_read(bhttp::error::end_of_stream);
            ec = {};
            self->parser_->put_eof(ec);
            if (!ec && self->parser_->is_done()) return self->on_read({});
            return self->on_read(ec ? ec : bhttp::error::partial_message);
          }
          if (ec) return self->on_read(ec);
          self->buffer_.commit(n);
          self->parse_buffered();
        });
  }

  // The head decides whether the body can be framed at all (request_head.h). A method Beast
  // does not know never becomes a metric label or a log field.
  bool refuse_head() {
    method_ = parser_->method_label();
    auto refusal = parser_->refusal();
    if (!refusal) return false;
    reject(refusal->status, refusal->code, refusal->description, refusal->reason);
    return true;
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) return derived().do_close();
    if (ec == beast::error::timeout) {
      server_->protocol_errors.with({"timeout"}).inc();
      return derived().do_close();
    }
    if (ec == bhttp::error::header_limit)
      return reject(431, "request_header_fields_too_large", "Request headers are too large.",
                    "header_limit");
    if (ec == bhttp::error::body_limit)
      return reject(413, "payload_too_large", "Request body is too large.", "body_limit");
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream)
                                   .category())  // any other parse error
      return reject(400, "invalid_request", "Malformed HTTP request.", "malformed");
    if (ec) return derived().do_close();
    keep_alive_ = parser_->keep_alive();
    version_ = parser_->version();
    handle(parser_->request());
  }

  // Answers a request that could not be read, then closes: the stream position is unknown.
  // The client may still be sending (a body over the limit): the close lingers, reading and
  // dropping what comes, so that the answer is not lost to a reset (as nginx's
  // lingering_close).
  void reject(int status, std::string_view code, std::string_view description, const char* reason) {
    server_->protocol_errors.with({reason}).inc();
    close_after_response_ = true;
    linger_ = true;
    RequestContext ctx{make_request_id({}), "unmatched", std::chrono::steady_clock::now()};
    send(Response::error(status, code, description), std::move(ctx), 11);
  }

  // For an inline route (most GETs) the request stays in the parser and its context on the
  // stack: they are moved to the heap only for a route that answers later.
  void handle(Request& r) {
    RequestContext ctx;
    ctx.start = std::chrono::steady_clock::now();
    r.received_unix = unix_seconds_now();
    r.peer_address = peer_;
    // The forwarding headers count only from a trusted proxy: nobody else's are even read.
    r.client_address = peer_is_proxy_
                           ? client_address(peer_, r.header_list("X-Forwarded-For"),
                                            r.header_list("Forwarded"), server_->trusted_proxies)
                           : peer_;
    r.tls = Derived::kTls;
    ctx.request_id = make_request_id(r.header("X-Request-Id"));
    r.request_id = ctx.request_id;

    auto m = router_->match(r.method, r.path);
    if (!m.route) {
      ctx.route = "unmatched";
      return send(unmatched_response(m), std::move(ctx), version_);
    }
    ctx.route = m.route->pattern;
    r.path_params = std::move(m.params);
    const bool head = r.method == "HEAD";
    if (m.route->dispatch == Dispatch::kInline) {
      // Not counted in flight: it is answered before anything could read the gauge.
      Response resp = invoke(*m.route, r, ctx);
      if (head) resp.clear_body();
      return send(std::move(resp), std::move(ctx), version_);
    }
    server_->in_flight.add(1);
    auto shared_r = std::make_shared<const Request>(std::move(r));
    auto shared_ctx = std::make_shared<RequestContext>(std::move(ctx));
    // Worker and async routes are the ones that use the store: while it is known to be away,
    // wait for it at once instead of tying up a thread to find that out again.
    if (store_away()) return hold(m.route, std::move(shared_r), std::move(shared_ctx), head, {});
    run_route(m.route, std::move(shared_r), std::move(shared_ctx), head);
  }

  // The store gate is closed: a request that needs the store should wait, not try.
  bool store_away() const {
    const WaitGate* gate = server_->options.store_gate;
    return gate && !gate->is_open();
  }

  using RequestPtr = std::shared_ptr<const Request>;
  using ContextPtr = std::shared_ptr<RequestContext>;

  // Runs a worker or async route; its answer comes back to answer_or_hold on this loop.
  void run_route(const Route* route, RequestPtr r, ContextPtr ctx, bool head) {
    if (route->dispatch == Dispatch::kAsync)
      return start_async(route, std::move(r), std::move(ctx), head);
    asio::post(server_->workers, [self = derived().shared_from_this(), route, r = std::move(r),
                                  ctx = std::move(ctx), head]() mutable {
      // Queued before the store was found away: wait for it rather than find out again.
      if (self->store_away()) {
        return asio::post(self->stream().get_executor(),
                          [self, route, r = std::move(r), ctx = std::move(ctx), head]() mutable {
                            self->hold(route, std::move(r), std::move(ctx), head, {});
                          });
      }
      Response resp = invoke(*route, *r, *ctx);
      asio::post(self->stream().get_executor(),
                 [self, route, r = std::move(r), ctx = std::move(ctx), head,
                  resp = std::move(resp)]() mutable {
                   self->answer_or_hold(route, std::move(r), std::move(ctx), head, std::move(resp));
                 });
    });
  }

  // On this connection's loop: sends the answer, unless it says the store is away and there
  // is a gate to wait at.
  void answer_or_hold(const Route* route, RequestPtr r, ContextPtr ctx, bool head, Response resp) {
    if (resp.store_unavailable && server_->options.store_gate)
      return hold(route, std::move(r), std::move(ctx), head, std::move(resp));
    answer(*ctx, head, std::move(resp));
  }

  void answer(RequestContext& ctx, bool head, Response resp) {
    server_->in_flight.add(-1);
    if (head) resp.clear_body();
    send(std::move(resp), std::move(ctx), version_);
  }

  // Waits at the store gate until it opens (run the route again), the request's deadline
  // passes, or the client goes away. `unavailable` is the answer for the deadline; empty when
  // the route has not run yet.
  void hold(const Route* route, RequestPtr r, ContextPtr ctx, bool head, Response unavailable) {
    if (unavailable.status != 503) {
      unavailable = Response::error(503, "temporarily_unavailable",
                                    "The service is temporarily unavailable; retry.");
      unavailable.log_cause = "store: no writable primary (gate closed)";
    }
    unavailable.store_unavailable = false;
    unavailable.set_header("Retry-After", "1");
    if (store_served_elsewhere()) return hand_back(*ctx, head);
    const auto deadline = ctx->start + server_->options.store_wait;
    if (std::chrono::steady_clock::now() >= deadline) {
      server_->held.with({"timed_out"}).inc();
      return answer(*ctx, head, std::move(unavailable));
    }
    auto self = derived().shared_from_this();
    auto unavailable_answer = std::make_shared<Response>(std::move(unavailable));
    auto resume = [self, route, r, ctx, head, unavailable_answer](WaitGate::Outcome outcome) {
      asio::post(self->stream().get_executor(),
                 [self, route, r, ctx, head, unavailable_answer, outcome] {
                   self->server_->held_now.add(-1);
                   self->stop_watching_client();
                   switch (outcome) {
                     case WaitGate::Outcome::kOpen:
                       self->server_->held.with({"resumed"}).inc();
                       return self->run_route(route, r, ctx, head);
                     case WaitGate::Outcome::kTimedOut:
                       if (self->store_served_elsewhere()) return self->hand_back(*ctx, head);
                       self->server_->held.with({"timed_out"}).inc();
                       return self->answer(*ctx, head, std::move(*unavailable_answer));
                     case WaitGate::Outcome::kCancelled:
                       self->server_->held.with({"cancelled"}).inc();
                       self->server_->in_flight.add(-1);
                       return self->derived().do_close();
                   }
                 });
    };
    server_->held_now.add(1);
    auto ticket = server_->options.store_gate->wait(deadline, std::move(resume));
    if (!ticket) {  // the gate is full; `resume` will never run
      server_->held_now.add(-1);
      server_->held.with({"refused"}).inc();
      unavailable_answer->log_cause += "; too many requests already waiting";
      return answer(*ctx, head, std::move(*unavailable_answer));
    }
    watch_client(*ticket);
  }

  bool store_served_elsewhere() const {
    const auto& elsewhere = server_->options.store_served_elsewhere;
    return elsewhere && elsewhere();
  }

  // This replica is cut off from the store and its peers are not: the request has not been
  // served here (a write whose outcome is unknown is safe to replay: a refresh replayed within
  // the grace window gets the same successor), so say so in a way a balancer retries.
  void hand_back(RequestContext& ctx, bool head) {
    server_->held.with({"handed_back"}).inc();
    Response resp = Response::error(504, "temporarily_unavailable",
                                    "This server cannot reach its store; retry on another.");
    resp.log_cause = "store: unreachable from this replica, reachable from its peers";
    resp.set_header("Retry-After", "0");
    answer(ctx, head, std::move(resp));
  }

  // While a request waits, nothing reads the socket: watch it so that a client that hangs up
  // frees its place in the gate at once rather than at the deadline.
  void watch_client(WaitGate::Ticket ticket) {
    watching_ = true;
    auto& socket = beast::get_lowest_layer(derived().stream()).socket();
    socket.async_wait(tcp::socket::wait_read, [self = derived().shared_from_this(),
                                               ticket](beast::error_code ec) {
      if (ec || !self->watching_) return;
      auto& sock = beast::get_lowest_layer(self->stream()).socket();
      char byte;
      const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        self->server_->options.store_gate->cancel(ticket);  // resumes with kCancelled
      }
      // Data (a pipelined request): the client is still there; it is read after the answer.
    });
  }

  void stop_watching_client() {
    if (!watching_) return;
    watching_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(derived().stream()).socket().cancel(ignored);
  }

  // An AsyncHandler answers through a Reply, later, from this loop or a worker.
  void start_async(const Route* route, RequestPtr r, ContextPtr ctx, bool head) {
    auto self = derived().shared_from_this();
    Reply::Send send = [self, route, r, ctx, head](Response resp) {
      asio::dispatch(self->stream().get_executor(),
                     [self, route, r, ctx, head, resp = std::move(resp)]() mutable {
                       self->answer_or_hold(route, r, ctx, head, std::move(resp));
                     });
    };
    Reply::Offload offload = [self, ctx, send](std::function<Response()> blocking) {
      asio::post(self->server_->workers,
                 [ctx, send, blocking = std::move(blocking)] { send(guarded(*ctx, blocking)); });
    };
    Reply::Resume resume = [self, ctx](std::function<void()> task) {
      asio::post(self->stream().get_executor(), [ctx, task = std::move(task)] {
        try {
          task();
        } catch (const std::exception& e) {
          log::error("http.handler_exception",
                     {{"request_id", ctx->request_id}, {"route", ctx->route}, {"what", e.what()}});
        }
      });
    };
    Reply reply(std::move(send), std::move(offload), std::move(resume));
    try {
      route->async_handler(*r, *ctx, reply);
    } catch (const std::exception& e) {
      // Thrown before it answered (a handler answers last): answer for it.
      log::error("http.handler_exception",
                 {{"request_id", ctx->request_id}, {"route", ctx->route}, {"what", e.what()}});
      reply(Response::error(500, "server_error", "Internal error."));
    }
  }

  // A template, not std::function: an inline route's call then allocates nothing here.
  template <class Handler>
  static Response guarded(const RequestContext& ctx, const Handler& fn) {
    try {
      return fn();
    } catch (const std::exception& e) {
      log::error("http.handler_exception",
                 {{"request_id", ctx.request_id}, {"route", ctx.route}, {"what", e.what()}});
    } catch (...) {
      log::error("http.handler_exception", {{"request_id", ctx.request_id}, {"route", ctx.route}});
    }
    return Response::error(500, "server_error", "Internal error.");
  }

  static Response invoke(const Route& route, const Request& r, RequestContext& ctx) {
    return guarded(ctx, [&] { return route.handler(r, ctx); });
  }

  void send(Response resp, RequestContext ctx, unsigned version) {
    // HSTS on the public listener when TLS is ours or the balancer's; never on plain admin.
    const TransportHeaders transport(
        resp, ctx.request_id, Derived::kTls || (cfg().behind_tls_proxy && listener_ != "admin"));
    const bool keep = keep_alive_ && !close_after_response_ && !server_->is_draining.load();
    // A plain answer is written from the loop's buffer; only what the socket does not take at
    // once moves to the connection's own.
    std::string& out = Derived::kTls || !write_directly_ ? out_ : loop_answer_buffer();
    write_response(out, resp, version, keep, transport);
    // The request is answered: its memory goes back now, not when the connection's next
    // request starts, so that an idle connection holds none.
    parser_.reset();
    // Counted before the write so a client that has its answer also sees it in /metrics.
    metrics_.requests(*server_, listener_, ctx.route, method_, resp.status).inc();
    std::size_t written = 0;
    if constexpr (!Derived::kTls) {
      if (write_directly_) {
        // An answer usually fits the socket's send buffer: written here at once, it needs no
        // write operation in the reactor. on_write still runs as a handler of its own, after
        // what the loop has queued, which gives the client time to send its next request
        // before this connection reads again. Whatever did not fit goes the usual way.
        beast::error_code ec;
        written = derived().stream().socket().write_some(asio::buffer(out), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        if (ec || written == out.size()) {
          asio::post(derived().stream().get_executor(),
                     [self = derived().shared_from_this(), ctx = std::move(ctx), keep, ec, written,
                      status = resp.status, cause = std::move(resp.log_cause)] {
                       self->on_write(ec, written, ctx, status, cause, keep);
                     });
          return;
        }
        out_.assign(out, written);  // the rest
      }
    }
    beast::get_lowest_layer(derived().stream()).expires_after(cfg().read_timeout);
    asio::async_write(derived().stream(), asio::buffer(out_),
                      [self = derived().shared_from_this(), ctx = std::move(ctx), keep, written,
                       status = resp.status,
                       cause = std::move(resp.log_cause)](beast::error_code ec, std::size_t bytes) {
                        self->on_write(ec, written + bytes, ctx, status, cause, keep);
                      });
  }

  // One access line per answer. A 5xx with a known cause is logged (at error level, with its
  // cause) even when the access log is off: the operator needs it and the client never sees it.
  void on_write(beast::error_code ec, std::size_t bytes, const RequestContext& ctx, int status,
                const std::string& cause, bool keep) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.start).count();
    metrics_.latency(*server_, listener_, ctx.route).observe(secs);
    const AccessEntry entry{ctx, listener_, method_, peer_, status, secs, bytes};
    if (status >= 500 && !cause.empty())
      log_access(log::Level::kError, entry, log::Field("cause", cause));
    else if (server_->options.access_log)
      log_access(log::Level::kInfo, entry);
    if (ec || !keep) return derived().do_close();
    wait_request();
  }

  ImplPtr server_;
  std::string listener_;
  std::shared_ptr<Server::Impl::Slots> slots_;
  std::shared_ptr<const Router> router_;
  std::string peer_;
  bool peer_is_proxy_;  // the peer is a trusted proxy: its forwarding headers name the client
  bool address_counted_;
  std::uint64_t id_ = 0;
  std::uint64_t requests_ = 0;  // read on this connection so far
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  // What is left to write of the answer: over TLS all of it (its capacity is kept for the
  // next one), over plain TCP what the socket did not take at once.
  std::string out_;
  RouteMetrics metrics_;
  bool idle_ = false;
  bool watching_ = false;  // a held request's client is being watched (watch_client)
  bool close_after_response_ = false;
  bool linger_ = false;  // close by draining the client's remaining bytes first
  bool keep_alive_ = false;
  bool write_directly_ = false;  // a plain socket in non-blocking mode (send)
  unsigned version_ = 11;
  std::string method_;
};

class PlainSession : public Session<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  static constexpr bool kTls = false;
  PlainSession(tcp::socket&& s, ImplPtr server, std::string listener,
               std::shared_ptr<Server::Impl::Slots> slots, std::shared_ptr<const Router> router,
               std::string peer, bool address_counted)
      : Session(std::move(server), std::move(listener), std::move(slots), std::move(router),
                std::move(peer), address_counted),
        stream_(std::move(s)) {}
  DeadlineSocket& stream() { return stream_; }
  void start() {
    stream_.set_owner(weak_from_this());
    // send() writes directly, and must get would_block rather than wait on a full buffer.
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
    write_directly_ = !ec;
    after_start(server_->register_session(weak_from_this()));
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_request(); });
  }
  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (!linger_ || ec) return stream_.socket().close(ec);
    // Closing with unread bytes makes the kernel send a reset, which can destroy the answer
    // before the client reads it: read until the client closes, for a bounded time and size.
    linger_ = false;
    stream_.expires_after(std::chrono::seconds(2));
    linger_buffer_ = std::make_unique<std::array<char, 4096>>();
    discard(0);
  }

 private:
  void discard(std::size_t so_far) {
    static constexpr std::size_t kMaxLingerBytes = 1 << 20;
    stream_.async_read_some(
        asio::buffer(*linger_buffer_),
        [self = shared_from_this(), so_far](beast::error_code ec, std::size_t n) {
          if (ec || so_far + n > kMaxLingerBytes) {
            beast::error_code ignored;
            self->stream_.socket().close(ignored);
            return;
          }
          self->discard(so_far + n);
        });
  }

  DeadlineSocket stream_;
  // Only while lingering: every connection carrying 4 KiB for a rare close would be most of
  // what an idle one costs.
  std::unique_ptr<std::array<char, 4096>> linger_buffer_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  static constexpr bool kTls = true;
  TlsSession(tcp::socket&& s, std::shared_ptr<ssl::context> ctx, ImplPtr server,
             std::string listener, std::shared_ptr<Server::Impl::Slots> slots,
             std::shared_ptr<const Router> router, std::string peer, bool address_counted)
      : Session(std::move(server), std::move(listener), std::move(slots), std::move(router),
                std::move(peer), address_counted),
        ctx_(std::move(ctx)),
        stream_(std::move(s), *ctx_) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void start() {
    after_start(server_->register_session(weak_from_this()));
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::get_lowest_layer(self->stream_).expires_after(self->cfg().read_timeout);
      self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) {
          self->server_->protocol_errors.with({"tls_handshake"}).inc();
          log::debug("http.tls_handshake_failed",
                     {{"client", self->peer_}, {"reason", ec.message()}});
          beast::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().close(ignored);
          return;
        }
        self->wait_request();
      });
    });
  }
  void do_close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
  }

 private:
  std::shared_ptr<ssl::context> ctx_;  // keeps a reloaded-away context alive for this connection
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void Server::Impl::start_accept(const std::string& name, std::shared_ptr<tcp::acceptor> acc,
                                std::shared_ptr<Slots> slots, std::shared_ptr<const Router> router,
                                bool use_tls) {
  auto self = shared_from_this();
  // Accepted on the acceptor's loop, into a socket of that loop: the loops run without
  // per-socket locks (Loop), so registering the descriptor with another loop's reactor from
  // here raced with that loop reusing the reactor's descriptor state (ThreadSanitizer,
  // AcceptedConnectionsJoinTheirLoopOnItsOwnThread).
  acc->async_accept(
      [self, name, acc, slots, router, use_tls](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acc->is_open()) return;
        using AddressSlot = Server::Impl::AddressSlot;
        auto accept_next = [&] { self->start_accept(name, acc, slots, router, use_tls); };
        if (ec) {
          // Typically EMFILE: back off briefly instead of spinning.
          log::warn("http.accept_failed", {{"listener", name}, {"reason", ec.message()}});
          auto t = std::make_shared<asio::steady_timer>(self->ioc, std::chrono::milliseconds(50));
          t->async_wait([self, name, acc, slots, router, use_tls, t](beast::error_code) {
            self->start_accept(name, acc, slots, router, use_tls);
          });
          return;
        }
        auto refuse = [&](const char* reason) {
          self->rejected.with({name, reason}).inc();
          beast::error_code ignored;
          socket.close(ignored);
        };
        const bool admin = name == "admin";
        if (self->is_draining.load() && !admin) {
          refuse("draining");
          return accept_next();
        }
        if (slots->open.fetch_add(1) >= slots->cap) {
          slots->open.fetch_sub(1);
          refuse("listener_full");
          return accept_next();
        }
        beast::error_code pec;
        auto ep = socket.remote_endpoint(pec);
        std::string peer = pec ? "" : ep.address().to_string();
        // The admin listener is for probes and scrapes from inside the cluster: no address cap.
        const auto address_slot = admin ? AddressSlot::kExempt : self->take_address_slot(peer);
        if (address_slot == AddressSlot::kFull) {
          slots->open.fetch_sub(1);
          refuse("address_full");
          return accept_next();
        }
        const bool address_counted = address_slot == AddressSlot::kTaken;
        // The slots the session would have given back, for a connection that never becomes one.
        auto give_back_slots = [self, slots, peer, address_counted] {
          slots->open.fetch_sub(1);
          if (address_counted) self->release_address_slot(peer);
        };
        std::shared_ptr<ssl::context> tls = use_tls ? self->current_tls() : nullptr;
        auto serve = [self, name, slots, router, peer, address_counted, use_tls,
                      tls = std::move(tls)](tcp::socket&& s) mutable {
          if (use_tls) {
            std::make_shared<TlsSession>(std::move(s), std::move(tls), self, name, slots, router,
                                         peer, address_counted)
                ->start();
          } else {
            std::make_shared<PlainSession>(std::move(s), self, name, slots, router, peer,
                                           address_counted)
                ->start();
          }
        };
        asio::io_context& loop = self->pick_loop();
        if (&loop == &self->ioc) {
          serve(std::move(socket));
          return accept_next();
        }
        // To another loop: the descriptor leaves this loop's reactor here and joins the other's on
        // that loop's thread.
        beast::error_code lec;
        const auto protocol = socket.local_endpoint(lec).protocol();
        const int fd = lec ? -1 : socket.release(lec);
        if (lec || fd < 0) {
          give_back_slots();
          refuse("handoff_failed");
          return accept_next();
        }
        asio::post(loop, [self, &loop, fd, protocol, name, give_back_slots,
                          serve = std::move(serve)]() mutable {
          tcp::socket s(loop);
          beast::error_code aec;
          s.assign(protocol, fd, aec);
          if (aec) {
            ::close(fd);
            give_back_slots();
            self->rejected.with({name, "handoff_failed"}).inc();
            return;
          }
          serve(std::move(s));
        });
        accept_next();
      });
}

void Server::Impl::begin_shutdown() {
  if (is_draining.exchange(true)) return;
  log::info("server.draining", {{"grace_ms", options.config.shutdown_grace.count()}});
  asio::post(ioc, [self = shared_from_this()] {
    for (auto& l : self->listeners) {
      if (l.open_while_draining) continue;
      beast::error_code ignored;
      l.acceptor->close(ignored);
    }
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(self->sessions_mu);
      for (auto& [id, w] : self->sessions)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->drain();
    self->poll_drain(std::chrono::steady_clock::now() + self->options.config.shutdown_grace);
  });
}

void Server::Impl::poll_drain(std::chrono::steady_clock::time_point deadline) {
  if (open.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
    for (auto& l : listeners) {
      beast::error_code ignored;
      l.acceptor->close(ignored);
    }
    if (open.load() != 0) log::warn("server.drain_deadline", {{"connections_left", open.load()}});
    stop_loops();
    return;
  }
  drain_timer.emplace(ioc, std::chrono::milliseconds(20));
  drain_timer->async_wait(
      [self = shared_from_this(), deadline](beast::error_code) { self->poll_drain(deadline); });
}

Server::Server(ServerOptions options, obs::Registry& metrics)
    : loops_(std::make_unique<Loops>()),
      impl_(std::make_shared<Impl>(std::move(options), metrics, *loops_)) {
  for (int i = 1; i < std::max(1, impl_->options.config.threads); ++i) {
    loops_->extra.push_back(std::make_unique<Loops::Loop>());
    impl_->keep_running.push_back(asio::make_work_guard(*loops_->extra.back()));
  }
}

Server::~Server() {
  impl_->stop_loops();
  join_workers();
  // Handlers still queued hold sessions and the Impl. They are destroyed on every loop before
  // any loop is: an accept queued on loop 0 holds a socket of another loop, and the Impl's
  // acceptors live on loop 0. Then the Impl goes, and the loops last.
  loops_->destroy_handlers();
  impl_.reset();
  loops_.reset();
}

void Server::join_workers() {
  if (impl_->workers_joined.exchange(true)) return;
  impl_->workers.join();
}

Result<config::Endpoint, std::string> Server::listen(std::string name, const config::Endpoint& at,
                                                     std::shared_ptr<const Router> router,
                                                     bool tls) {
  if (tls && !impl_->current_tls()) {
    const auto& c = impl_->options.config;
    auto ctx = make_tls_context(c.tls_cert_file, c.tls_key_file, impl_->tickets);
    if (!ctx) return unexpected(ctx.error());
    std::lock_guard lock(impl_->tls_mu);
    impl_->tls = *ctx;
  }
  beast::error_code ec;
  auto host = at.host == "localhost" ? std::string("127.0.0.1") : at.host;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return unexpected("cannot listen on " + at.to_string() + ": bad address");
  tcp::endpoint ep(addr, at.port);
  auto acc = std::make_shared<tcp::acceptor>(impl_->ioc);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return unexpected("cannot listen on " + at.to_string() + ": " + ec.message());
  auto bound = acc->local_endpoint();
  config::Endpoint actual{at.host, bound.port()};
  impl_->listeners.push_back(Impl::Listener{acc, name == "admin"});
  auto slots = std::make_shared<Impl::Slots>();
  slots->cap = name == "admin" ? impl_->options.config.admin_max_connections
                               : impl_->options.config.max_connections;
  impl_->start_accept(name, acc, std::move(slots), std::move(router), tls);
  log::info("server.listening",
            {{"listener", name}, {"address", actual.to_string()}, {"tls", tls}});
  return actual;
}

void Server::run() {
  std::vector<std::thread> threads;
  for (auto& loop : impl_->extra_loops) threads.emplace_back([&l = *loop] { l.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::shutdown() { impl_->begin_shutdown(); }

std::vector<asio::io_context*> Server::event_loops() {
  std::vector<asio::io_context*> loops{&impl_->ioc};
  for (auto& l : impl_->extra_loops) loops.push_back(l.get());
  return loops;
}

void Server::offload(std::function<void()> task) { asio::post(impl_->workers, std::move(task)); }

bool Server::draining() const { return impl_->is_draining.load(); }

Result<void, std::string> Server::reload_tls() {
  const auto& c = impl_->options.config;
  if (c.tls_cert_file.empty()) return {};
  auto ctx = make_tls_context(c.tls_cert_file, c.tls_key_file, impl_->tickets);
  if (!ctx) {
    log::error("tls.reload_failed", {{"reason", ctx.error()}});
    return unexpected(ctx.error());
  }
  {
    std::lock_guard lock(impl_->tls_mu);
    impl_->tls = *ctx;
  }
  log::info("tls.reloaded", {{"cert_file", c.tls_cert_file}});
  return {};
}

}  // namespace authd::http
