#pragma once
// The auth domain's façade: login, refresh-token rotation with reuse detection, logout,
// sessions, bearer authentication and the OAuth token endpoint's work. No transport, no SQL:
// stores, keys and clock come in as interfaces. Each use case lives in its own file under
// src/auth/ (login, refresh, sessions, token_endpoint, introspection); this class wires them.
// All methods are thread-safe and may block (password hashing, store I/O): call them from the
// worker pool, never from an I/O thread, except refresh_async().

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "authd/auth/audit.h"
#include "authd/auth/authorization.h"
#include "authd/auth/client_store.h"
#include "authd/auth/code_store.h"
#include "authd/auth/errors.h"
#include "authd/auth/rate_limiter.h"
#include "authd/auth/refresh_token.h"
#include "authd/auth/revocation.h"
#include "authd/auth/session_store.h"
#include "authd/auth/settings.h"
#include "authd/auth/token_keys.h"
#include "authd/auth/user_store.h"
#include "authd/core/clock.h"
#include "authd/crypto/keyed_hash.h"

namespace authd::auth {
namespace detail {
struct Context;
class Login;
class Refresh;
class Sessions;
class TokenEndpoint;
class Introspection;
class Authorization;
}  // namespace detail

/// Who calls the token endpoint (RFC 6749 §2.3): HTTP Basic or body credentials.
struct ClientAuthRequest {
  std::string client_id;  ///< "" = the default public client "authd"
  std::string client_secret;
  std::string ip{};          ///< the caller's address, for the per-IP limit
  std::string request_id{};  ///< for the audit trail
  /// private_key_jwt (RFC 7523 §2.2): the type must be
  /// "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"; then no secret is allowed.
  std::string client_assertion_type{};
  std::string client_assertion{};
};

/// /login, /refresh and the token endpoint's password and refresh_token grants name a client.
/// A public client (or none: the default public client "authd", which may log users in and
/// refresh) is named only; a confidential one must have been authenticated by the caller
/// (authenticate_client()), which then sets `client_authenticated`, or the request fails with
/// kInvalidClient before any other work.
///
/// Every grant takes the same per-call policy: `scope` (space-separated) narrows what the
/// client (or, on refresh, the session) was granted, "" = all of it, anything more is
/// kInvalidScope; `audiences` (RFC 8707 resource indicators) pick the token's `aud` among
/// the server's audience and the client's allowed ones, empty = the server's, anything else
/// is kInvalidTarget. The token lives the client's access_ttl_seconds, or auth.access_ttl.
struct LoginRequest {
  std::string email;
  std::string password;
  std::string client_id;  ///< "" = the default public client "authd"
  std::string user_agent;
  std::string ip;
  bool client_authenticated = false;
  std::string scope{};  ///< the session's scope: within "openid offline_access" + the client's
  std::vector<std::string> audiences{};
  std::string request_id{};  ///< for the audit trail
};

struct RefreshRequest {
  std::string refresh_token;
  std::string client_id;  ///< "" = "authd"
  std::string ip;
  bool client_authenticated = false;  ///< see LoginRequest
  std::string scope{};                ///< within the session's scope; it stays as it was
  std::vector<std::string> audiences{};
  /// When the client presented the token (Unix seconds; 0 = now). A request that waited for
  /// the store passes its arrival time, so that a retry of a rotation whose answer was lost
  /// still falls in the grace window however long the wait: it is the same presentation.
  std::int64_t presented_at = 0;
  std::string request_id{};  ///< for the audit trail
};

struct TokenPair {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string refresh_token;
  std::int64_t refresh_expires_in = 0;
  std::string session_id;
  std::string user_id;
  std::string scope;
  /// OpenID Connect: the ID token of an authorization_code grant with scope openid; else "".
  std::string id_token{};
};

/// The identity behind a verified bearer access token.
struct Principal {
  std::string user_id;
  std::string session_id;
  std::string client_id;
  std::string jti;
  std::int64_t expires_at = 0;
  std::vector<std::string> roles;
};

/// Counts of security-relevant outcomes; read by /metrics.
struct Events {
  virtual ~Events() = default;
  virtual void login(bool ok) = 0;
  virtual void refresh(RotateOutcome outcome) = 0;
  virtual void reuse_detected(const Session& family) = 0;  ///< audit: family revoked
  virtual void revoked(const std::string& session_id, std::int64_t until) = 0;  ///< for caches
  /// A password hash (Argon2id) ran: a login, a legacy client secret, or the dummy work for an
  /// unknown account. Client secrets authd generated never cost one.
  virtual void password_hashed() {}
  /// An access token was issued, by grant (password, refresh_token, client_credentials,
  /// authorization_code) to a registered client.
  virtual void token_issued(std::string_view /*grant*/, const std::string& /*client_id*/) {}
  /// Password hashes wait for a slot in order of arrival, in a bounded queue: its depth after
  /// each change, each hash's wait for its slot (0 when one was free), and each hash refused
  /// because the queue was full (the request is answered 503 with Retry-After).
  virtual void password_hash_queue(std::size_t /*waiting*/) {}
  virtual void password_hash_waited(double /*seconds*/) {}
  virtual void password_hash_rejected() {}
  /// One audit record (authd/auth/audit.h): never a secret. `time` is filled by the service.
  virtual void audit(const AuditEvent& /*event*/) {}
};

/// The digest under which a refresh token is stored (keyed BLAKE2b under the server pepper,
/// bound to its purpose). Public so that operators' tools and tests can find a token's row
/// without the token ever being stored in clear.
std::string refresh_token_store_hash(const crypto::KeyedHasher& pepper, std::string_view token);

class AuthService {
 public:
  struct Deps {
    UserStore& users;
    SessionStore& sessions;
    ClientStore& clients;
    TokenKeys& keys;
    const Clock& clock;
    Random& random;
    crypto::KeyedHasher& token_hasher;       ///< keyed with the server pepper
    Events* events = nullptr;                ///< optional
    RateLimiter* limiter = nullptr;          ///< optional: no limits without it (login)
    RateLimiter* refresh_limiter = nullptr;  ///< optional: limits of /refresh
    /// Optional, shared by all replicas (Redis). When it answers it is trusted; when it cannot
    /// (nullopt) or is absent, bearer checks ask the session store (fail closed).
    RevocationList* revocations = nullptr;
    /// Optional: runs blocking work on a worker pool. refresh_async() needs it.
    std::function<void(std::function<void()>)> offload = nullptr;
    /// Authorization codes. The authorization code flow answers kInternal without it.
    CodeStore* codes = nullptr;
    /// Optional: the key sets of clients registered with a jwks_uri. Without it such a client
    /// cannot authenticate (invalid_client).
    ClientKeySets* client_keys = nullptr;
    /// Optional, shared by all replicas (Redis): decides first whether a client assertion's
    /// jti is new; the store decides when it is absent or cannot answer.
    UsedAssertions* used_assertions = nullptr;
  };
  AuthService(Deps deps, Settings settings);
  ~AuthService();
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  /// Email + password → tokens. Unknown email and wrong password give the same error after
  /// the same amount of hashing work. Disabled accounts get kAccessDenied only after a
  /// correct password, so the flag does not reveal which emails exist.
  AuthResult<TokenPair> login(const LoginRequest& req);

