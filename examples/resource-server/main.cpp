// A resource server that protects GET /orders with authd access tokens, verified locally by
// authd::verify against the issuer's JWKS (fetched, cached, refreshed by the library).
//
//   resource-server --listen 127.0.0.1:9090 --issuer https://auth.example.com
//                   --audience https://api.example.com [--jwks-uri URL] [--scope orders:read]
//
// Beast here is the example's own choice of HTTP server; the library needs none of it.

#include <authd/verify/jwks_cache.h>
#include <authd/verify/verifier.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Config {
  std::string listen = "127.0.0.1:9090";
  authd::verify::Options verify;
  authd::verify::CacheOptions cache;
  std::string scope;  // required scope for /orders, if any
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

// Request in, response out: no I/O, testable on its own.
http::response<http::string_body> handle(const http::request<http::string_body>& req,
                                         const authd::verify::Verifier& verifier,
                                         const Config& cfg) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  if (req.target() == "/healthz") {
    res.body() = R"({"status":"ok"})";
  } else if (req.target() != "/orders" || req.method() != http::verb::get) {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not_found"})";
  } else {
    const std::string_view auth = req[http::field::authorization];
    const std::string_view prefix = "Bearer ";
    if (auth.size() <= prefix.size() || auth.substr(0, prefix.size()) != prefix) {
      res.result(http::status::unauthorized);
      res.set(http::field::www_authenticate, R"(Bearer realm="orders")");
      res.body() = R"({"error":"invalid_request"})";
    } else if (auto r = verifier.verify(auth.substr(prefix.size())); !r) {
      // RFC 6750 §3: the error code and a description that says nothing about the token.
      res.result(http::status::unauthorized);
      res.set(http::field::www_authenticate,
              std::string(R"(Bearer realm="orders", error="invalid_token", error_description=")") +
                  std::string(authd::verify::message(r.error())) + "\"");
      res.body() = std::string(R"({"error":"invalid_token","reason":")") +
                   std::string(authd::verify::to_string(r.error())) + "\"}";
    } else if (!cfg.scope.empty() && !r->has_scope(cfg.scope)) {
      res.result(http::status::forbidden);
      res.set(http::field::www_authenticate,
              R"(Bearer realm="orders", error="insufficient_scope", scope=")" + cfg.scope + "\"");
      res.body() = R"({"error":"insufficient_scope"})";
    } else {
      res.body() = R"({"orders":[],"sub":")" + json_escape(r->sub) + R"(","kid":")" +
                   json_escape(r->kid) + "\"}";
    }
  }
  res.prepare_payload();
  return res;
}

void serve(tcp::socket socket, const authd::verify::Verifier& verifier, const Config& cfg) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(16 * 1024);
  http::read(socket, buffer, parser, ec);
  if (ec) return;
  auto res = handle(parser.get(), verifier, cfg);
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--listen")
      cfg.listen = value;
    else if (flag == "--issuer")
      cfg.verify.issuer = cfg.cache.issuer = value;
    else if (flag == "--audience")
      cfg.verify.audiences.push_back(value);
    else if (flag == "--jwks-uri")
      cfg.cache.jwks_uri = value;
    else if (flag == "--scope")
      cfg.scope = value;
    else if (flag == "--typ")
      cfg.verify.typ = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (cfg.verify.issuer.empty() || cfg.verify.audiences.empty()) {
    std::cerr << "usage: resource-server --issuer URL --audience AUD [--listen HOST:PORT]"
                 " [--jwks-uri URL] [--scope SCOPE] [--typ TYP]\n";
    return 2;
  }
  cfg.cache.on_event = [](const authd::verify::CacheEventInfo& e) {
    if (e.event == authd::verify::CacheEvent::kRefetchSuppressed) return;  // a flood: count only
    std::cout << "jwks " << authd::verify::to_string(e.event) << " " << e.url << " " << e.status
              << " " << e.detail << std::endl;
  };
  auto keys = std::make_shared<authd::verify::JwksCache>(cfg.cache);
  const authd::verify::Verifier verifier(cfg.verify, keys);

  const auto colon = cfg.listen.rfind(':');
  boost::asio::io_context ioc;
  tcp::acceptor acceptor(ioc,
                         {boost::asio::ip::make_address(cfg.listen.substr(0, colon)),
                          static_cast<unsigned short>(std::atoi(cfg.listen.c_str() + colon + 1))});
  std::cout << "listening on " << acceptor.local_endpoint().port() << std::endl;
  for (;;) {
    tcp::socket socket(ioc);
    acceptor.accept(socket);
    std::thread(serve, std::move(socket), std::cref(verifier), std::cref(cfg)).detach();
  }
}
