#pragma once
// A transaction on one connection that rolls back unless committed. Private to the Postgres
// backend.

#include "store/postgres/connection.h"

namespace authd::store::postgres {

class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction() {
    if (open_) conn_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  StoreResult<void> begin() {
    auto r = conn_.exec_script("BEGIN");
    if (!r) return unexpected(std::move(r).error());
    open_ = true;
    return {};
  }

  StoreResult<void> commit() {
    // Whatever COMMIT returns, the transaction is over: committed, or rolled back by the
    // server, or unknowable because the connection broke (which marks it broken).
    open_ = false;
    auto r = conn_.exec_script("COMMIT");
    if (!r) return unexpected(std::move(r).error());
    return {};
  }

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace authd::store::postgres
