// authctl keys ...: the signing keys replicas share, listed and rotated.

#include <iostream>

#include "app/authctl/authctl.h"
#include "app/components.h"
#include "authd/keys/key_ring.h"
#include "authd/keys/rotation.h"

namespace authd::authctl {

int keys_cmd(Ctx& c, const std::vector<std::string>& a) {
  if (a.empty()) return fail(kUsage, 2);
  auto kek = app::load_kek(c.cfg);
  if (!kek) return fail(kek.error().message);
  keys::KeyRing ring(c.db->keys(), std::move(*kek), c.clock, app::key_settings(c.cfg));
  if (auto l = ring.load(); !l) return fail(l.error().message);
  if (a[0] == "rotate") {
    auto r = ring.rotate(/*force=*/true);  // on demand: a new key now, published ahead as usual
    if (!r) return fail(r.error().message);
    if (!r->ran) return fail("another replica holds the rotation lock; try again");
    for (const auto& [kid, outcome] : r->keys_made())
      audit(
          c,
          {.type = "key.rotated", .reason = std::string(keys::to_string(outcome)), .key_id = kid});
    notify_replicas(c.cfg, R"({"type":"keys_changed"})",
                    "replicas will pick the key up at their next poll");
    std::cout << "rotation: "
              << (r->kid.empty() ? "nothing to do (a next key is already pending)"
                                 : "new key " + r->kid)
              << "\n";
    if (!r->id_token_kid.empty())
      std::cout << "ID-token rotation: new key " << r->id_token_kid << "\n";
  } else if (a[0] != "list") {
    return fail(kUsage, 2);
  }
  static const char* kStates[] = {"next", "active", "retiring", "removed"};
  std::cout << "KID\tALG\tSTATE\tSIGNING\tCREATED\tACTIVATES\tRETIRES\tREMOVED\n";
  for (const auto& k : ring.describe())
    std::cout << k.kid << "\t" << k.alg << "\t" << kStates[static_cast<int>(k.state)] << "\t"
              << (k.signing && k.signs_id_tokens ? "access,id_token"
                  : k.signing                    ? "access"
                  : k.signs_id_tokens            ? "id_token"
                                                 : "")
              << "\t" << iso(k.created_at) << "\t" << iso(k.activate_at) << "\t" << iso(k.retire_at)
              << "\t" << iso(k.remove_at) << "\n";
  return 0;
}

}  // namespace authd::authctl
