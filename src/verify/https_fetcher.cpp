// The default JWKS fetcher: one HTTP/1.1 GET over TLS (or plain HTTP to loopback), with a
// deadline for the whole exchange. Beast and Asio stay in this file: the public headers and
// the rest of the library know only the Fetcher std::function.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <exception>
#include <memory>
#include <optional>

#include "authd/verify/jwks_cache.h"

namespace authd::verify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;

struct Url {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;
};

std::optional<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  std::string port;
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  u.port = port.empty() ? (u.tls ? "443" : "80") : port;
  if (u.host.empty() || u.target.find_first_of("\r\n ") != std::string::npos) return std::nullopt;
  return u;
}

bool loopback_name(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const Url& u, const Headers& headers,
                               std::size_t max_body, HttpResponse& out) {
  http::request<http::empty_body> req{http::verb::get, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "authd-verify");
  req.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) {
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      continue;  // never let a stored ETag split the request
    req.set(name, value);
  }
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  parser.header_limit(16 * 1024);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& field : res)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
}

asio::awaitable<void> get(Url u, Headers headers, FetcherOptions opt,
                          std::shared_ptr<ssl::context> tls, HttpResponse& out) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  const auto endpoints = co_await resolver.async_resolve(u.host, u.port, asio::use_awaitable);
  if (!u.tls) {
    // Plain HTTP only where nothing can sit between us and the issuer.
    for (const auto& e : endpoints)
      if (!e.endpoint().address().is_loopback()) {
        out.error = "plain http is allowed to loopback addresses only";
        co_return;
      }
    beast::tcp_stream stream(ex);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_await exchange(stream, u, headers, opt.max_body_bytes, out);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
    out.error = "TLS: cannot set SNI";
    co_return;
  }
  stream.set_verify_callback(ssl::host_name_verification(u.host));
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  co_await exchange(stream, u, headers, opt.max_body_bytes, out);
  // No TLS close_notify wait: the response is complete, and the deadline bounds everything.
}

}  // namespace

Fetcher https_fetcher(FetcherOptions options) {
  std::shared_ptr<ssl::context> tls;
  std::string setup_error;
  try {
    tls = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    tls->set_verify_mode(ssl::verify_peer);
    if (options.ca_file.empty())
      tls->set_default_verify_paths();
    else
      tls->load_verify_file(options.ca_file);
  } catch (const std::exception& e) {
    setup_error = std::string("TLS setup: ") + e.what();
  }
  return [options, tls, setup_error](const std::string& url, const Headers& headers) {
    HttpResponse out;
    if (!setup_error.empty()) {
      out.error = setup_error;
      return out;
    }
    auto u = parse_url(url);
    if (!u) {
      out.error = "not an http(s) URL";
      return out;
    }
    if (!u->tls && !(options.allow_loopback_http && loopback_name(u->host))) {
      out.error = "plain http is allowed to loopback addresses only";
      return out;
    }
    try {
      asio::io_context ioc(1);
      bool done = false;
      std::string failure;
      asio::co_spawn(ioc, get(*u, headers, options, tls, out), [&](std::exception_ptr e) {
        done = true;
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const boost::system::system_error& se) {
          failure = se.code().message();
        } catch (const std::exception& ex) {
          failure = ex.what();
        }
      });
      ioc.run_for(options.timeout);
      if (!done) {
        ioc.stop();
        HttpResponse timed_out;
        timed_out.error = "timed out";
        return timed_out;  // ioc's destructor frees the suspended coroutine and its sockets
      }
      if (!failure.empty()) {
        HttpResponse failed;
        failed.error = failure;
        return failed;
      }
    } catch (const std::exception& e) {
      HttpResponse failed;
      failed.error = e.what();
      return failed;
    }
    return out;
  };
}

}  // namespace authd::verify
