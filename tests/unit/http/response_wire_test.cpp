#include "http/response_wire.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

TEST(ResponseWireTest, KeepAliveAnswerIsStatusLineHeadersLengthAndBody) {
  Response r = Response::json(200, R"({"status":"ok"})");
  r.set_header("X-Request-Id", "abc");
  std::string out;
  write_response(out, r, 11, true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: abc\r\n"
            "Content-Length: 15\r\n\r\n{\"status\":\"ok\"}");
}

TEST(ResponseWireTest, ConnectionHeaderSaysWhatTheVersionNeeds) {
  const Response r = Response::text(404, "");
  std::string out;
  write_response(out, r, 11, false);
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos) << out;
  write_response(out, r, 10, true);
  EXPECT_EQ(out.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << out;
  write_response(out, r, 11, true);
  EXPECT_EQ(out.find("Connection:"), std::string::npos) << out;
}

// A 304 to a conditional JWKS request, or a 204, carries no body and no Content-Length: a
// client would otherwise wait for bytes that never come.
TEST(ResponseWireTest, NotModifiedAndNoContentHaveNoLengthAndNoBody) {
  for (int status : {204, 304}) {
    Response r;
    r.status = status;
    r.body = "ignored";
    r.set_header("ETag", "\"k1\"");
    std::string out;
    write_response(out, r, 11, true);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n") << out;
  }
}

TEST(ResponseWireTest, LineBreaksInHeaderValuesCannotSplitTheHead) {
  Response r = Response::text(302, "");
  r.set_header("Location", "https://app.example/cb?x=1\r\nSet-Cookie: stolen=1");
  std::string out;
  write_response(out, r, 11, true);
  EXPECT_EQ(out.find("\r\nSet-Cookie"), std::string::npos) << out;
  EXPECT_NE(out.find("Location: https://app.example/cb?x=1Set-Cookie: stolen=1\r\n"),
            std::string::npos)
      << out;
}

TEST(ResponseWireTest, TheBufferIsReusedAcrossAnswers) {
  std::string out;
  write_response(out, Response::json(200, std::string(2000, 'x')), 11, true);
  const auto capacity = out.capacity();
  write_response(out, Response::json(200, "{}"), 11, true);
  EXPECT_EQ(out.capacity(), capacity);
  EXPECT_EQ(out.substr(out.size() - 6), "\r\n\r\n{}");
}

// What the transport adds goes after the handler's headers, and only where the handler set
// none of its own: its caching and its Content-Type are kept.
TEST(ResponseWireTest, TransportHeadersFollowTheHandlersAndKeepItsChoices) {
  Response r = Response::json(200, "{}");
  r.set_header("Cache-Control", "public, max-age=300");
  std::string out;
  write_response(out, r, 11, true, TransportHeaders(r, "rid-1"));
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Cache-Control: public, max-age=300\r\nServer: authd\r\n"
            "X-Content-Type-Options: nosniff\r\nX-Request-Id: rid-1\r\n"
            "Content-Length: 2\r\n\r\n{}");
}

TEST(ResponseWireTest, AnUntypedBodyIsOctetStreamAndNotCachedAndTlsGetsHsts) {
  Response r;
  r.body = "x";
  std::string out;
  write_response(out, r, 11, true, TransportHeaders(r, "rid-2", /*tls=*/true));
  EXPECT_NE(out.find("\r\nStrict-Transport-Security: max-age=31536000\r\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\r\nContent-Type: application/octet-stream\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nCache-Control: no-store\r\n"), std::string::npos) << out;
  Response empty;
  empty.status = 204;
  write_response(out, empty, 11, true, TransportHeaders(empty, "rid-3"));
  EXPECT_EQ(out.find("Strict-Transport-Security"), std::string::npos) << out;
  EXPECT_EQ(out.find("\r\nContent-Type"), std::string::npos) << "no body, no type: " << out;
}