  /// Rotates a refresh token (see SessionStore::rotate). Reuse revokes the family.
  AuthResult<TokenPair> refresh(const RefreshRequest& req);
  using RefreshDone = std::function<void(AuthResult<TokenPair>)>;
  /// Runs a task later on the calling event loop's thread.
  using Resume = std::function<void(std::function<void()>)>;
  /// refresh() for an event loop's thread, which must not block. Returns false, having done
  /// nothing, unless every step before the rotation can run without blocking: the client is
  /// cached, and the rate limiter (if any) is in-process or answers asynchronously (Redis;
  /// that needs `resume`, to carry on here once both limits have answered). Then the rotation
  /// is asynchronous where the store can do that (else it is offloaded), and so is the rest;
  /// the rare paths that write more (reuse, a disabled user) are offloaded. `done` runs
  /// exactly once: on this thread, a worker, or (a refusal by the limits) the limiter's.
  bool refresh_async(const RefreshRequest& req, RefreshDone done, Resume resume = nullptr);

  /// Verifies a bearer access token strictly and checks its family is not revoked.
  AuthResult<Principal> authenticate(std::string_view bearer_token);

  /// Revokes the family of a refresh token (logout from a cookie or body token).
  AuthResult<void> logout_refresh_token(const std::string& refresh_token,
                                        const AuditOrigin& origin = {});
  /// Revokes one family of the principal.
  AuthResult<void> logout(const Principal& who, const AuditOrigin& origin = {});
  /// Revokes every family of the principal's user; returns how many.
  AuthResult<std::size_t> logout_all(const Principal& who, const AuditOrigin& origin = {});
  AuthResult<std::vector<Session>> list_sessions(const Principal& who);
  /// Revokes a session of the principal's user; kNotFound for someone else's session.
  AuthResult<void> delete_session(const Principal& who, const std::string& session_id,
                                  const AuditOrigin& origin = {});

