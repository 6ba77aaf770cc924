// "No partial transaction" and "reversals within bounds" of --postings: the run's keys, their
// transactions' legs and records, and what each original's reversals add up to.
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "domain/currency.hpp"
#include "tools/wallet_stress/postings_ledger.hpp"

namespace wallet::stress {
namespace {

using Leg = std::tuple<int, std::string, std::string>;  // posting, account, kind

// The rows a 201's postings must have written: per posting a debit on `from` (withdrawal when it
// goes to @world) and a credit on `to` (deposit when it comes from @world).
std::multiset<Leg> expected_legs(const PostingsCheckInput& in, const AnsweredTransaction& t) {
  std::multiset<Leg> legs;
  for (size_t i = 0; i < t.postings.size(); ++i) {
    const auto& p = t.postings[i];
    if (p.from != kWorld) {
      legs.emplace(int(i), in.plan.side(p.from, in.setup),
                   p.to == kWorld ? "withdrawal" : "posting_debit");
    }
    if (p.to != kWorld) {
      legs.emplace(int(i), in.plan.side(p.to, in.setup),
                   p.from == kWorld ? "deposit" : "posting_credit");
    }
  }
  return legs;
}

std::string describe(const std::multiset<Leg>& legs) {
  std::string out;
  for (const auto& [posting, account, kind] : legs) {
    out += (out.empty() ? "" : ", ") + std::string("#") + std::to_string(posting) + " " + kind +
           " " + account;
  }
  return "[" + out + "]";
}

// Whether the service stores this answer with its key (docs/api.md, "Idempotency"): a 201 and
// the refusals the accounts decide. 400, 404 and 409 already_reversed (decided from committed
// state) are answered afresh to every send, alike but without Idempotent-Replayed.
bool stored_with_key(const KeyRecord& k) {
  if (k.status == 201) return true;
  if (k.status != 409) return false;
  auto body = nlohmann::json::parse(k.body, nullptr, false);
  const auto code = body.is_object() && body["error"].is_object() ? body["error"]["code"] : nullptr;
  return code != "already_reversed" && code != "account_closed";
}

// The refusal an answer of a status and body stands for: its status, code and account.
std::string refusal_of(const std::string& variant) {
  const size_t space = variant.find(' ');
  auto body = nlohmann::json::parse(variant.substr(space + 1), nullptr, false);
  const nlohmann::json error = body.is_object() ? body["error"] : nlohmann::json();
  auto field = [&](const char* name) {
    return error.is_object() && error.contains(name) && error[name].is_string()
               ? error[name].get<std::string>()
               : std::string();
  };
  return variant.substr(0, space) + " " + field("code") + " " + field("account_id");
}

// Each key sent has one outcome: an answer, all answers alike, at most one not a replay (of an
// answer the service stores). A refusal it does not store is decided afresh for every send: its
// answers must be the same refusal (status, code, account), their messages may differ.
size_t check_keys(const PostingsCheckInput& in, InvariantResult& result) {
  size_t reworded = 0;
  for (size_t op = 0; op < in.load.keys.size(); ++op) {
    const auto& k = in.load.keys[op];
    const std::string key =
        in.plan.key(uint32_t(op)) + " (" + posting_kind_name(in.plan.ops[op].kind) + ")";
    if (!k.sent) continue;
    if (k.answers == 0) result.fail(key + ": no definitive answer after every retry");
    const auto& variants = in.load.variants[op];
    const bool same_refusal =
        !stored_with_key(k) &&
        std::all_of(variants.begin(), variants.end(), [&](const std::string& v) {
          return refusal_of(v) == refusal_of(variants.front());
        });
    if (k.differing > 0 && same_refusal) ++reworded;
    if (k.differing > 0 && !same_refusal) {
      result.fail(key + ": first " + std::to_string(k.status) + " " + k.body.substr(0, 200) +
                  ", later " + k.differing_example);
    }
    if (k.originals > 1 && stored_with_key(k)) {
      result.fail(key + ": " + std::to_string(k.originals) +
                  " answers not marked Idempotent-Replayed");
    }
  }
  return reworded;
}

// Every 201 has exactly the legs of its postings, under one key; no other transaction left rows on
// the run's accounts.
void check_legs(const PostingsCheckInput& in, const PostingsLedger& ledger,
                InvariantResult& result) {
  std::map<std::string, std::multiset<Leg>> rows_of;
  for (const auto& row : ledger.rows) {
    rows_of[row.transaction_id].emplace(row.posting, row.account_id, row.kind);
  }
  std::map<std::string, uint32_t> op_of;  // transaction id -> the key answered 201 with it
  for (const auto& t : in.facts.accepted) {
    const std::string what = t.transaction_id + " (" + in.plan.key(t.op) + "): ";
    if (!op_of.emplace(t.transaction_id, t.op).second) {
      result.fail(what + "also the answer of " + in.plan.key(op_of[t.transaction_id]));
    }
    const auto want = expected_legs(in, t);
    auto found = rows_of.find(t.transaction_id);
    const auto got = found == rows_of.end() ? std::multiset<Leg>{} : found->second;
    if (got == want) continue;
    std::multiset<Leg> missing, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                        std::inserter(missing, missing.end()));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::inserter(extra, extra.end()));
    result.fail(what + "legs missing " + describe(missing) + ", legs not of its postings " +
                describe(extra));
  }
  // Rows of the run's accounts that no 201 accounts for: a refused (or never answered)
  // transaction applied, in part or whole.
  for (const auto& [id, legs] : rows_of) {
    if (op_of.count(id) == 0) {
      result.fail((id.empty() ? std::string("(no transaction_id)") : id) + ": " +
                  std::to_string(legs.size()) + " rows, and no key was answered 201 with it");
    }
  }
}

