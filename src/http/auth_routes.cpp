#include "authd/http/auth_routes.h"

namespace authd::http {

void add_auth_routes(Router& router, auth::AuthService& service, AuthRoutesOptions options) {
  add_user_routes(router, service, options);
  add_oauth_routes(router, service, options);
  add_browser_routes(router, service, std::move(options));
}

}  // namespace authd::http