  /// Authenticates a client: first the per-IP limit (before any lookup or hash), then the
  /// secret. Confidential clients (with a secret) must present it; public ones must not. A
  /// secret authd generated is checked as a keyed hash (microseconds), and an unknown client
  /// costs the same keyed hash; a legacy Argon2id secret is checked once with the password
  /// hash (after the per-client limit) and then replaced by its keyed hash. The per-client
  /// limit applies to authenticated clients. A client with a registered JWK authenticates with
  /// a client_assertion instead (private_key_jwt, RFC 7523): signed by its key (strict
  /// verifier, the algorithm from the key), iss = sub = the client, aud the token endpoint or
  /// the issuer, exp at most an hour ahead, iat present, and a jti never seen before on any
  /// replica (recorded in the store until exp). Errors: kInvalidClient, kRateLimited.
  /// `fallback`, if given, is tried when `req` fails as kInvalidClient (the same Basic
  /// credentials read another way); one audit record tells the outcome of both.
  AuthResult<Client> authenticate_client(const ClientAuthRequest& req,
                                         const ClientAuthRequest* fallback = nullptr);

  /// authenticate_client() for the one case that needs no store, no password hash and no
  /// limiter I/O: a confidential client in the cache whose keyed secret matches, with
  /// in-process limits (or none). std::nullopt otherwise, having charged nothing: the caller
  /// then calls authenticate_client() (off the event loop). An event loop may call this.
  std::optional<AuthResult<Client>> authenticate_cached_client(const ClientAuthRequest& req);

  /// The client_credentials grant (RFC 6749 §4.4) for an authenticated client: an access
  /// token with sub = client_id and no session, so no refresh token. `scope` (space-separated)
  /// must be within the client's scopes; empty means all of them. `audiences`: see
  /// LoginRequest.
  AuthResult<TokenPair> client_credentials(const Client& client, const std::string& scope,
                                           const std::vector<std::string>& audiences = {});

  /// RFC 7662 introspection of an access token for an authenticated confidential client with
  /// the "introspect" permission (else kInvalidClient for a public client, kAccessDenied for
  /// a confidential one without it, before the token is looked at): active only when it verifies
  /// strictly and neither its family (sid) nor the token (jti) is revoked. Refresh tokens are
  /// opaque to everyone but authd: never active here. Returns the claims to report, or nullopt for
  /// "active": false.
  AuthResult<std::optional<nlohmann::json>> introspect(const Client& caller,
                                                       std::string_view token);

  /// RFC 7009 revocation by an authenticated client of a token issued to it: a refresh token
  /// ends its family; an access token is revoked by jti on every replica. Unknown, invalid
  /// or expired tokens succeed (§2.2); another client's token is kUnauthorizedClient.
  AuthResult<void> revoke(const Client& caller, const std::string& token);

  // The authorization code flow with PKCE and OpenID Connect (authorization.cpp).

