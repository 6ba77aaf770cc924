// The ledger-events stream checked against the run (event_verifier.hpp): read from the offsets
// taken before the run, tallied per account, then judged.
#include "tools/wallet_stress/event_verifier.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "domain/money.hpp"

namespace wallet::stress {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<RdKafka::Conf> consumer_conf(const std::string& brokers, std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  // Offsets are assigned by hand and never committed: the group id only satisfies the client.
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", brokers},  {"group.id", "wallet-stress-events"},
      {"enable.auto.commit", "false"}, {"enable.partition.eof", "false"},
      {"client.id", "wallet-stress"},
  };
  for (const auto& [name, value] : settings) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) return nullptr;
  }
  return conf;
}

// What the stream says of one account.
struct AccountEvents {
  int64_t sum = 0;
  int64_t last_new = -1;  // -1: no row event yet
  int64_t first_old = -1;
  uint64_t rows = 0;
  uint64_t chain_breaks = 0;
  std::string first_break;
  std::map<std::string, std::pair<std::string, int64_t>> holds;  // hold_id -> (last status, amount)
};

// The pending holds of one account's events.
int64_t pending_held(const AccountEvents& account) {
  int64_t pending = 0;
  for (const auto& [id, hold] : account.holds) {
    if (hold.first == "pending") pending += hold.second;
  }
  return pending;
}

// What the stream says of the run's accounts so far.
struct StreamTally {
  explicit StreamTally(const std::vector<Account>& accounts) : seen(accounts.size()) {
    for (size_t i = 0; i < accounts.size(); ++i) index[accounts[i].user_id] = i;
  }

  std::unordered_map<std::string, size_t> index;  // account id -> index of the run's accounts
  std::vector<AccountEvents> seen;                // indexed like the run's accounts
  std::set<std::string> event_ids;
  uint64_t duplicates = 0, malformed = 0;
};

// A consumer assigned to `topic` from the offsets in `start`; null (and `error` set) when it cannot
// be.
std::unique_ptr<RdKafka::KafkaConsumer> assigned_consumer(const std::string& brokers,
                                                          const std::string& topic,
                                                          const EventStreamStart& start,
                                                          std::string& error) {
  auto conf = consumer_conf(brokers, error);
  if (!conf) return nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) return nullptr;
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const auto& [partition, offset] : start.offsets) {
    assignment.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
  const auto assigned = consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (assigned != RdKafka::ERR_NO_ERROR) {
    error = RdKafka::err2str(assigned);
    return nullptr;
  }
  return consumer;
}

// Every account's events add up to the balance the driver expects, and leave pending what it
// expects held.
bool settled(const StreamTally& tally, const std::vector<Account>& accounts,
             const std::vector<int64_t>& expected_minor,
             const std::vector<int64_t>& expected_held_minor) {
  for (size_t i = 0; i < accounts.size(); ++i) {
    if (tally.seen[i].sum != expected_minor[i] - accounts[i].baseline_minor) return false;
    if (pending_held(tally.seen[i]) != expected_held_minor[i]) return false;
  }
  return true;
}

// One event of the stream (`payload`, `size` bytes) into the tally: a row event extends its
// account's chain, a hold event sets the hold's status; duplicates, other accounts' events and
// transactions' own events change nothing.
void take_event(StreamTally& tally, const std::vector<Account>& accounts, const char* payload,
                size_t size) {
  auto event = nlohmann::json::parse(payload, payload + size, nullptr, false);
  if (event.is_discarded() || !event.is_object() || !event.contains("event_id") ||
      !event.contains("user_id")) {
    ++tally.malformed;
    return;
  }
  if (!tally.event_ids.insert(event["event_id"].get<std::string>()).second) {
    ++tally.duplicates;  // at least once: a republished event changes nothing
    return;
  }
  // A transaction's own event (SPEC.md section 8) moves nothing: its rows have theirs.
  if (event.contains("kind") && event["kind"] == "transaction") return;
  // An event names its account (account_id; user_id is the owner, the same id for a
  // default account): another account of a run user is not its default account.
  const auto& account_id = event.contains("account_id") && event["account_id"].is_string()
                               ? event["account_id"]
                               : event["user_id"];
  auto who = tally.index.find(account_id.get<std::string>());
  if (who == tally.index.end()) return;  // another run's account, or not a default account
  auto& account = tally.seen[who->second];
  auto minor = [&event](const char* field) {
    return event.contains(field) && event[field].is_string()
               ? domain::parse_minor_units(event[field].get<std::string>())
               : std::nullopt;
  };
  if (event.contains("hold_id")) {
    const auto amount = minor("amount");
    if (!amount || !event.contains("status")) {
      ++tally.malformed;
      return;
    }
    account.holds[event["hold_id"].get<std::string>()] = {event["status"].get<std::string>(),
                                                          *amount};
    return;
  }
  const auto change = minor("balance_change"), old_balance = minor("old_balance"),
             new_balance = minor("new_balance");
  if (!change || !old_balance || !new_balance) {
    ++tally.malformed;
    return;
  }
  const int64_t expected_old =
      account.last_new < 0 ? accounts[who->second].baseline_minor : account.last_new;
  if (*old_balance != expected_old && account.chain_breaks++ == 0) {
    account.first_break = "row " + event.value("transaction_id", std::string("?")) + " starts at " +
                          domain::format_minor_units(*old_balance) + " after " +
                          domain::format_minor_units(expected_old);
  }
  account.sum += *change;
  account.last_new = *new_balance;
  ++account.rows;
}