// The records of POST /transactions by reference (the key): one for a 201, with its id; none for a
// refusal; none that is no key's.
void check_records(const PostingsCheckInput& in, const PostingsLedger& ledger,
                   InvariantResult& result) {
  std::map<std::string, std::vector<std::string>> by_reference;
  for (const auto& [id, record] : ledger.records) {
    if (record.reverses.empty()) by_reference[record.reference].push_back(id);
  }
  for (size_t op = 0; op < in.plan.ops.size(); ++op) {
    if (in.plan.ops[op].kind == PostingKind::reverse) continue;
    const auto& k = in.load.keys[op];
    const std::string key = in.plan.key(uint32_t(op));
    auto node = by_reference.extract(key);
    const auto records = node.empty() ? std::vector<std::string>{} : node.mapped();
    if (!k.sent || k.answers == 0) continue;
    const auto accepted = in.facts.accepted_of_op[op];
    if (accepted >= 0) {
      const auto& id = in.facts.accepted[size_t(accepted)].transaction_id;
      if (records.size() != 1 || records.front() != id) {
        result.fail(key + ": answered 201 with " + id + ", " + std::to_string(records.size()) +
                    " records with its reference");
      }
    } else if (!records.empty()) {
      result.fail(key + ": answered " + std::to_string(k.status) + ", yet " +
                  std::to_string(records.size()) + " record(s) with its reference, " +
                  records.front());
    }
  }
  for (const auto& [reference, ids] : by_reference) {
    result.fail(ids.front() + ": a record of the run with reference \"" + reference +
                "\", which no key was answered 201 for");
  }
}

}  // namespace

InvariantResult check_no_partial_transaction(const PostingsCheckInput& in,
                                             const PostingsLedger& ledger) {
  InvariantResult result(
      "sql: postings: no partial transaction (a 201 has every leg of its postings, a refusal left "
      "nothing), one outcome and one transaction per key");
  const size_t reworded = check_keys(in, result);
  check_legs(in, ledger, result);
  check_records(in, ledger, result);
  result.note = std::to_string(in.facts.accepted.size()) + " transactions answered 201";
  if (reworded > 0) {
    result.note += "; " + std::to_string(reworded) +
                   " keys refused afresh at each send (not stored with the key) got the same "
                   "refusal in other words";
  }
  return result;
}

