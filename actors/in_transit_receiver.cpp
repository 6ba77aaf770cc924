#include "actors/in_transit_receiver.hpp"

#include <spdlog/spdlog.h>

#include "domain/currency.hpp"

namespace wallet::actors {
namespace {

using Self = caf::stateful_actor<ReceiverState>*;

constexpr int kPage = 256;

void read(Self self) {
  auto& s = self->state;
  if (s.reading) {
    s.again = true;
    return;
  }
  s.reading = true;
  auto me = caf::actor_cast<caf::actor>(self);
  s.backend->in_transit_due(
      s.owned->serving(), kPage, [me](domain::Result<persistence::InTransitSummary> summary) {
        caf::anon_send(me, arrive_atom::value, InTransitPass{std::move(summary)});
      });
}

}  // namespace

caf::behavior in_transit_receiver(caf::stateful_actor<ReceiverState>* self,
                                  std::shared_ptr<persistence::LedgerBackend> backend,
                                  std::shared_ptr<const persistence::OwnedPartitions> owned,
                                  CreditFn credit, std::shared_ptr<LedgerGauges> gauges,
                                  std::chrono::milliseconds every, bool until_empty) {
  auto& s = self->state;
  s.backend = std::move(backend);
  s.owned = std::move(owned);
  s.credit = std::move(credit);
  s.gauges = std::move(gauges);
  s.every = every;
  s.until_empty = until_empty;
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        read(self);
        self->delayed_send(self, self->state.every, tick_atom::value);
      },
      [=](wake_atom) { read(self); },
      [=](arrive_atom, InTransitPass& pass) {
        auto& s = self->state;
        s.reading = false;
        if (!pass.summary) {
          spdlog::warn("event=in_transit_pass_failed cause=\"{}\"", pass.summary.error().message);
          return;
        }
        s.gauges->in_transit_count = pass.summary->count;
        s.gauges->in_transit_amount = pass.summary->total;
        s.gauges->in_transit_oldest_ms = pass.summary->oldest_age_ms;
        {
          std::lock_guard<std::mutex> lock(s.gauges->in_transit_mutex);
          auto& by_currency = s.gauges->in_transit_by_currency;
          for (auto& [code, amount] : by_currency) amount = 0;  // a currency drained to zero
          for (const auto& currency : pass.summary->by_currency) {
            by_currency[currency.code] = static_cast<double>(currency.total) /
                                         static_cast<double>(domain::pow10(currency.exponent));
          }
        }
        if (s.until_empty && pass.summary->count == 0 && s.applying.empty()) {
          spdlog::info("event=in_transit_drained");
          self->quit();
          return;
        }
        auto me = caf::actor_cast<caf::actor>(self);
        size_t started = 0;
        auto& due = pass.summary->oldest;
        for (auto& leg : due) {
          if (!s.applying.insert(leg.transfer_id).second) continue;
          ++started;
          s.gauges->credits_applying = static_cast<int64_t>(s.applying.size());
          auto transfer_id = leg.transfer_id;
          s.credit(std::move(leg), [me, transfer_id](bool committed) {
            caf::anon_send(me, executed_atom::value, transfer_id, committed);
          });
        }
        if (s.again || (started > 0 && due.size() == static_cast<size_t>(kPage))) {
          s.again = false;
          read(self);
        }
      },
      [=](executed_atom, const std::string& transfer_id, bool committed) {
        auto& s = self->state;
        s.applying.erase(transfer_id);
        s.gauges->credits_applying = static_cast<int64_t>(s.applying.size());
        if (committed) ++s.gauges->credits_arrived;
      },
  };
}

}  // namespace wallet::actors
