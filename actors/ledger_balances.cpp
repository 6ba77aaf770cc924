// The Ledger's reads of an account: its balance and figures (from its actor's memory while this
// instance serves it under a held read lease, else from the committed row), an account served
// elsewhere read from Postgres, and its paged history.
#include <algorithm>
#include <chrono>

#include "actors/ledger.hpp"

namespace wallet::actors {

void Ledger::read_elsewhere_owned(
    const std::string& user_id,
    std::function<void(domain::Result<persistence::AccountRecord>)> reply) {
  backend_->load_account(
      user_id, [user_id, reply = std::move(reply)](
                   domain::Result<std::optional<persistence::AccountRecord>> found) {
        if (!found) return reply(found.error());
        if (!found.value()) {
          return reply(
              domain::Error{domain::ErrorCode::user_not_found, "no account for user " + user_id});
        }
        reply(std::move(*found.value()));
      });
}

bool Ledger::owned_elsewhere(const std::string& user_id) const {
  return options_.owned && !options_.owned->owns(user_id);
}

bool Ledger::memory_answers(const std::string& user_id) const {
  return !options_.owned || (options_.owned->owns(user_id) && options_.owned->lease().held);
}

template <typename Answer>
std::function<void(Answer)> Ledger::kept_while_leased(std::function<void(Answer)> reply,
                                                      std::function<void()> reread) const {
  if (!options_.owned) return reply;
  return [owned = options_.owned, generation = options_.owned->lease().generation,
          reply = std::move(reply), reread = std::move(reread)](Answer answer) {
    if (owned->lease_kept(generation)) return reply(std::move(answer));
    reread();
  };
}

void Ledger::balance_from_store(const std::string& user_id,
                                std::function<void(domain::Result<int64_t>)> reply) {
  read_elsewhere_owned(user_id, [id = user_id, reply = std::move(reply)](
                                    domain::Result<persistence::AccountRecord> account) {
    if (!account) return reply(account.error());
    if (account->user_id != id) {  // not a default account: no user of that id
      return reply(domain::Error{domain::ErrorCode::user_not_found, "no account for user " + id});
    }
    reply(account->balance);
  });
}

void Ledger::balance(BalanceQuery query) {
  if (query.deadline == kNoDeadline) query.deadline = deadline_from_now();
  if (!memory_answers(query.user_id)) return balance_from_store(query.user_id, query.reply);
  query.reply = kept_while_leased<domain::Result<int64_t>>(
      query.reply,
      [this, id = query.user_id, reply = query.reply] { balance_from_store(id, reply); });
  caf::anon_send(registry_, balance_atom::value, std::move(query));
}

void Ledger::figures_from_store(const std::string& user_id, bool account_form,
                                std::function<void(domain::Result<BalanceFigures>)> reply) {
  read_elsewhere_owned(user_id, [id = user_id, account_form, clock = options_.epoch_ms,
                                 reply = std::move(reply)](
                                    domain::Result<persistence::AccountRecord> account) {
    if (!account) return reply(account.error());
    if (!account_form && account->user_id != id) {
      return reply(domain::Error{domain::ErrorCode::user_not_found, "no account for user " + id});
    }
    const int64_t now_ms = clock();  // the hold clock, as the account actors judge expiry
    int64_t held = 0;
    for (const auto& hold : account->pending_holds) {
      if (hold.expires_at_ms > now_ms) held += hold.amount;
    }
    reply(BalanceFigures{account->balance,
                         std::max<int64_t>(0, account->balance + account->overdraft_limit - held),
                         account->exponent});
  });
}

void Ledger::balance_figures(AvailableQuery query) {
  if (query.deadline == kNoDeadline) query.deadline = deadline_from_now();
  if (!memory_answers(query.user_id)) {
    return figures_from_store(query.user_id, query.account_form, query.reply);
  }
  query.reply = kept_while_leased<domain::Result<BalanceFigures>>(
      query.reply, [this, id = query.user_id, form = query.account_form, reply = query.reply] {
        figures_from_store(id, form, reply);
      });
  caf::anon_send(registry_, available_atom::value, std::move(query));
}

void Ledger::history(
    std::string user_id, int limit, int64_t before,
    std::function<void(domain::Result<std::optional<persistence::HistoryPage>>)> reply) {
  records_->history_page(std::move(user_id), limit, before, std::move(reply));
}

}  // namespace wallet::actors
