// The balance responder and requester over a private nats-server (started and stopped by the test,
// so the shared stack is not disturbed): the responder starts while NATS is down and subscribes
// once it is up, answers balances and the contract's errors, and both sides recover from a server
// restart without being recreated.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/ids.hpp"
#include "messaging/bridges.hpp"
#include "messaging/contract.hpp"
#include "messaging/nats_requester.hpp"
#include "test/support/awaited_reply.hpp"
#include "test/support/eventually.hpp"
#include "test/support/service_process.hpp"

namespace wallet::test {
namespace {

using namespace std::chrono_literals;

// nats-server on its own port, as a child process.
class PrivateNats {
 public:
  PrivateNats() : port_(free_port()) {}
  ~PrivateNats() { stop(); }
  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      const int quiet = open("/dev/null", O_WRONLY);
      dup2(quiet, STDOUT_FILENO);
      dup2(quiet, STDERR_FILENO);
      const std::string port = std::to_string(port_);
      execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = -1;
};

class BalanceResponderTest : public ::testing::Test {
 protected:
  domain::Result<std::string> ask(messaging::NatsRequester& requester, const std::string& body) {
    AwaitedReply<domain::Result<std::string>> reply;
    requester.request(messaging::kBalanceSubject, body, reply.callback());
    return reply.get();
  }
  nlohmann::json ask_json(messaging::NatsRequester& requester, const std::string& body) {
    auto reply = ask(requester, body);
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? nlohmann::json::parse(*reply, nullptr, false) : nlohmann::json();
  }

  // Balances of a pretend ledger: known accounts hold 12.34, others are user_not_found. The answer
  // arrives on another thread, as the ledger's actors deliver it.
  messaging::BalanceLookup lookup_ = [this](const std::string& user_id,
                                            std::function<void(domain::Result<int64_t>)> reply) {
    std::thread([this, user_id, reply = std::move(reply)] {
      if (user_id == known_) return reply(int64_t{1234});
      reply(domain::Error{domain::ErrorCode::user_not_found, "no account"});
    }).detach();
  };

  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  PrivateNats nats_;
  std::string known_ = domain::new_uuid_v4();
};

TEST_F(BalanceResponderTest, StartsWithoutNatsAnswersOnceItIsUpAndSurvivesARestart) {
  messaging::BalanceResponder responder(system_, nats_.url(), lookup_);
  messaging::NatsRequesterOptions options;
  options.url = nats_.url();
  options.timeout = 1000ms;
  options.threads = 2;
  messaging::NatsRequester requester(options);
  EXPECT_FALSE(responder.healthy());
  EXPECT_FALSE(requester.healthy());
  auto early = ask(requester, nlohmann::json{{"user_id", known_}}.dump());
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, domain::ErrorCode::unavailable);

  nats_.start();
  ASSERT_TRUE(eventually([&] { return responder.healthy() && requester.healthy(); }, 10s));
  // The queue subscription made while disconnected must reach the server before requests do.
  ASSERT_TRUE(eventually(
      [&] {
        return ask(requester, nlohmann::json{{"user_id", known_}}.dump()).ok();
      },
      5s));

  auto balance = ask_json(requester, nlohmann::json{{"user_id", known_}}.dump());
  EXPECT_EQ(balance, (nlohmann::json{{"user_id", known_}, {"balance", "12.34"}}));
  EXPECT_EQ(ask_json(requester,
                     nlohmann::json{{"user_id", domain::new_uuid_v4()}}.dump())["error"]["code"],
            "user_not_found");
  EXPECT_EQ(ask_json(requester, R"({"user_id": 7})")["error"]["code"], "invalid_user_id");
  EXPECT_EQ(ask_json(requester, "{not json")["error"]["code"], "invalid_json");
  EXPECT_GE(responder.status()["counters"]["answered"].get<int>(), 1);

  nats_.stop();
  ASSERT_TRUE(eventually([&] { return !responder.healthy() && !requester.healthy(); }, 10s));
  auto during = ask(requester, nlohmann::json{{"user_id", known_}}.dump());
  ASSERT_FALSE(during);
  EXPECT_EQ(during.error().code, domain::ErrorCode::unavailable);

  nats_.start();
  ASSERT_TRUE(eventually([&] { return responder.healthy() && requester.healthy(); }, 10s));
  EXPECT_TRUE(eventually(
      [&] {
        return ask(requester, nlohmann::json{{"user_id", known_}}.dump()).ok();
      },
      5s));
  requester.stop();
  responder.stop();
}

}  // namespace
}  // namespace wallet::test
