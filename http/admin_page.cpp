#include "http/admin_page.hpp"

#include "http/static_assets.hpp"

namespace wallet::http {

void add_admin_page_routes(Router& router) {
  // The page links its files by absolute path, so /admin and /admin/ can serve the same bytes.
  router.add("GET", "/admin", serve_embedded_asset("static/admin/index.html"));
  router.add("GET", "/admin/", serve_embedded_asset("static/admin/index.html"));
  router.add("GET", "/admin/app.js", serve_embedded_asset("static/admin/app.js"));
  router.add("GET", "/admin/style.css", serve_embedded_asset("static/admin/style.css"));
}

}  // namespace wallet::http
