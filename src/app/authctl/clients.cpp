// authctl client ...: OAuth clients, their secrets or keys, redirect URIs and policy.

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/authctl/authctl.h"
#include "app/client_jwks.h"
#include "app/components.h"
#include "authd/auth/client_secret.h"
#include "authd/auth/protocol.h"
#include "authd/auth/redirect_uri.h"
#include "authd/auth/service.h"
#include "authd/jose/key.h"

namespace authd::authctl {
namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

/// A new secret for `cl`: generated here (256 bits; a human-chosen secret is never accepted),
/// stored as a keyed digest under the server pepper, and printed once.
Result<std::string, std::string> new_client_secret(Ctx& c, auth::Client& cl) {
  auto pepper = app::load_pepper(c.cfg);
  if (!pepper) return unexpected(pepper.error().message);
  const std::string secret = auth::ClientSecretCodec::generate(c.random);
  cl.secret_hash = auth::ClientSecretCodec(*pepper).store_hash(cl.id, secret);
  return secret;
}

void print_secret_once(const std::string& secret) {
  std::cout << "client_secret: " << secret << "\n"
            << "(shown once: authd keeps only a keyed hash of it)\n";
}

/// Every replica drops its cached copy of the client (within a second, through Redis).
void client_changed(Ctx& c, const std::string& id) {
  nlohmann::json event = {{"type", "client_changed"}, {"client_id", id}};
  notify_replicas(c.cfg, event.dump(),
                  "replicas see the change when their cached copy expires (auth client cache)");
}

/// Parses the policy options of `client add` and `client update` from a[i...] into `cl`.
/// Returns an error message, or "".
std::string client_options(const std::vector<std::string>& a, std::size_t i, auth::Client& cl,
                           bool* secret) {
  auto seconds = [](const std::string& v, long max, long& out) {
    char* end = nullptr;
    out = std::strtol(v.c_str(), &end, 10);
    return !v.empty() && *end == '\0' && out >= 0 && out <= max;
  };
  for (; i < a.size(); ++i) {
    const bool has_value = i + 1 < a.size();
    long n = 0;
    if (a[i] == "--secret" && secret) {
      *secret = true;
    } else if (a[i] == "--grants" && has_value) {
      cl.grant_types = split(a[++i]);
    } else if (a[i] == "--scopes" && has_value) {
      cl.scopes = split(a[++i]);
    } else if (a[i] == "--origins" && has_value) {
      cl.allowed_origins = split(a[++i]);
    } else if (a[i] == "--permissions" && has_value) {
      cl.permissions = split(a[++i]);
    } else if (a[i] == "--jwk" && has_value) {
      // private_key_jwt: the client's public key; a private one is refused (it stays with
      // the client).
      std::ifstream f(a[++i]);
      if (!f) return "cannot read " + a[i];
      const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto key = jose::Key::from_jwk(text);
      if (!key) return a[i] + " is not a usable JWK (RS256, ES256 or EdDSA)";
      if ((*key)->has_private()) return a[i] + " holds a private key: register the public JWK only";
      cl.jwk = (*key)->public_jwk().dump();
      cl.jwks_uri.clear();
    } else if (a[i] == "--jwks-uri" && has_value) {
      // private_key_jwt with keys the client publishes (and rotates) itself.
      if (!app::jwks_uri_registrable(a[++i]))
        return "--jwks-uri must be an https URL without credentials or fragment (http only on a "
               "loopback host, fetched only with auth.client_jwks_allow_loopback_http)";
      cl.jwks_uri = a[i];
      cl.jwk.clear();
    } else if (a[i] == "--redirect-uris" && has_value) {
      cl.redirect_uris = split(a[++i]);
    } else if (a[i] == "--post-logout-uris" && has_value) {
      cl.post_logout_redirect_uris = split(a[++i]);
    } else if (a[i] == "--audiences" && has_value) {
      cl.audiences = split(a[++i]);
    } else if (a[i] == "--access-ttl" && has_value) {
      if (!seconds(a[++i], 86400, n))
        return "--access-ttl must be a number of seconds in [0, 86400] (0: auth.access_ttl)";
      cl.access_ttl_seconds = n;
    } else if (a[i] == "--grace" && has_value) {
      if (!seconds(a[++i], 60, n)) return "--grace must be a number of seconds in [0, 60]";
      cl.refresh_grace_seconds = n;
    } else {
      return "unknown or incomplete option " + a[i];
    }
  }
  for (const auto& g : cl.grant_types)
    if (!auth::protocol::supports(auth::protocol::kGrantTypes, g))
      return "unknown grant type '" + g +
             "' (authorization_code, refresh_token, client_credentials, password)";
  for (const auto* list : {&cl.redirect_uris, &cl.post_logout_redirect_uris})
    for (const auto& u : *list)
      if (!auth::redirect_uri::registrable(u))
        return "'" + u +
               "' cannot be registered: an absolute https URI, http on loopback, or an app's "
               "private-use scheme (com.example.app:/cb), without a fragment";
  const bool wants_code = std::find(cl.grant_types.begin(), cl.grant_types.end(),
                                    "authorization_code") != cl.grant_types.end();
  if (wants_code && cl.redirect_uris.empty())
    return "the authorization_code grant needs --redirect-uris";
  for (const auto& p : cl.permissions)
    if (p != auth::kPermissionIntrospect) return "unknown permission '" + p + "' (introspect)";
  const bool confidential = cl.confidential() || (secret && *secret);
  const bool wants_cc = std::find(cl.grant_types.begin(), cl.grant_types.end(),
                                  "client_credentials") != cl.grant_types.end();
  if ((wants_cc || !cl.permissions.empty()) && !confidential)
    return "client_credentials and permissions need a confidential client (--secret)";
  return "";
}

void print_client(const auth::Client& cl) {
  std::cout << "id\t" << cl.id << "\n"
            << "type\t" << (cl.confidential() ? "confidential" : "public") << "\n"
            << "grants\t" << joined(cl.grant_types) << "\n"
            << "scopes\t" << joined(cl.scopes) << "\n"
            << "audiences\t" << joined(cl.audiences) << "\n"
            << "permissions\t" << joined(cl.permissions) << "\n"
            << "origins\t" << joined(cl.allowed_origins) << "\n"
            << "redirect_uris\t" << joined(cl.redirect_uris) << "\n"
            << "post_logout_uris\t" << joined(cl.post_logout_redirect_uris) << "\n"
            << "refresh_grace\t" << cl.refresh_grace_seconds << "s\n"
            << "access_ttl\t"
            << (cl.access_ttl_seconds > 0 ? std::to_string(cl.access_ttl_seconds) + "s"
                                          : std::string("auth.access_ttl"))
            << "\n"
            << "auth_method\t"
            << (cl.uses_assertions()
                    ? "private_key_jwt"
                    : (cl.confidential() ? "client_secret_basic, client_secret_post"
                                         : "none (public)"))
            << "\n"
            << "jwks_uri\t" << (cl.jwks_uri.empty() ? std::string("-") : cl.jwks_uri) << "\n"
            << "previous_secret_until\t"
            << (cl.previous_secret_hash.empty() ? std::string("-")
                                                : iso(cl.previous_secret_expires_at))
            << "\n"
            << "created\t" << iso(cl.created_at) << "\n";
}

/// OAuth clients: add (never replacing), update, delete, show, list, rotate-secret. --secret
/// makes a client confidential (it must authenticate wherever it is named); authd generates
/// the secret. Every change is announced to running replicas.
}  // namespace

