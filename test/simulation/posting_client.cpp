#include "test/simulation/posting_client.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/currency.hpp"
#include "domain/transaction_requests.hpp"

namespace wallet::simulation {
namespace {

using actors::kWorld;
using actors::Posting;

const std::string& default_currency() {
  return domain::configured_currencies().default_currency().code;
}

}  // namespace

int exponent_of(const std::string& currency) {
  const auto* known = domain::configured_currencies().find(currency);
  return known ? known->exponent : 2;
}

std::vector<Posting> parse_postings(const std::string& postings_json) {
  std::vector<Posting> postings;
  auto list = nlohmann::json::parse(postings_json, nullptr, false);
  if (!list.is_array()) return postings;
  for (const auto& item : list) {
    Posting p;
    p.from = item.value("from", "");
    p.to = item.value("to", "");
    p.currency = item.value("currency", "");
    p.amount =
        domain::parse_stored_minor(item.value("amount", ""), exponent_of(p.currency)).value_or(0);
    postings.push_back(std::move(p));
  }
  return postings;
}

std::string postings_text(const std::vector<Posting>& postings) {
  std::vector<domain::PostingRequest> requests;
  for (const auto& p : postings) {
    requests.push_back({p.from, p.to, p.amount, p.currency, exponent_of(p.currency)});
  }
  return domain::postings_json(requests);
}

const std::string& PostingClient::local() { return accounts_.local[pick(accounts_.local.size())]; }

// Mostly an account of this instance; rarely one that does not exist or one served elsewhere.
const std::string& PostingClient::payer() {
  if (chance(2)) return accounts_.unknown;
  if (!accounts_.remote.empty() && chance(3)) return accounts_.remote[pick(2)];
  return local();
}

const std::string& PostingClient::payee(const std::string& payer) {
  if (chance(2)) return accounts_.unknown == payer ? local() : accounts_.unknown;
  if (!accounts_.remote.empty() && chance(6)) return accounts_.remote[pick(2)];
  for (int i = 0; i < 8; ++i) {
    const auto& to = local();
    if (to != payer) return to;
  }
  return accounts_.local.front() != payer ? accounts_.local.front() : accounts_.local.back();
}

// One of the shapes of SPEC.md section 8's transactions, amounts of 10.00 .. 120.00 (fees of
// 1.00 .. 5.00), often more than the payer can spend, so that its net change is refused.
void PostingClient::transaction(ClientOp& op) {
  op.kind = ClientOp::Kind::transaction;
  const std::string usd = default_currency();
  auto amount = [this] { return static_cast<int64_t>(1 + pick(12)) * 1'000; };
  auto fee = [this] { return static_cast<int64_t>(1 + pick(5)) * 100; };
  auto& p = op.postings;
  p.clear();
  const std::string a = payer();
  const std::string b = payee(a);
  switch (pick(8)) {
    case 0:  // a payment
      p.push_back({a, b, amount(), usd});
      break;
    case 1:  // a payment with its fee
      p.push_back({a, b, amount(), usd});
      p.push_back({a, payee(a), fee(), usd});
      break;
    case 2:  // a split
      p.push_back({a, b, amount(), usd});
      p.push_back({a, payee(a), amount(), usd});
      p.push_back({a, payee(a), amount(), usd});
      break;
    case 3:  // money from @world, spent at once
      p.push_back({kWorld, a, amount(), usd});
      p.push_back({a, b, amount(), usd});
      if (chance(50)) p.push_back({a, payee(a), fee(), usd});
      break;
    case 4:  // money to @world (a withdrawal), with or without a payment
      if (chance(50)) p.push_back({a, b, amount(), usd});
      p.push_back({a, kWorld, amount(), usd});
      break;
    case 5: {  // an account on both sides: back and forth, or a circle
      p.push_back({a, b, amount(), usd});
      if (chance(50)) {
        p.push_back({b, a, amount(), usd});
      } else {
        const std::string c = payee(b);
        p.push_back({b, c, amount(), usd});
        if (c != a) p.push_back({c, a, amount(), usd});
      }
      break;
    }
    case 6:  // an exchange through a liquidity account of each currency (b holds the dollars)
      if (accounts_.second.size() >= 2) {
        const auto& liquidity = accounts_.second.front();
        const auto& client = accounts_.second.back();
        if (chance(50)) {
          p.push_back({a, b, amount(), usd});
          p.push_back({liquidity, client, amount(), kSecondCurrency});
        } else {
          p.push_back({client, liquidity, amount(), kSecondCurrency});
          p.push_back({b, a, amount(), usd});
        }
        if (chance(30)) p.push_back({a, payee(a), fee(), usd});
        break;
      }
      [[fallthrough]];
    default: {  // 4 or 5 postings among the accounts and @world
      const int n = 4 + static_cast<int>(pick(2));
      for (int i = 0; i < n; ++i) {
        const std::string from = chance(15) ? std::string(kWorld) : local();
        std::string to = from != kWorld && chance(15) ? std::string(kWorld) : local();
        p.push_back({from, to, chance(30) ? fee() : amount(), usd});
      }
      p.front().from = a;
      break;
    }
  }
  // Across owners: a third of them have payers the other instance serves (their holds are placed
  // there), among payers of this one, mostly after a first payer of this one.
  if (!accounts_.remote.empty() && chance(33)) pay_from_remote(p);
  // The actors' own guard (the HTTP layer checks first): a posting in another currency than one
  // of its accounts'.
  if (!accounts_.second.empty() && chance(2)) p.front().currency = kSecondCurrency;
  for (auto& posting : p) {  // never @world to @world, never one account on both sides
    if (posting.from == posting.to) posting.to = posting.from == kWorld ? a : std::string(kWorld);
  }
  op.postings_json = postings_text(p);
  op.from = a;
  op.to = b;
  op.amount = p.front().amount;
}

void PostingClient::pay_from_remote(std::vector<Posting>& postings) {
  const std::string usd = default_currency();
  bool any = false;
  for (size_t i = 0; i < postings.size(); ++i) {
    auto& p = postings[i];
    if (p.from == kWorld || p.to == kWorld || p.currency != usd) continue;
    if (i == 0 && !chance(25)) continue;
    if (any && !chance(50)) continue;
    const auto& payer = accounts_.remote[pick(accounts_.remote.size())];
    if (payer == p.to) continue;
    p.from = payer;
    any = true;
  }
}

void PostingClient::aim(ClientOp& op, const ModelState& state) {
  if (chance(30) && reversal(op, state)) return;
  transaction(op);
}

// A reversal of a committed transaction (any: one of POST /transactions, or a reversal): of all
// that is left (mostly), or of part of a transaction of one posting (at times more than is left).
bool PostingClient::reversal(ClientOp& op, const ModelState& state) {
  if (state.transactions.empty()) return false;
  auto it = state.transactions.begin();
  std::advance(it, static_cast<long>(pick(state.transactions.size())));
  op.kind = ClientOp::Kind::reversal;
  op.reverses = it->first;
  const auto original = parse_postings(it->second.record.postings);
  op.asked = 0;
  if (original.size() == 1 && chance(40)) {
    op.asked = 1 + static_cast<int64_t>(pick(static_cast<uint64_t>(original.front().amount)));
    if (chance(10)) op.asked += original.front().amount;
  }
  read_reversal(op, state, chance(20));
  return true;
}

void PostingClient::repeat(ClientOp& op, const ClientOp& original, const ModelState& state) {
  op.kind = original.kind;
  op.from = original.from;
  op.to = original.to;
  op.amount = original.amount;
  op.postings = original.postings;
  op.postings_json = original.postings_json;
  op.reverses = original.reverses;
  op.asked = original.asked;
  if (op.kind == ClientOp::Kind::reversal) read_reversal(op, state, false);
}

void PostingClient::read_reversal(ClientOp& op, const ModelState& state, bool stale) {
  op.refusal.reset();
  const auto& record = state.transactions.at(op.reverses).record;
  const auto original = parse_postings(record.postings);
  const bool single = original.size() == 1;
  op.reversal_exponent = single ? exponent_of(original.front().currency) : 0;
  op.reversible = single ? original.front().amount : 1;
  op.read_reversed = 0;
  auto found = state.reversals.find(op.reverses);
  if (found != state.reversals.end() && !stale) {
    const auto& row = found->second;
    op.read_reversed =
        row.reversed * domain::pow10(op.reversal_exponent) / domain::pow10(row.exponent);
  }
  const int64_t left = op.reversible - op.read_reversed;
  if (left <= 0 || op.asked > left) {
    op.refusal = domain::Error{domain::ErrorCode::already_reversed,
                               "transaction " + op.reverses + " is reversed already"};
  }
  op.reversed_now = op.asked > 0 ? op.asked : left;
  op.postings.clear();
  for (const auto& p : original) {
    op.postings.push_back({p.to, p.from, single ? op.reversed_now : p.amount, p.currency});
  }
  op.postings_json = postings_text(op.postings);
  if (!single) op.reversed_now = 1;
  const auto& first = op.postings.front();
  op.from = first.from;
  op.to = first.to;
  op.amount = first.amount;
}

std::string PostingClient::tag_endpoint(const ClientOp& op) {
  return op.kind == ClientOp::Kind::reversal ? "reverse" : "transactions";
}

std::string PostingClient::request_hash(const ClientOp& op) {
  if (op.kind != ClientOp::Kind::reversal) return op.postings_json + "|{}|-";
  const int exponent = op.reversal_exponent;
  return op.reverses + '|' +
         (op.asked > 0 ? domain::Amount::minor(op.asked, exponent).canonical()
                       : std::string("all"));
}

actors::TransactionCommand PostingClient::command(const ClientOp& op) {
  actors::TransactionCommand command;
  command.postings = op.postings;
  command.postings_json = op.postings_json;
  command.tag = op.tag;
  if (op.kind == ClientOp::Kind::reversal) {
    command.reverses = op.reverses;
    command.reversible = op.reversible;
    command.reversed_now = op.reversed_now;
    command.reversal_exponent = op.reversal_exponent;
    command.reversed_at_read = op.read_reversed;
  }
  // The 201 body, as http/transactions_api.cpp renders it.
  command.render = [postings = op.postings_json, reverses = command.reverses](
                       const std::string& id, const std::string& created_at) {
    nlohmann::json body{{"transaction_id", id},
                        {"postings", nlohmann::json::parse(postings)},
                        {"metadata", nlohmann::json::object()},
                        {"reference", nullptr},
                        {"created_at", created_at}};
    if (!reverses.empty()) body["reverses"] = reverses;
    return body.dump();
  };
  return command;
}

}  // namespace wallet::simulation
