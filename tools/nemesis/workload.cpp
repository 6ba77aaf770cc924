// The nemesis workload (tools/nemesis/workload.hpp): accounts, then clients until the time is up.
#include "tools/nemesis/workload.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include "domain/money.hpp"
#include "tools/nemesis/client_ops.hpp"

namespace wallet::nemesis {
namespace {

constexpr int64_t kSecond = 1000000000;

struct Shared {
  explicit Shared(const WorkloadConfig& c) : config(c), history(c.history_path) {}
  const WorkloadConfig& config;
  HistoryWriter history;
  std::vector<std::string> accounts;
  std::map<std::string, std::string> emails;  // account -> its user's email (getBalance)
  std::atomic<int64_t> next_op{1};
  std::string run_id;
  int64_t end_ns = 0;
};

std::string money(std::mt19937_64& rng, int64_t min_minor, int64_t max_minor) {
  return domain::format_minor_units(
      std::uniform_int_distribution<int64_t>(min_minor, max_minor)(rng));
}

// Records, performs and records again one op; returns it completed.
Op perform(Shared& shared, ClientConnections& connections, std::mt19937_64& rng, int client,
           std::string f, nlohmann::json args) {
  Op op;
  op.id = shared.next_op++;
  op.client = client;
  op.f = std::move(f);
  op.args = std::move(args);
  if (op.f != "read") op.key = "nem-" + shared.run_id + "-" + std::to_string(op.id);
  op.invoke_ns = now_ns();
  shared.history.invoke(op);
  execute(op, connections, rng, op.invoke_ns + shared.config.op_deadline_s * kSecond);
  shared.history.complete(op);
  return op;
}

// Two distinct accounts.
std::pair<std::string, std::string> two(const Shared& shared, std::mt19937_64& rng) {
  std::uniform_int_distribution<size_t> pick(0, shared.accounts.size() - 1);
  size_t a = pick(rng), b = pick(rng);
  while (b == a) b = pick(rng);
  return {shared.accounts[a], shared.accounts[b]};
}

// One step of a client: an op drawn from the mix (reads 30%, transfers 30%, holds 14%, ...). The
// amounts keep balances low enough that refusals (409 insufficient_funds) are common too.
// A read through user-service's getBalance (over NATS) is 5% of the ops, through
// transaction-service 25%.
void step(Shared& shared, ClientConnections& connections, ClientConnections& user_connections,
          std::mt19937_64& rng, int client) {
  const int roll = std::uniform_int_distribution<int>(0, 99)(rng);
  auto [a, b] = two(shared, rng);
  if (roll < 5) {
    perform(shared, user_connections, rng, client, "read",
            {{"account", a}, {"email", shared.emails.at(a)}});
  } else if (roll < 30) {
    perform(shared, connections, rng, client, "read", {{"account", a}});
  } else if (roll < 60) {
    perform(shared, connections, rng, client, "transfer",
            {{"from", a}, {"to", b}, {"amount", money(rng, 1, 8000)}});
  } else if (roll < 68) {
    perform(shared, connections, rng, client, "deposit",
            {{"account", a}, {"amount", money(rng, 100, 3000)}});
  } else if (roll < 74) {
    perform(shared, connections, rng, client, "withdraw",
            {{"account", a}, {"amount", money(rng, 1, 4000)}});
  } else if (roll < 86) {
    // A payment with its fee to a third account, sometimes funded from outside in the same
    // transaction (a posting from @world).
    std::string c = two(shared, rng).first;
    nlohmann::json postings = nlohmann::json::array();
    if (rng() % 3 == 0) {
      postings.push_back(
          {{"from", "@world"}, {"to", a}, {"amount", money(rng, 100, 1500)}, {"currency", "USD"}});
    }
    postings.push_back(
        {{"from", a}, {"to", b}, {"amount", money(rng, 1, 4000)}, {"currency", "USD"}});
    if (c != a && c != b && rng() % 2 == 0) {
      // A split: a second payer, often served by the other instance (its debit is held there
      // until the transaction is decided: DESIGN.md section 10).
      postings.push_back(
          {{"from", c}, {"to", b}, {"amount", money(rng, 1, 2000)}, {"currency", "USD"}});
    } else if (c != a) {
      postings.push_back(
          {{"from", a}, {"to", c}, {"amount", money(rng, 1, 200)}, {"currency", "USD"}});
    }
    perform(shared, connections, rng, client, "post", {{"postings", postings}});
  } else {
    const std::string amount = money(rng, 1, 3000);
    Op hold = perform(shared, connections, rng, client, "hold",
                      {{"from", a}, {"to", b}, {"amount", amount}});
    const std::string hold_id = answer_text(hold, "hold_id");
    if (hold.outcome != "ok" || hold_id.empty()) return;
    const bool capture = rng() % 3 != 0;
    perform(shared, connections, rng, client, capture ? "capture" : "void",
            {{"hold_id", hold_id}, {"from", a}, {"to", b}, {"amount", amount}});
  }
}

void client_loop(Shared& shared, int client) {
  std::mt19937_64 rng(shared.config.seed * 1000003 + static_cast<uint64_t>(client));
  ClientConnections connections(shared.config.tx_urls, shared.config.request_timeout_ms);
  ClientConnections user_connections(shared.config.user_urls, shared.config.request_timeout_ms);
  while (now_ns() < shared.end_ns) step(shared, connections, user_connections, rng, client);
}

// Users through user-service (before any fault), then their accounts visible on every instance,
// then an opening deposit each (recorded like any other op).
bool open_accounts(Shared& shared) {
  std::mt19937_64 rng(shared.config.seed);
  stress::HttpSession users(shared.config.user_urls.at(0), 10000);
  for (int i = 0; i < shared.config.accounts; ++i) {
    const std::string email = "nem-" + shared.run_id + "-" + std::to_string(i) + "@example.com";
    stress::HttpAnswer answer =
        users.post("/createUser", nlohmann::json{{"email", email}}.dump(), "");
    nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status != 201 || !body.is_object() || !body.contains("user_id")) {
      std::fprintf(stderr, "nemesis: createUser answered %d %s\n", answer.status,
                   answer.body.c_str());
      return false;
    }
    shared.accounts.push_back(body["user_id"].get<std::string>());
    shared.emails[shared.accounts.back()] = email;
  }
  ClientConnections connections(shared.config.tx_urls, 5000);
  const int64_t deadline = now_ns() + 90 * kSecond;
  for (const std::string& account : shared.accounts) {
    for (size_t i = 0; i < connections.size(); ++i) {
      while (connections.at(i).get("/users/" + account + "/balance").status != 200) {
        if (now_ns() > deadline) {
          std::fprintf(stderr, "nemesis: account %s never appeared\n", account.c_str());
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    perform(shared, connections, rng, 0, "deposit", {{"account", account}, {"amount", "200.00"}});
  }
  return true;
}

}  // namespace

int run_workload(const WorkloadConfig& config) {
  stress::init_http();
  Shared shared(config);
  shared.run_id = std::to_string(config.seed) + "-" + std::to_string(now_ns() / 1000000);
  const int64_t started = now_ns();
  if (!open_accounts(shared)) return 1;
  shared.end_ns = started + config.seconds * kSecond;
  std::vector<std::thread> clients;
  for (int c = 1; c <= config.clients; ++c) clients.emplace_back(client_loop, std::ref(shared), c);
  for (std::thread& t : clients) t.join();
  std::printf("workload: %lld ops over %d accounts by %d clients\n",
              static_cast<long long>(shared.next_op - 1), config.accounts, config.clients);
  return 0;
}

}  // namespace wallet::nemesis
