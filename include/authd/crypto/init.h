#pragma once
// libsodium initialisation.

namespace authd::crypto {

/// Initialises libsodium (selects CPU-specific implementations, opens the CSPRNG).
///
/// Idempotent and thread-safe; the work happens once per process. Every other function in
/// authd::crypto calls it implicitly, so calling it is optional; the composition root should
/// still call it at startup and refuse to run when it returns false, so a broken CSPRNG is
/// found before the first request rather than during one.
///
/// @return true when libsodium is usable.
bool init() noexcept;

}  // namespace authd::crypto
