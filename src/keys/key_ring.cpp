#include "authd/keys/key_ring.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "authd/core/base64url.h"
#include "authd/crypto/secretbox.h"
#include "authd/keys/kek.h"

namespace authd::keys {
namespace {

struct Entry {
  StoredKey row;  // sealed_private kept to recognise an unchanged key on reload
  jose::KeyPtr key;
};

// The JWKS for one stretch of time: valid while now < until (and after the previous epoch).
struct Epoch {
  std::int64_t until = kForever;
  JwksDocumentPtr doc;
};

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // SHA-256 over an in-memory buffer fails only on allocation failure; an empty digest still
  // yields a valid (if uninformative) ETag rather than an error on the serving path.
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

JwksDocumentPtr build_document(const std::vector<const Entry*>& keys, const Settings& s) {
  nlohmann::json list = nlohmann::json::array();
  for (const Entry* e : keys) list.push_back(e->key->public_jwk());
  auto body = std::make_shared<const std::string>(nlohmann::json{{"keys", list}}.dump());
  auto doc = std::make_shared<JwksDocument>();
  doc->etag = "\"" + base64url::encode(sha256(*body)) + "\"";
  doc->cache_control =
      keys.empty()
          ? "no-store"
          : "public, max-age=" + std::to_string(s.jwks_max_age_s) +
                ", stale-while-revalidate=" + std::to_string(s.jwks_stale_while_revalidate_s);
  doc->body = std::move(body);
  return doc;
}

// Process-wide, so that no two rings (tests hold several) ever publish the same number.
std::uint64_t next_publication() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

const JwksDocumentPtr& empty_document() {
  static const JwksDocumentPtr doc = build_document({}, Settings{});
  return doc;
}

Unexpected<Error> store_error(std::string_view what, const store::Error& e) {
  return fail(Errc::kStore,
              std::string(what) + ": " + std::string(store::to_string(e.code)) + ": " + e.message);
}

// Which chain a stored key belongs to: the ID-token chain holds the keys of id_token_alg when
// it differs from alg; every other key (including keys of an algorithm no longer configured)
// is in the access-token chain, so it retires there as before.
bool in_id_token_chain(const Settings& s, std::string_view alg) {
  return separate_id_token_keys(s) && alg == jose::to_string(s.id_token_alg);
}

}  // namespace

struct KeyRing::Snapshot {
  std::vector<Entry> entries;  // ordered by (activate_at, kid): every replica picks alike
  std::vector<Epoch> epochs;   // ascending `until`

  // The newest active key of the chain; if that chain has none, the other chain's.
  const Entry* signing(std::int64_t now, const Settings& s, bool id_token) const {
    const Entry* other = nullptr;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (key_state(it->row, now) != KeyState::kActive) continue;
      if (in_id_token_chain(s, it->row.alg) == id_token) return &*it;
      if (other == nullptr) other = &*it;
    }
    return other;
  }
};

KeyRing::KeyRing(KeyStore& store, crypto::Secret kek, const Clock& clock, Settings settings)
    : store_(store), kek_(std::move(kek)), clock_(clock), settings_(settings) {}

KeyRing::~KeyRing() = default;

std::shared_ptr<const KeyRing::Snapshot> KeyRing::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

