#pragma once
// Redirect URIs: what a client may register, and whether a presented one is registered.

#include <string>
#include <string_view>
#include <vector>

namespace authd::auth::redirect_uri {

/// Whether `uri` may be registered: absolute, no fragment, no user info, and https, or http on
/// a loopback address or localhost (native and development apps), or a private-use scheme
/// with a dot in it (RFC 8252 §7.1, "com.example.app:/callback").
bool registrable(std::string_view uri);

/// Whether `presented` equals one of `registered` exactly (RFC 6749 §3.1.2.3, no prefix or
/// wildcard matching), except that for http://127.0.0.1 and http://[::1] the port is ignored
/// (RFC 8252 §7.3: native apps listen on an ephemeral port). Never for "localhost", which a
/// hostile resolver or hosts file may point elsewhere (RFC 8252 §8.3).
bool matches(const std::vector<std::string>& registered, std::string_view presented);

}  // namespace authd::auth::redirect_uri
