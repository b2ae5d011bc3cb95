// The transport's request parser: what a handler gets from the bytes of a request (headers in
// order, target split, bodies framed by length or by chunks), whether the connection stays
// open, and which heads are refused before their body is read.

#include "http/request_head.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace authd::http {
namespace {

// Feeds `wire` whole; the parser's error, if any, in `ec`.
void feed(RequestParser& parser, std::string_view wire, boost::beast::error_code& ec) {
  parser.eager(true);
  while (!wire.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (ec) return;
    wire.remove_prefix(used);
    if (used == 0) return;
  }
}

RequestParser parsed(std::string_view wire) {
  RequestParser parser;
  boost::beast::error_code ec;
  feed(parser, wire, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser;
}

TEST(RequestParserTest, AHandlerGetsTheTargetSplitAndTheHeadersInOrder) {
  RequestParser parser = parsed(
      "GET /authorize?client_id=app&x=1 HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.2.3.4"
      "\r\nx-forwarded-for:  5.6.7.8 \r\nAccept: */*\r\n\r\n");
  EXPECT_FALSE(parser.refusal());
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_EQ(parser.version(), 11u);
  EXPECT_EQ(parser.method_label(), "GET");
  const Request& r = parser.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/authorize?client_id=app&x=1");
  EXPECT_EQ(r.path, "/authorize");
  EXPECT_EQ(r.query, "client_id=app&x=1");
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[0].name, "Host");
  EXPECT_EQ(r.headers[2].name, "x-forwarded-for");
  EXPECT_EQ(r.headers[2].value, "5.6.7.8") << "surrounding whitespace is not part of a value";
  EXPECT_EQ(r.header_list("X-Forwarded-For"), "1.2.3.4, 5.6.7.8");
  EXPECT_TRUE(r.body.empty());
}

TEST(RequestParserTest, BodiesAreFramedByLengthOrByChunks) {
  RequestParser by_length =
      parsed("POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n\r\n{\"email\":\"x\"}");
  EXPECT_FALSE(by_length.refusal());
  EXPECT_EQ(by_length.request().body, "{\"email\":\"x\"}");
  RequestParser chunked = parsed(
      "POST /token HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\ngrant\r\n6;ext=1\r\n_type=\r\n0\r\n\r\n");
  EXPECT_FALSE(chunked.refusal());
  EXPECT_EQ(chunked.request().body, "grant_type=");
}

TEST(RequestParserTest, TheConnectionStaysOpenAsTheVersionAndConnectionHeaderSay) {
  EXPECT_FALSE(parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive());
  EXPECT_FALSE(parsed("GET / HTTP/1.0\r\n\r\n").keep_alive());
  RequestParser old_kept = parsed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(old_kept.keep_alive());
  EXPECT_EQ(old_kept.version(), 10u);
  EXPECT_FALSE(old_kept.refusal()) << "HTTP/1.0 needs no Host";
}

// A defect of the Beast message the transport used to read keep-alive from: its keep_alive()
// reads the first Connection header only, so a second one saying "close" was ignored and the
// connection kept open against the client's wish. The parser reads every Connection header.
TEST(RequestParserTest, ASecondConnectionHeaderSayingCloseIsHeard) {
  RequestParser parser =
      parsed("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-custom\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(parser.keep_alive());
}

// Request smuggling: a body whose length two parties could read differently is never read.
// Beast's grammar rejects some heads itself (answered 400 as malformed); the rest are refused.
TEST(RequestParserTest, HeadsWhoseBodyLengthIsUncertainAreRefused) {
  for (const std::string_view head :
       {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"}) {
    RequestParser parser;
    boost::beast::error_code ec;
    feed(parser, head, ec);
    ASSERT_FALSE(ec) << head << ec.message();
    ASSERT_TRUE(parser.is_header_done()) << head;
    const auto refusal = parser.refusal();
    ASSERT_TRUE(refusal) << head;
    EXPECT_EQ(refusal->status, 400);
    EXPECT_STREQ(refusal->reason, "transfer_encoding");
  }
  for (const std::string_view head :
       {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
        "\r\n\r\n"}) {
    RequestParser parser;
    boost::beast::error_code ec;
    feed(parser, head, ec);
    EXPECT_TRUE(ec) << head;
    EXPECT_FALSE(parser.is_header_done()) << head;
  }
  RequestParser plain_chunked =
      parsed("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n0\r\n\r\n");
  EXPECT_FALSE(plain_chunked.refusal()) << "exactly chunked, in any case and spacing, is fine";
}

TEST(RequestParserTest, AnHttp11RequestNeedsExactlyOneHost) {
  for (const std::string_view head :
       {"GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"}) {
    const auto refusal = parsed(head).refusal();
    ASSERT_TRUE(refusal) << head;
    EXPECT_EQ(refusal->status, 400);
    EXPECT_STREQ(refusal->reason, "host");
  }
}

TEST(RequestParserTest, AnUnknownMethodIsAnswered501AndNeverLabelledByName) {
  RequestParser parser = parsed("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto refusal = parser.refusal();
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 501);
  EXPECT_EQ(parser.method_label(), "OTHER");
}

}  // namespace
}  // namespace authd::http