// In-process tests see the same headers on the Response as a client on the wire.
TEST(ResponseWireTest, AddTransportHeadersAppendsWhatTheWireWouldCarry) {
  Response r = Response::json(200, "{}");
  add_transport_headers(r, "rid-4");
  EXPECT_EQ(r.header("x-request-id"), "rid-4");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("server"), "authd");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.headers.size(), 5u);
}

// A document shared by many answers (the JWKS) is sent as if it were the answer's own body.
TEST(ResponseWireTest, ASharedBodyIsSentWithItsLengthAndClearedForHead) {
  Response r = Response::json(200, "");
  r.shared_body = std::make_shared<const std::string>(R"({"keys":[]})");
  std::string out;
  write_response(out, r, 11, true, TransportHeaders(r, "rid-5"));
  EXPECT_NE(out.find("\r\nContent-Length: 11\r\n\r\n{\"keys\":[]}"), std::string::npos) << out;
  r.clear_body();
  write_response(out, r, 11, true);
  EXPECT_NE(out.find("\r\nContent-Length: 0\r\n\r\n"), std::string::npos) << out;
}

TEST(ResponseWireTest, LineBreaksAreDroppedAnywhereInAHeader) {
  Response r;
  r.set_header("X-\rA", "\n1\r\n2\n");
  std::string out;
  write_response(out, r, 11, true);
  EXPECT_NE(out.find("\r\nX-A: 12\r\n"), std::string::npos) << out;
}

// The transport's headers go to the wire unchecked, so the one value that comes from outside
// (the request id) must be clean or absent: a line break in it would split the head.
TEST(ResponseWireTest, ARequestIdWithALineBreakIsLeftOutOfTheTransportHeaders) {
  const Response r = Response::json(200, "{}");
  for (const char* id : {"rid\r\nSet-Cookie: a=b", "rid\nX: y", "rid\rX: y"}) {
    std::string out;
    write_response(out, r, 11, true, TransportHeaders(r, id));
    EXPECT_EQ(out.find("X-Request-Id"), std::string::npos) << out;
    EXPECT_EQ(out.find("\r\n\r\n"), out.size() - 6) << "the head ends once, before the body";
    EXPECT_NE(out.find("\r\nServer: authd\r\n"), std::string::npos) << "the others stay";
  }
}

// Status lines come from a table built once (100 to 599); others are still written.
TEST(ResponseWireTest, EveryStatusGetsItsLineInEitherVersion) {
  std::string out;
  write_response(out, Response::json(201, "{}"), 10, true);
  EXPECT_EQ(out.rfind("HTTP/1.0 201 Created\r\n", 0), 0u) << out;
  write_response(out, Response::json(429, "{}"), 11, true);
  EXPECT_EQ(out.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u) << out;
  write_response(out, Response::json(100, ""), 11, true);
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << out;
  write_response(out, Response::json(599, "{}"), 11, true);
  EXPECT_EQ(out.rfind("HTTP/1.1 599 ", 0), 0u) << out;
  write_response(out, Response::json(600, "{}"), 11, true);
  EXPECT_EQ(out.rfind("HTTP/1.1 600 ", 0), 0u) << out;
}

// Headers shared by many answers (the JWKS route's) go first, are cleaned once when shared,
// and count for the transport's choices as the answer's own do.
TEST(ResponseWireTest, SharedHeadersGoFirstCleanedOnceAndCountForTheTransport) {
  Response r;
  r.status = 200;
  r.shared_headers = share_headers({{"ETag", "\"v1\"\r\nSet-Cookie: x=y"},
                                    {"Cache-Control", "public, max-age=300"},
                                    {"Content-Type", "application/json"}});
  r.set_header("X-Own", "1");
  r.body = "{}";
  std::string out;
  write_response(out, r, 11, true, TransportHeaders(r, "rid-6"));
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nETag: \"v1\"Set-Cookie: x=y\r\n"
            "Cache-Control: public, max-age=300\r\nContent-Type: application/json\r\n"
            "X-Own: 1\r\nServer: authd\r\nX-Content-Type-Options: nosniff\r\n"
            "X-Request-Id: rid-6\r\nContent-Length: 2\r\n\r\n{}");
}

}  // namespace
}  // namespace authd::http
