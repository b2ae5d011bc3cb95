#include "authd/keys/settings.h"

#include <string>

namespace authd::keys {
namespace {

// Ten years: far beyond any sane setting, and small enough that every sum of a few durations
// and a Unix time stays far from INT64_MAX.
constexpr std::int64_t kMaxDuration = 10LL * 366 * 86400;

Result<void, Error> in_range(const char* name, std::int64_t value, std::int64_t min) {
  if (value < min || value > kMaxDuration) {
    return fail(Errc::kInvalidSettings, std::string("keys setting ") + name + " = " +
                                            std::to_string(value) + " s is out of range [" +
                                            std::to_string(min) + ", " +
                                            std::to_string(kMaxDuration) + "]");
  }
  return {};
}

}  // namespace

Result<void, Error> validate(const Settings& s) {
  struct Field {
    const char* name;
    std::int64_t value;
    std::int64_t min;
  };
  const Field fields[] = {
      {"access_ttl_s", s.access_ttl_s, 1},
      {"jwks_max_age_s", s.jwks_max_age_s, 0},
      {"jwks_stale_while_revalidate_s", s.jwks_stale_while_revalidate_s, 0},
      {"rotation_period_s", s.rotation_period_s, 1},
      {"leeway_s", s.leeway_s, 0},
      {"replica_lag_s", s.replica_lag_s, 0},
      {"verifier_cache_s", s.verifier_cache_s, 0},
  };
  for (const Field& f : fields) {
    if (auto r = in_range(f.name, f.value, f.min); !r) return r;
  }
  if (s.rotation_period_s < publish_ahead(s)) {
    return fail(Errc::kInvalidSettings,
                "keys setting rotation_period_s = " + std::to_string(s.rotation_period_s) +
                    " s is shorter than the publish-ahead time (jwks max-age + "
                    "stale-while-revalidate or verifier cache, + replica lag = " +
                    std::to_string(publish_ahead(s)) + " s)");
  }
  return {};
}

}  // namespace authd::keys
