// The live admin page at /admin/ of transaction-service, as an operator sees it in a real browser:
// headless Chromium (Debian's) driven over W3C WebDriver by chromedriver. It must turn a wrong
// token into a clear 401 message, and show an account actor the test just made busy within
// seconds, with its balance, the totals and the bridges. Screenshots go to
// <build>/test-artifacts/admin-page.png and admin-page-401.png for a person to look at.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "test/e2e/admin/webdriver.hpp"
#include "test/support/environment.hpp"
#include "test/support/http_client.hpp"
#include "test/support/ledger_invariants.hpp"

namespace wallet::test {
namespace {

std::string artifacts_dir() {
  auto dir = std::filesystem::path(bin_dir()).parent_path() / "test-artifacts";
  std::filesystem::create_directories(dir);
  return dir.string();
}

class AdminPageTest : public ::testing::Test {
 protected:
  HttpClient client_{transaction_service_url()};
};

TEST_F(AdminPageTest, IsServedPubliclyWithStrictHeaders) {
  for (const char* path : {"/admin/", "/admin"}) {
    auto page = client_.get(path);
    ASSERT_EQ(page.status, 200) << path << " " << page.body;
    EXPECT_EQ(page.headers["content-type"].rfind("text/html", 0), 0u)
        << page.headers["content-type"];
    EXPECT_EQ(page.headers["cache-control"], "no-store");
    EXPECT_NE(page.headers["content-security-policy"].find("default-src 'self'"),
              std::string::npos);
    EXPECT_NE(page.headers["content-security-policy"].find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
    EXPECT_NE(page.body.find("<script src=\"/admin/app.js\""), std::string::npos);
    // The page is public because it carries no data: nothing but markup.
    EXPECT_EQ(page.body.find("balance_held\":"), std::string::npos);
  }
  auto script = client_.get("/admin/app.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["content-type"].rfind("text/javascript", 0), 0u);
  EXPECT_EQ(script.headers["cache-control"], "no-store");
  auto style = client_.get("/admin/style.css");
  ASSERT_EQ(style.status, 200);
  EXPECT_EQ(style.headers["content-type"].rfind("text/css", 0), 0u);
  // The data behind it is not public.
  auto actors = client_.get("/admin/actors");
  EXPECT_EQ(actors.status, 401);
  EXPECT_EQ(actors.error_code(), "unauthorized");
}

TEST_F(AdminPageTest, ShowsTheActorOfAJustUsedAccountAndA401ForAWrongToken) {
  const std::string token = admin_token();
  ASSERT_FALSE(token.empty()) << "no admin token: set ADMIN_TOKEN or run ./scripts/up";
  ASSERT_TRUE(std::filesystem::exists(kChromiumBinary)) << "install Debian's chromium";
  ASSERT_TRUE(std::filesystem::exists(kChromeDriverBinary)) << "install chromium-driver";

  // An account with fresh activity, so that its actor is alive (idle actors are evicted).
  pqxx::connection db{transaction_db_url()};
  const std::string user_id = create_accounts(db, 1).front();
  auto deposit = client_.post("/addMoney", R"({"user_id":")" + user_id + R"(","amount":"12.34"})");
  ASSERT_EQ(deposit.status, 200) << deposit.body;

  const std::string artifacts = artifacts_dir();
  WebDriverSession browser(artifacts);
  browser.navigate(transaction_service_url() + "/admin/");
  ASSERT_TRUE(browser.wait_until("return !document.getElementById('login').hidden;",
                                 std::chrono::seconds(5)))
      << "the token form is not shown";
  // The stylesheet loaded under the page's CSP: the header bar has its dark colour.
  EXPECT_EQ(browser.script("return getComputedStyle(document.querySelector('header.top'))"
                           ".backgroundColor;"),
            "rgb(29, 39, 51)");

  // A wrong token: a clear 401 message, the form again, no data.
  browser.type("#token", "wrong-" + domain::new_uuid_v4());
  browser.click("#connect");
  const bool shown_401 = browser.wait_until(
      "const m = document.getElementById('message');"
      "return !m.hidden && m.textContent.includes('401') && "
      "!document.getElementById('login').hidden"
      " && document.getElementById('dashboard').hidden;",
      std::chrono::seconds(5));
  browser.screenshot(artifacts + "/admin-page-401.png");
  ASSERT_TRUE(shown_401) << "no 401 message for a wrong token; see " << artifacts
                         << "/admin-page-401.png";
  EXPECT_EQ(browser.script("return sessionStorage.getItem('wallet.adminToken');"), nullptr)
      << "a rejected token must not be kept";

  // The right token: the actor of our account appears, with the balance we deposited. Other
  // tests may keep thousands of actors alive, so narrow the table to ours with the filter.
  browser.type("#token", token);
  browser.click("#connect");
  browser.type("#filter", user_id);
  const nlohmann::json row_args = {user_id};
  const bool appeared = browser.wait_until(
      "return !!document.querySelector('#actors tbody tr[data-user-id=\"' + arguments[0] + '\"]');",
      std::chrono::seconds(10), row_args);
  browser.screenshot(artifacts + "/admin-page.png");
  ASSERT_TRUE(appeared) << "actor " << user_id << " did not appear within 10 s; see " << artifacts
                        << "/admin-page.png";
  auto cells = browser.script(
      "const tr = document.querySelector('#actors tbody tr[data-user-id=\"' + arguments[0] + "
      "'\"]');"
      "return Array.from(tr.cells).map((td) => td.textContent);",
      row_args);
  ASSERT_EQ(cells.size(), 12u) << cells.dump();  // with held, holds and the currency
  EXPECT_EQ(cells[0], user_id);
  EXPECT_EQ(cells[2], "USD") << cells.dump();
  EXPECT_EQ(cells[3], "12.34") << cells.dump();
  EXPECT_EQ(cells[5], "0.00") << cells.dump();  // held
  EXPECT_EQ(cells[6], "0") << cells.dump();     // holds pending
  EXPECT_EQ(browser.script("return sessionStorage.getItem('wallet.adminToken');"), token);
  EXPECT_TRUE(browser.script("return document.getElementById('message').hidden;").get<bool>());
  EXPECT_NE(browser.script("return document.getElementById('total-live').textContent;"), "–");
  for (const char* bridge : {"kafka_consumer", "nats_responder", "ledger_writer"}) {
    auto details = browser.script(
        "return document.querySelector('#bridge-' + arguments[0] + ' .details').textContent;",
        nlohmann::json{bridge});
    EXPECT_FALSE(details.get<std::string>().empty()) << bridge;
  }

  // Sorting by clicking headers over all actors: mailbox size starts descending, a second click
  // reverses it; last activity starts with the most recent.
  browser.type("#filter", "");
  const std::string sort_of =
      "return document.querySelector('#actors th[data-key=\"' + arguments[0] + "
      "'\"]').getAttribute('aria-sort');";
  browser.click("#actors th[data-key=\"last_activity_ms\"]");
  EXPECT_EQ(browser.script(sort_of, {"last_activity_ms"}), "ascending");
  browser.click("#actors th[data-key=\"mailbox_size\"]");
  EXPECT_EQ(browser.script(sort_of, {"mailbox_size"}), "descending");
  browser.click("#actors th[data-key=\"mailbox_size\"]");
  EXPECT_EQ(browser.script(sort_of, {"mailbox_size"}), "ascending");
  EXPECT_EQ(browser.script(sort_of, {"last_activity_ms"}), "none");
  EXPECT_TRUE(browser
                  .script("const v = Array.from(document.querySelectorAll('#actors tbody tr'))"
                          "  .map((tr) => Number(tr.cells[6].textContent));"
                          "return v.every((x, i) => i === 0 || v[i - 1] <= x);")
                  .get<bool>())
      << "rows are not in ascending mailbox order";
}

}  // namespace
}  // namespace wallet::test