// The three invariants from the tally, once the stream has settled or the wait ran out.
void judge(const StreamTally& tally, const std::vector<Account>& accounts,
           const std::vector<int64_t>& expected_minor,
           const std::vector<int64_t>& expected_held_minor, InvariantResult& chain,
           InvariantResult& sums, InvariantResult& held) {
  uint64_t rows = 0;
  for (size_t i = 0; i < accounts.size(); ++i) {
    const auto& a = tally.seen[i];
    rows += a.rows;
    if (a.chain_breaks > 0) chain.fail(accounts[i].user_id + ": " + a.first_break);
    if (a.sum != expected_minor[i] - accounts[i].baseline_minor) {
      sums.fail(accounts[i].user_id + ": events add up to " +
                domain::format_minor_units(accounts[i].baseline_minor + a.sum) + ", expected " +
                domain::format_minor_units(expected_minor[i]));
    }
    const int64_t pending = pending_held(a);
    if (pending != expected_held_minor[i]) {
      held.fail(accounts[i].user_id + ": events leave " + domain::format_minor_units(pending) +
                " held, expected " + domain::format_minor_units(expected_held_minor[i]));
    }
  }
  sums.note = std::to_string(rows) + " row events of this run's accounts, " +
              std::to_string(tally.duplicates) + " republished duplicates ignored, " +
              std::to_string(tally.malformed) + " malformed";
  if (tally.malformed > 0)
    chain.fail(std::to_string(tally.malformed) + " events could not be read");
}

}  // namespace

EventStreamStart ledger_events_start(const std::string& brokers, const std::string& topic) {
  EventStreamStart start;
  auto conf = consumer_conf(brokers, start.error);
  if (!conf) return start;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), start.error));
  if (!consumer) return start;
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer.get(), topic, nullptr, start.error));
  if (!handle) return start;
  if (consumer->metadata(false, handle.get(), &raw, 10'000) != RdKafka::ERR_NO_ERROR || !raw) {
    start.error = "no metadata for topic " + topic;
    return start;
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    for (const auto* p : *t->partitions()) {
      int64_t low = 0, high = 0;
      const auto err = consumer->query_watermark_offsets(topic, p->id(), &low, &high, 10'000);
      if (err != RdKafka::ERR_NO_ERROR) {
        start.error = "partition " + std::to_string(p->id()) + ": " + RdKafka::err2str(err);
        start.offsets.clear();
        return start;
      }
      start.offsets[p->id()] = high;
    }
  }
  if (start.offsets.empty()) start.error = "topic " + topic + " has no partitions";
  consumer->close();
  return start;
}

std::vector<InvariantResult> verify_event_stream(
    const std::string& brokers, const std::string& topic, const EventStreamStart& start,
    const std::vector<Account>& accounts, const std::vector<int64_t>& expected_minor,
    const std::vector<int64_t>& expected_held_minor, double wait_seconds) {
  InvariantResult chain("events: each account's ledger-events chain old->new, in order");
  InvariantResult sums("events: each account's ledger-events add up to its balance");
  InvariantResult held("events: the holds ledger-events leave pending = the driver's expectation");
  auto give_up = [&](const std::string& why) {
    for (auto* i : {&chain, &sums, &held}) i->fail("the stream could not be read: " + why);
    return std::vector<InvariantResult>{chain, sums, held};
  };
  if (!start.error.empty()) return give_up(start.error);
  std::string error;
  auto consumer = assigned_consumer(brokers, topic, start, error);
  if (!consumer) return give_up(error);

  StreamTally tally(accounts);
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(wait_seconds));
  // settled() walks every account: ask it when the stream pauses or every 1000 events, not per
  // event.
  uint64_t since_check = 0;
  bool done = settled(tally, accounts, expected_minor, expected_held_minor);
  while (!done && Clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
    if (message->err() != RdKafka::ERR_NO_ERROR || ++since_check >= 1000) {
      since_check = 0;
      done = settled(tally, accounts, expected_minor, expected_held_minor);
    }
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    take_event(tally, accounts, static_cast<const char*>(message->payload()), message->len());
  }
  consumer->close();

  judge(tally, accounts, expected_minor, expected_held_minor, chain, sums, held);
  return {chain, sums, held};
}

}  // namespace wallet::stress