int client_cmd(Ctx& c, std::vector<std::string> a) {
  auto& clients = c.db->clients();
  if (a.size() == 1 && a[0] == "list") {
    auto list = clients.list();
    if (!list) return fail(list.error().message);
    std::cout << "ID\tTYPE\tGRANTS\tSCOPES\tORIGINS\tGRACE\tPERMISSIONS\n";
    for (const auto& cl : *list)
      std::cout << cl.id << "\t" << (cl.confidential() ? "confidential" : "public") << "\t"
                << joined(cl.grant_types) << "\t" << joined(cl.scopes) << "\t"
                << joined(cl.allowed_origins) << "\t" << cl.refresh_grace_seconds << "s\t"
                << joined(cl.permissions) << "\n";
    return 0;
  }
  if (a.size() < 2) return fail(kUsage, 2);
  const std::string& verb = a[0];
  const std::string& id = a[1];
  if (verb == "add") {
    auth::Client cl;
    cl.id = id;
    if (cl.id.empty() || cl.id.size() > 128) return fail("a client id has 1 to 128 characters", 2);
    cl.grant_types = {"password", "refresh_token"};
    bool secret = false;
    if (auto e = client_options(a, 2, cl, &secret); !e.empty()) return fail(e, 2);
    std::string generated;
    if (secret) {
      auto s = new_client_secret(c, cl);
      if (!s) return fail(s.error());
      generated = std::move(*s);
    }
    cl.created_at = c.clock.now_unix();
    if (auto r = clients.create(cl); !r) {
      if (r.error().code == store::Errc::kConflict)
        return fail("client " + cl.id + " exists; change it with `client update`");
      return fail(r.error().message);
    }
    audit_client(c, "created", cl.id);
    std::cout << "client " << cl.id << " (" << (secret ? "confidential" : "public") << ")\n";
    if (secret) print_secret_once(generated);
    return 0;
  }
  auto found = clients.find(id);
  if (!found) return fail(found.error().message);
  if (!found->has_value()) return fail("no client " + id);
  auth::Client cl = **found;
  if (verb == "show" && a.size() == 2) {
    print_client(cl);
    return 0;
  }
  if (verb == "update") {
    if (auto e = client_options(a, 2, cl, nullptr); !e.empty()) return fail(e, 2);
    if (auto r = clients.upsert(cl); !r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "updated", cl.id);
    std::cout << "client " << cl.id << " updated\n";
    return 0;
  }
  if (verb == "delete" && a.size() == 2) {
    if (cl.id == "authd") return fail("the built-in client authd cannot be deleted", 2);
    auto r = clients.remove(cl.id);
    if (!r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "deleted", cl.id);
    std::cout << "client " << cl.id << " deleted\n";
    return 0;
  }
  if (verb == "rotate-secret") {
    long overlap = 0;
    if (a.size() == 4 && a[2] == "--overlap") {
      char* end = nullptr;
      overlap = std::strtol(a[3].c_str(), &end, 10);
      if (a[3].empty() || *end != '\0' || overlap < 0 || overlap > 7 * 86400)
        return fail("--overlap must be a number of seconds in [0, 604800]", 2);
    } else if (a.size() != 2) {
      return fail(kUsage, 2);
    }
    if (!cl.confidential()) return fail("client " + cl.id + " is public: it has no secret", 2);
    const std::string previous = cl.secret_hash;
    auto secret = new_client_secret(c, cl);
    if (!secret) return fail(secret.error());
    cl.previous_secret_hash = overlap > 0 ? previous : std::string();
    cl.previous_secret_expires_at = overlap > 0 ? c.clock.now_unix() + overlap : 0;
    if (auto r = clients.upsert(cl); !r) return fail(r.error().message);
    client_changed(c, cl.id);
    audit_client(c, "secret_rotated", cl.id);
    if (overlap > 0)
      std::cout << "client " << cl.id << ": new secret; the old one works until "
                << iso(cl.previous_secret_expires_at) << "\n";
    else
      std::cout << "client " << cl.id << ": new secret; the old one no longer works\n";
    print_secret_once(*secret);
    return 0;
  }
  return fail(kUsage, 2);
}

}  // namespace authd::authctl
