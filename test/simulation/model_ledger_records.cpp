#include "test/simulation/model_ledger_records.hpp"

#include <algorithm>
#include <set>

#include "domain/currency.hpp"
#include "domain/partitioning.hpp"

namespace wallet::simulation {

domain::Error ModelLedgerRecords::unavailable() {
  return {domain::ErrorCode::unavailable, "the database is unavailable, retry later"};
}

domain::Error ModelLedgerRecords::not_modelled(const char* what) {
  return {domain::ErrorCode::unavailable, std::string(what) + " is not modelled in the simulation"};
}

int ModelLedgerRecords::exponent_of(const std::string& currency) {
  return domain::configured_currencies().find(currency)->exponent;
}

void ModelLedgerRecords::queue(const char* method, std::string what, std::function<void()> read,
                               std::function<void()> failed) {
  ++calls_[method];
  model_->pending().push_back({std::move(what), false,
                               [read = std::move(read), failed = std::move(failed)](Fault fault) {
                                 if (fault != Fault::none) return failed();
                                 read();
                               },
                               stalls_});
}

std::optional<persistence::AccountView> ModelLedgerRecords::view_of(
    const std::string& account_id) const {
  const ModelState& state = model_->state();
  auto it = state.balances.find(account_id);
  if (it == state.balances.end()) return std::nullopt;
  persistence::AccountView view;
  view.account_id = account_id;
  view.user_id = account_id;  // every account of the model is its user's default account
  view.currency = state.currency_of(account_id);
  view.exponent = exponent_of(view.currency);
  view.balance = it->second;
  // account_store.cpp: pending holds of the account whose expires_at is still ahead.
  for (const auto& [id, hold] : state.holds) {
    if (hold.from_user_id == account_id && hold.status == "pending" &&
        hold.expires_at_ms > model_->now_ms()) {
      view.held += hold.amount;
    }
  }
  const ModelRules rules = state.rules_of(account_id);
  view.overdraft_limit = rules.overdraft_limit;
  view.status = persistence::account_status_name(rules.status);
  view.metadata = "{}";
  return view;
}

void ModelLedgerRecords::create_account(
    persistence::NewAccount account, std::chrono::seconds ttl,
    std::function<std::string(const persistence::AccountView&)> render,
    persistence::Answer<persistence::AccountOpened> done) {
  (void)account, (void)ttl, (void)render;
  queue(
      "create_account", "create account", [done] { done(not_modelled("POST /accounts")); },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::open_account(std::string user_id, std::string created_at,
                                      std::function<void(persistence::AccountOpening)> done) {
  (void)created_at;
  using persistence::AccountOpening;
  queue(
      "open_account", "open account " + user_id,
      [this, user_id, done] {
        const bool inserted = model_->shared_state().balances.emplace(user_id, 0).second;
        done(inserted ? AccountOpening::opened : AccountOpening::already_open);
      },
      [done] { done(AccountOpening::unavailable); });
}

void ModelLedgerRecords::account_view(
    std::string account_id, persistence::Answer<std::optional<persistence::AccountView>> done) {
  queue(
      "account_view", "account view " + account_id,
      [this, account_id, done] { done(view_of(account_id)); }, [done] { done(unavailable()); });
}

void ModelLedgerRecords::account_views(
    std::vector<std::string> account_ids,
    persistence::Answer<std::vector<persistence::AccountView>> done) {
  queue(
      "account_views", "account views",
      [this, account_ids = std::move(account_ids), done] {
        std::vector<persistence::AccountView> views;
        std::set<std::string> seen;  // `account_id = ANY(ids)`: each account once
        for (const auto& id : account_ids) {
          if (!seen.insert(id).second) continue;
          if (auto view = view_of(id)) views.push_back(std::move(*view));
        }
        done(std::move(views));
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::user_accounts(
    std::string user_id,
    persistence::Answer<std::optional<std::vector<persistence::AccountView>>> done) {
  queue(
      "user_accounts", "user accounts " + user_id,
      [this, user_id, done] {
        auto view = view_of(user_id);  // a user's only account is its default one
        if (!view) return done(std::optional<std::vector<persistence::AccountView>>{});
        done(std::optional<std::vector<persistence::AccountView>>{{std::move(*view)}});
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::history_page(
    std::string user_id, int limit, int64_t before,
    persistence::Answer<std::optional<persistence::HistoryPage>> done) {
  queue(
      "history_page", "history " + user_id,
      [this, user_id, limit, before, done] {
        const ModelState& state = model_->state();
        if (state.balances.count(user_id) == 0) {
          return done(std::optional<persistence::HistoryPage>{});
        }
        // load_history_page: the account's rows with seq < before (all when 0), newest first; one
        // row more than asked tells whether another page follows.
        std::vector<const ModelRow*> rows;
        for (const auto& row : state.rows) {
          if (row.entry.user_id == user_id &&
              (before == 0 || static_cast<int64_t>(row.seq) < before)) {
            rows.push_back(&row);
          }
        }
        std::sort(rows.begin(), rows.end(),
                  [](const ModelRow* a, const ModelRow* b) { return a->seq > b->seq; });
        if (lagging_history_ && before == 0 && !rows.empty()) rows.erase(rows.begin());
        persistence::HistoryPage page;
        page.exponent = exponent_of(state.currency_of(user_id));
        for (const ModelRow* row : rows) {
          if (page.rows.size() == static_cast<size_t>(limit)) {
            page.next_before = static_cast<int64_t>(rows[limit - 1]->seq);
            break;
          }
          const auto& entry = row->entry;
          page.rows.push_back({entry.id, entry.change, entry.old_balance, entry.new_balance,
                               persistence::entry_kind_name(entry.kind), entry.transfer_id, ""});
        }
        done(std::optional<persistence::HistoryPage>{std::move(page)});
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::list_partitions(
    persistence::Answer<std::vector<persistence::PartitionOwner>> done) {
  queue(
      "list_partitions", "list partitions",
      [this, done] {
        std::vector<persistence::PartitionOwner> list;
        for (const auto& [partition, row] : model_->state().partition_owner) {
          list.push_back({partition, row.owner, row.epoch, ""});
        }
        done(std::move(list));
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::take_partitions(
    std::vector<int> partitions, std::string instance_id,
    persistence::Answer<std::vector<std::pair<int, int64_t>>> done) {
  queue(
      "take_partitions", "take partitions",
      [this, partitions = std::move(partitions), instance_id = std::move(instance_id), done] {
        ModelState& state = model_->shared_state();
        std::vector<std::pair<int, int64_t>> epochs;
        for (int partition : partitions) {
          // partition_take raises for a partition that was never created; the others taken
          // before it stay taken (each statement commits by itself).
          if (state.partition_owner.count(partition) == 0) {
            return done(domain::Error{domain::ErrorCode::internal,
                                      "no partition " + std::to_string(partition)});
          }
          epochs.emplace_back(partition, state.take_partition(partition, instance_id));
        }
        done(std::move(epochs));
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::in_transit_summary(
    int limit, persistence::Answer<persistence::InTransitSummary> done) {
  queue(
      "in_transit_summary", "in transit summary",
      [this, limit, done] {
        const ModelState& state = model_->state();
        const auto& fallback = domain::configured_currencies().default_currency();
        persistence::InTransitSummary summary;
        for (const auto& [id, leg] : state.in_transit) {
          ++summary.count;
          // Per the payer's currency (the SQL groups by it).
          const std::string code = state.currency_of(leg.from_user_id);
          auto it = std::find_if(summary.by_currency.begin(), summary.by_currency.end(),
                                 [&code](const auto& total) { return total.code == code; });
          if (it == summary.by_currency.end()) {
            summary.by_currency.push_back({code, exponent_of(code), 0});
            it = summary.by_currency.end() - 1;
          }
          it->total += leg.amount;
          if (code == fallback.code) summary.total += leg.amount;
          if (static_cast<int>(summary.oldest.size()) < limit) summary.oldest.push_back(leg);
        }
        done(std::move(summary));
      },
      [done] { done(unavailable()); });
}

void ModelLedgerRecords::sweep_overdue_holds(
    int limit, std::shared_ptr<const persistence::OwnedPartitions> only,
    persistence::Answer<persistence::ExpirySweep> done) {
  queue(
      "sweep_overdue_holds", "sweep overdue holds",
      [this, limit, only = std::move(only), done] {
        const int64_t now_ms = model_->now_ms();
        persistence::ExpirySweep sweep;
        std::vector<persistence::HoldRecord> overdue;
        for (const auto& [id, hold] : model_->state().holds) {
          if (hold.status != "pending") continue;
          ++sweep.pending;
          if (hold.expires_at_ms > now_ms) continue;
          if (only &&
              !only->owns_partition(domain::partition_of(hold.from_user_id, only->partitions()))) {
            continue;
          }
          overdue.push_back(hold);
        }
        // ORDER BY expires_at LIMIT limit (ties: in hold-id order here).
        std::stable_sort(overdue.begin(), overdue.end(), [](const auto& a, const auto& b) {
          return a.expires_at_ms < b.expires_at_ms;
        });
        if (static_cast<int>(overdue.size()) > limit) overdue.resize(static_cast<size_t>(limit));
        sweep.overdue = std::move(overdue);
        done(std::move(sweep));
      },
      [done] { done(unavailable()); });
}

}  // namespace wallet::simulation
