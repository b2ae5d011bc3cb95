// Login timing: an unknown email costs what a wrong password costs. Wall-clock ratios, so
// this binary runs alone (ctest label "timing", RUN_SERIAL).

#include "integration/auth/service_fixture.h"

namespace authd::auth::testing_support {
namespace {

class LoginTimingTest : public AuthServiceTest {};

TEST_P(LoginTimingTest, UnknownUserStillPaysForOneHash) {
  // Default (expensive) parameters make the hash dominate: both paths must cost about the same.
  settings_.password = crypto::PasswordParams{};
  add_user("carol@example.com", kPassword, settings_.password);
  AuthService slow(
      AuthService::Deps{tdb_->db().users(), tdb_->db().sessions(), tdb_->db().clients(),
                        *ring_keys_, clock_, random_, *hasher_, nullptr},
      settings_);
  (void)crypto::dummy_hash(settings_.password);
  auto once = [&](const char* email) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)slow.login(LoginRequest{email, "wrong-password", "", "", ""});
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Interleaved samples and medians, so load from parallel tests hits both sides alike.
  std::vector<double> known_t, unknown_t;
  for (int i = 0; i < 7; ++i) {
    known_t.push_back(once("carol@example.com"));
    unknown_t.push_back(once("nobody@example.com"));
  }
  std::sort(known_t.begin(), known_t.end());
  std::sort(unknown_t.begin(), unknown_t.end());
  const double known = known_t[3], unknown = unknown_t[3];
  EXPECT_GT(unknown, known * 0.5)
      << "unknown email answered much faster: existence leaks by timing";
  EXPECT_LT(unknown, known * 2.0);
}

AUTHD_INSTANTIATE_SERVICE_MODES(LoginTimingTest);

}  // namespace
}  // namespace authd::auth::testing_support