Result<void, Error> KeyRing::load() {
  std::lock_guard load_lock(load_mutex_);
  auto rows = store_.list();
  if (!rows) return store_error("listing signing keys failed", rows.error());

  const auto previous = snapshot();
  auto next = std::make_shared<Snapshot>();
  next->entries.reserve(rows->size());
  for (StoredKey& row : *rows) {
    jose::KeyPtr key;
    if (previous) {
      // Same sealed bytes, same key: skip decrypting and parsing it again on every poll.
      for (const Entry& e : previous->entries) {
        if (e.row.kid == row.kid && e.row.alg == row.alg &&
            e.row.sealed_private == row.sealed_private) {
          key = e.key;
          break;
        }
      }
    }
    if (!key) {
      auto opened = open_stored_key(row, kek_);
      if (!opened) return unexpected(opened.error());
      key = std::move(opened).value();
    }
    next->entries.push_back(Entry{std::move(row), std::move(key)});
  }
  std::sort(next->entries.begin(), next->entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.row.activate_at, a.row.kid) < std::tie(b.row.activate_at, b.row.kid);
  });

  // One JWKS per distinct published set over time: the set only shrinks, at each remove_at.
  // Documents whose bytes are unchanged from the previous snapshot are reused, so a reload
  // that changes nothing keeps serving the very same body.
  std::map<std::string, JwksDocumentPtr> previous_docs;
  if (previous) {
    for (const Epoch& e : previous->epochs) previous_docs.emplace(e.doc->etag, e.doc);
  }
  std::vector<std::int64_t> thresholds;
  for (const Entry& e : next->entries) thresholds.push_back(e.row.remove_at);
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  if (thresholds.empty() || thresholds.back() != kForever) thresholds.push_back(kForever);
  for (const std::int64_t until : thresholds) {
    std::vector<const Entry*> published;
    for (const Entry& e : next->entries) {
      if (e.row.remove_at >= until) published.push_back(&e);
    }
    auto doc = build_document(published, settings_);
    if (auto it = previous_docs.find(doc->etag); it != previous_docs.end() &&
                                                 *it->second->body == *doc->body &&
                                                 it->second->cache_control == doc->cache_control) {
      doc = it->second;
    }
    next->epochs.push_back(Epoch{until, std::move(doc)});
  }

  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(next);
  published_.store(next_publication(), std::memory_order_release);
  return {};
}

Result<RotateResult, Error> KeyRing::rotate(bool force) {
  RotateResult result;
  bool changed = false;
  std::optional<Error> plan_error;
  const KeyFactory access_factory = [this] { return generate_sealed_key(settings_.alg, kek_); };
  const KeyFactory id_token_factory = [this] {
    return generate_sealed_key(settings_.id_token_alg, kek_);
  };

  auto ran = store_.rotate_exclusive([&](const std::vector<StoredKey>& current) -> KeyChanges {
    // The time is read under the lock: the plan must be computed for the moment it is written.
    const std::int64_t now = clock_.now_unix();
    for (const StoredKey& k : current) {
      if (key_state(k, now) == KeyState::kRemoved) continue;
      // A replica with the wrong KEK must not add a key the others cannot open.
      if (auto opened = crypto::open(kek_, k.sealed_private);
          !opened && opened.error() == crypto::Errc::DecryptFailed) {
        plan_error = Error{Errc::kWrongKek, "the key-encryption key cannot decrypt signing key " +
                                                k.kid + "; wrong KEK file?"};
        return {};
      }
    }
    std::vector<StoredKey> access_keys, id_token_keys;
    for (const StoredKey& k : current)
      (in_id_token_chain(settings_, k.alg) ? id_token_keys : access_keys).push_back(k);
    // A chain starting in a ring that already publishes keys is announced ahead like a
    // successor: verifiers may hold a cached JWKS without it.
    auto published = [now](const std::vector<StoredKey>& keys) {
      return std::any_of(keys.begin(), keys.end(), [now](const StoredKey& k) {
        return key_state(k, now) != KeyState::kRemoved;
      });
    };
    auto plan =
        plan_rotation(access_keys, now, settings_, force, access_factory, published(id_token_keys));
    if (!plan) {
      plan_error = plan.error();
      return {};
    }
    result.outcome = plan->outcome;
    result.kid = plan->kid;
    KeyChanges changes = std::move(plan->changes);
    if (separate_id_token_keys(settings_)) {
      auto id_plan = plan_rotation(id_token_keys, now, settings_, force, id_token_factory,
                                   published(access_keys));
      if (!id_plan) {
        plan_error = id_plan.error();
        return {};
      }
      result.id_token_outcome = id_plan->outcome;
      result.id_token_kid = id_plan->kid;
      auto append = [](auto& to, auto& from) {
        std::move(from.begin(), from.end(), std::back_inserter(to));
      };
      append(changes.insert, id_plan->changes.insert);
      append(changes.update, id_plan->changes.update);
      append(changes.remove, id_plan->changes.remove);
    }
    result.deleted = changes.remove.size();
    changed = !changes.insert.empty() || !changes.update.empty() || !changes.remove.empty();
    return changes;
  });
  if (!ran) return store_error("rotating signing keys failed", ran.error());
  if (plan_error) return unexpected(std::move(*plan_error));
  result.ran = *ran;
  if (result.ran && changed) {
    if (auto loaded = load(); !loaded) {
      return fail(loaded.error().code,
                  "the rotation was committed, but reloading the key ring failed: " +
                      loaded.error().message);
    }
  }
  return result;
}

