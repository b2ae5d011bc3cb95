#pragma once
// GET /.well-known/jwks.json: the published keys with the validators resource servers cache by
// (ETag, If-None-Match → 304, Cache-Control). The transport knows nothing of the key ring: the
// document comes from a function.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "authd/http/router.h"

namespace authd::http {

/// One published JWKS and its validators, as the key ring built them.
struct JwksDocument {
  std::shared_ptr<const std::string> body;  ///< `{"keys":[...]}`
  std::string etag;                         ///< quoted strong ETag of `body`
  std::string cache_control;
};

/// The current document; called on the I/O thread for every request, so it must not block.
/// The route builds an answer's headers once per document object: return the same object
/// while the document is unchanged.
using JwksSource = std::function<std::shared_ptr<const JwksDocument>()>;

/// Adds GET /.well-known/jwks.json (inline: an in-memory lookup).
void add_jwks_route(Router& router, JwksSource source);

/// Whether an If-None-Match header matches `etag`: "*", or any entry of the comma-separated
/// list under weak comparison (RFC 9110 §13.1.2: a W/ prefix is ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace authd::http