  /// Checks an authorization request. A failure must not be sent to the redirect URI (unknown
  /// client, a redirect URI that is missing or not registered): show it to the user. Else
  /// the result names the client, and any other problem is in its `error`, for the client.
  AuthResult<CheckedAuthorization> check_authorization(const AuthorizeRequest& req);
  /// What to do for a good request given the browser's sign-in (if any) at the current time.
  AuthorizeStep next_step(const CheckedAuthorization& req,
                          const std::optional<BrowserSession>& session) const;
  /// The live sign-in named by a browser cookie's value; nullopt for none, unknown, ended or
  /// expired (and for a disabled user).
  AuthResult<std::optional<BrowserSession>> browser_session(std::string_view cookie);
  /// Email + password on the hosted login page → a new browser sign-in, with the checks,
  /// rate limits, back-off and hashing work of login().
  AuthResult<BrowserSignIn> sign_in(const std::string& email, const std::string& password,
                                    const std::string& ip, const std::string& user_agent,
                                    const std::string& request_id = {});
  /// Mints a code (single use, protocol::kCodeLifetimeSeconds) for a good request under a
  /// sign-in, stored as a keyed hash bound to client, redirect URI and PKCE challenge.
  AuthResult<std::string> issue_code(const CheckedAuthorization& req,
                                     const BrowserSession& session);
  /// grant_type=authorization_code for a client that authenticated (confidential) or named
  /// itself (public): the code's client, its redirect URI exactly, and the PKCE verifier must
  /// match. A second presentation of a code revokes the family issued from it (kInvalidGrant).
  /// A refresh token only with scope offline_access; an ID token with scope openid.
  AuthResult<TokenPair> exchange_code(const Client& client, const CodeExchange& exchange);
  /// OpenID Connect UserInfo for a bearer access token with scope openid: sub, and the claims
  /// of its profile and email scopes.
  AuthResult<nlohmann::json> userinfo(std::string_view bearer_token);
  /// RP-initiated logout: ends the sign-in named by the id_token_hint's sid (or the cookie)
  /// and every family issued under it. A post_logout_redirect_uri is honoured only when
  /// registered for the hint's client; kInvalidRequest for a hint that does not verify.
  AuthResult<EndSessionResult> end_session(const EndSessionRequest& req);

  /// Whether some client registered `origin` among its allowed_origins (a CORS preflight
  /// names no client). Reads the clients at most once per client cache period.
  AuthResult<bool> origin_registered(const std::string& origin);

  /// Forgets this replica's cached copy of a client ("" = all of them): an administrator
  /// changed or deleted it (a Redis event), or events may have been missed.
  void forget_client(const std::string& client_id);
  /// How long this replica reuses a looked-up client (Settings::client_cache_s at first).
  void set_client_cache_seconds(std::int64_t seconds);

  /// Looks up a client ("" = default) for transport-level checks (cookie origins).
  AuthResult<Client> client(const std::string& client_id);

  const Settings& settings() const;

  /// Refresh tokens are 256 random bits, base64url (43 characters).
  static bool looks_like_refresh_token(std::string_view token) {
    return RefreshTokenCodec::well_formed(token);
  }

 private:
  /// The audit record of one client authentication (success or failure, and why).
  void audit_client_authentication(const ClientAuthRequest& req, const AuthResult<Client>& c);

  std::unique_ptr<detail::Context> context_;
  std::unique_ptr<detail::Login> login_;
  std::unique_ptr<detail::Refresh> refresh_;
  std::unique_ptr<detail::Sessions> sessions_;
  std::unique_ptr<detail::TokenEndpoint> token_endpoint_;
  std::unique_ptr<detail::Introspection> introspection_;
  std::unique_ptr<detail::Authorization> authorization_;
};

/// The scope a session of `client` may be granted: "openid offline_access" and the client's.
std::vector<std::string> session_scopes(const Client& client);

/// Lower-cases and trims an email address; nullopt if it is not plausibly one.
std::optional<std::string> normalize_email(std::string_view email);

}  // namespace authd::auth
