#include "http/request_head.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "authd/core/text.h"

namespace authd::http {

namespace bhttp = boost::beast::http;

std::optional<HeadRefusal> RequestParser::refusal() const {
  if (!known_method_)
    return HeadRefusal{501, "not_implemented", "This method is not supported.", "method"};
  if (transfer_encodings_ > 0) {
    const bool chunked_only = transfer_encodings_ == 1 && first_transfer_encoding_is_chunked_;
    if (!chunked_only || content_lengths_ > 0)
      return HeadRefusal{400, "invalid_request", "Unsupported Transfer-Encoding.",
                         "transfer_encoding"};
  }
  if (hosts_ > 1 || (hosts_ == 0 && version_ >= 11))
    return HeadRefusal{400, "invalid_request", "A request needs exactly one Host header.", "host"};
  return std::nullopt;
}

std::string_view RequestParser::method_label() const {
  return known_method_ ? std::string_view(request_.method) : std::string_view("OTHER");
}

void RequestParser::on_request_impl(bhttp::verb method, string_view method_str, string_view target,
                                    int version, error_code&) {
  known_method_ = method != bhttp::verb::unknown;
  version_ = static_cast<unsigned>(version);
  request_.method.assign(method_str.data(), method_str.size());
  request_.target.assign(target.data(), target.size());
  const std::string_view t(request_.target);
  const auto q = t.find('?');
  request_.path = t.substr(0, q);
  if (q != std::string_view::npos) request_.query = t.substr(q + 1);
  request_.headers.reserve(16);
}

void RequestParser::on_field_impl(bhttp::field name, string_view name_string, string_view value,
                                  error_code&) {
  switch (name) {
    case bhttp::field::host:
      ++hosts_;
      break;
    case bhttp::field::content_length:
      ++content_lengths_;
      break;
    case bhttp::field::transfer_encoding:
      if (transfer_encodings_++ == 0)
        first_transfer_encoding_is_chunked_ = boost::beast::iequals(
            trim_ows(std::string_view(value.data(), value.size())), "chunked");
      break;
    default:
      break;
  }
  request_.headers.push_back(Header{std::string(name_string.data(), name_string.size()),
                                    std::string(value.data(), value.size())});
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      error_code&) {
  // Within body_limit: the parser checked the length before the body began.
  if (content_length) request_.body.reserve(static_cast<std::size_t>(*content_length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code&) {
  request_.body.append(body.data(), body.size());
  return body.size();
}

// A chunk's bytes join the body as unchunked bytes do: the parser has already taken the framing.
std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return on_body_impl(body, ec);
}

}  // namespace authd::http