Result<jose::KeyPtr, Error> KeyRing::signing_key() const {
  const auto snap = snapshot();
  if (!snap) return fail(Errc::kNotLoaded, "the signing-key ring has not been loaded");
  const Entry* e = snap->signing(clock_.now_unix(), settings_, /*id_token=*/false);
  if (e == nullptr) return fail(Errc::kNoActiveKey, "no signing key is active");
  return e->key;
}

Result<jose::KeyPtr, Error> KeyRing::id_token_signing_key() const {
  const auto snap = snapshot();
  if (!snap) return fail(Errc::kNotLoaded, "the signing-key ring has not been loaded");
  const Entry* e = snap->signing(clock_.now_unix(), settings_, /*id_token=*/true);
  if (e == nullptr) return fail(Errc::kNoActiveKey, "no signing key is active");
  return e->key;
}

namespace {

// Signs with `key` through `sign` (jose::sign or jose::sign_claims) and names the key in the
// error, so both entry points fail alike.
template <typename SignFn>
Result<std::string, Error> sign_with(Result<jose::KeyPtr, Error> key, SignFn&& sign) {
  if (!key) return unexpected(key.error());
  auto token = sign(**key);
  if (!token) {
    return fail(Errc::kSignFailed, "signing with key " + (*key)->kid() +
                                       " failed: " + std::string(jose::to_string(token.error())));
  }
  return std::move(token).value();
}

}  // namespace

Result<std::string, Error> KeyRing::sign(const nlohmann::json& claims) const {
  return sign_with(signing_key(),
                   [&](const jose::Key& k) { return jose::sign(k, claims, "at+jwt"); });
}

Result<std::string, Error> KeyRing::sign_claims_json(std::string_view claims_json,
                                                     std::string_view typ) const {
  return sign_with(signing_key(),
                   [&](const jose::Key& k) { return jose::sign_claims(k, claims_json, typ); });
}

Result<std::string, Error> KeyRing::sign_id_token(
    const std::function<std::string(jose::Alg)>& claims_for) const {
  return sign_with(id_token_signing_key(), [&](const jose::Key& k) {
    return jose::sign_claims(k, claims_for(k.alg()), "JWT");
  });
}

jose::KeyPtr KeyRing::find(std::string_view kid) const {
  if (kid.empty()) return nullptr;
  const auto snap = snapshot();
  if (!snap) return nullptr;
  const std::int64_t now = clock_.now_unix();
  for (const Entry& e : snap->entries) {
    if (e.row.kid == kid && key_state(e.row, now) != KeyState::kRemoved) return e.key;
  }
  return nullptr;
}

jose::KeyLookup KeyRing::lookup() const {
  return [this](std::string_view kid) { return find(kid); };
}

JwksDocumentPtr KeyRing::jwks() const { return current_jwks(clock_.now_unix()).doc; }

KeyRing::CurrentJwks KeyRing::current_jwks(std::int64_t now) const {
  // Read before the snapshot: a snapshot published in between is newer than this number says,
  // so the caller only asks once more.
  const std::uint64_t published = published_.load(std::memory_order_acquire);
  const auto snap = snapshot();
  std::int64_t from = std::numeric_limits<std::int64_t>::min();
  if (snap) {
    for (const Epoch& e : snap->epochs) {
      if (now < e.until) return {e.doc, from, e.until, published};
      from = e.until;
    }
  }
  return {empty_document(), from, std::numeric_limits<std::int64_t>::max(), published};
}

std::vector<KeyInfo> KeyRing::describe() const {
  std::vector<KeyInfo> out;
  const auto snap = snapshot();
  if (!snap) return out;
  const std::int64_t now = clock_.now_unix();
  const Entry* signing = snap->signing(now, settings_, false);
  const Entry* id_signing = snap->signing(now, settings_, true);
  for (const Entry& e : snap->entries) {
    out.push_back(KeyInfo{e.row.kid, e.row.alg, key_state(e.row, now), &e == signing,
                          &e == id_signing, e.row.created_at, e.row.activate_at, e.row.retire_at,
                          e.row.remove_at});
  }
  return out;
}

bool KeyRing::loaded() const { return snapshot() != nullptr; }

bool KeyRing::ready() const {
  const auto snap = snapshot();
  return snap && snap->signing(clock_.now_unix(), settings_, false) != nullptr;
}

}  // namespace authd::keys