namespace {

// What is wrong with one original's reversals ("" when nothing): `records` its reversal records,
// `answered` the reversals answered 201, `race` its racing reversal ops (empty if none).
std::string reversal_problems(const PostingsCheckInput& in, const PostingsLedger& ledger,
                              const AnsweredTransaction& t,
                              const std::vector<const LedgerRecord*>& records,
                              const std::set<std::string>& answered,
                              const std::vector<uint32_t>& race) {
  const bool single = t.postings.size() == 1;
  const auto& first = t.postings.front();
  const std::string code = in.setup.currencies[first.currency].code;
  // transaction_reversals counts one posting's amount, or 1 of 1 for several postings.
  const int exponent = single ? in.setup.currencies[first.currency].exponent : 0;
  const int64_t reversible = single ? first.amount_minor : 1;
  std::string problems;
  int64_t sum = 0;
  std::set<std::string> ids;
  for (const auto* r : records) {
    ids.insert(r->transaction_id);
    bool inverse = r->problem.empty() && r->postings.size() == t.postings.size();
    for (size_t i = 0; inverse && i < t.postings.size(); ++i) {
      const auto& want = t.postings[i];
      const auto& got = r->postings[i];
      inverse = got.from == in.plan.side(want.to, in.setup) &&
                got.to == in.plan.side(want.from, in.setup) &&
                got.currency == in.setup.currencies[want.currency].code &&
                (single || got.amount_minor == want.amount_minor);
    }
    if (!inverse) problems += " " + r->transaction_id + " is not its inverse;";
    sum += single && !r->postings.empty() ? r->postings.front().amount_minor : 1;
  }
  if (sum > reversible) {
    problems += single ? " reversed " + money_text(in.setup, code, sum) + " of " +
                             money_text(in.setup, code, reversible) + ";"
                       : " " + std::to_string(records.size()) + " whole reversals;";
  }
  if (ids != answered) {
    problems += " " + std::to_string(ids.size()) + " reversal records, " +
                std::to_string(answered.size()) + " reversals answered 201;";
  }
  auto row = ledger.reversals.find(t.transaction_id);
  const bool has_row = row != ledger.reversals.end();
  if (records.empty() && has_row) {
    problems += " transaction_reversals has " + row->second.second + " reversed, no reversal;";
  } else if (!records.empty()) {
    const auto stored_reversible =
        has_row ? domain::parse_stored_minor(row->second.first, exponent) : std::nullopt;
    const auto stored_reversed =
        has_row ? domain::parse_stored_minor(row->second.second, exponent) : std::nullopt;
    if (stored_reversible != reversible || stored_reversed != sum) {
      problems += " transaction_reversals has " +
                  (has_row ? row->second.second + " of " + row->second.first : "no row") +
                  ", its reversal records add up to " + domain::format_minor(sum, exponent) +
                  " of " + domain::format_minor(reversible, exponent) + ";";
    }
  }
  // A race of reversals of r each fits reversible / r times (a race of {}: once).
  if (!race.empty()) {
    const int64_t each = in.plan.ops[race.front()].reverse_minor;
    const int64_t allowed = single && each > 0 ? reversible / each : 1;
    int64_t winners = 0;
    for (uint32_t op : race) winners += in.load.keys[op].status == 201 ? 1 : 0;
    if (winners > allowed) {
      problems += " " + std::to_string(winners) + " racing reversals answered 201, " +
                  std::to_string(allowed) + " fit;";
    }
  }
  return problems;
}

}  // namespace

InvariantResult check_reversal_bounds(const PostingsCheckInput& in, const PostingsLedger& ledger) {
  InvariantResult result(
      "sql: postings: reversals within bounds (sum <= the original, at most one whole reversal, "
      "transaction_reversals agrees, racing winners)");
  std::map<std::string, std::vector<const LedgerRecord*>> reversals_of;
  for (const auto& [id, record] : ledger.records) {
    if (!record.reverses.empty()) reversals_of[record.reverses].push_back(&record);
  }
  std::map<uint32_t, std::set<std::string>> answered_of;  // target op -> reversals answered 201
  for (const auto& t : in.facts.accepted) {
    if (t.reversal) answered_of[in.plan.ops[t.op].target].insert(t.transaction_id);
  }
  std::map<uint32_t, std::vector<uint32_t>> races_of;  // target op -> racing reversal ops
  for (size_t op = 0; op < in.plan.ops.size(); ++op) {
    const auto& o = in.plan.ops[op];
    if (o.kind == PostingKind::reverse && o.race) races_of[o.target].push_back(uint32_t(op));
  }
  size_t reversed = 0, reversal_records = 0;
  std::set<std::string> originals;
  for (const auto& t : in.facts.accepted) {
    if (t.reversal) continue;
    originals.insert(t.transaction_id);
    const auto records = reversals_of[t.transaction_id];
    reversed += records.empty() ? 0 : 1;
    reversal_records += records.size();
    const auto race = races_of.find(t.op);
    const std::string problems =
        reversal_problems(in, ledger, t, records, answered_of[t.op],
                          race == races_of.end() ? std::vector<uint32_t>{} : race->second);
    if (!problems.empty()) {
      result.fail(t.transaction_id + " (" + in.plan.key(t.op) + "):" + problems);
    }
  }
  for (const auto& [original, records] : reversals_of) {
    if (!records.empty() && originals.count(original) == 0) {
      result.fail(records.front()->transaction_id + " reverses " + original +
                  ", which is no transaction the run was answered 201 for");
    }
  }
  result.note = std::to_string(reversed) + " transactions reversed by " +
                std::to_string(reversal_records) + " reversals (" +
                std::to_string(races_of.size()) + " racing groups)";
  return result;
}

}  // namespace wallet::stress
