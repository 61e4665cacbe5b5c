import Hummingbird
import NIOCore

/// `/dashboard` (public HTML): services and instances with health and breaker state, request
/// rate and latency, and recent domain events, updating live. The data comes from the admin
/// API, so the page asks for a platform-admin token; it is kept in the tab's sessionStorage
/// (or passed as `#token=…`, which browsers never send to a server) and used as a bearer header
/// — and as `?access_token=` for the event stream, where a browser cannot set headers.
struct DashboardController<Context: RequestContext>: Sendable {
    func addRoutes(to router: Router<Context>) {
        router.get("/dashboard") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
    }
}

enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brain Gateway — dashboard</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 14px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .stat { color: #c5cad6; } .stat b { color: #fff; font-size: 16px; }
  main { padding: 16px 24px; display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
  section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 12px 14px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 6px; border-top: 1px solid #eef0f4; vertical-align: top; }
  th { color: #5b6475; font-weight: 600; font-size: 12px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
  .healthy, .closed { background: #dcf3e4; color: #186a3b; }
  .degraded, .half_open { background: #fff1cc; color: #7a5a00; }
  .down, .open { background: #fbdcdc; color: #9b1c1c; }
  #events li { padding: 4px 0; border-top: 1px solid #eef0f4; list-style: none; font-size: 13px; }
  #events { padding: 0; margin: 0; max-height: 70vh; overflow-y: auto; }
  .muted { color: #7b8494; }
  form { display: flex; gap: 8px; } input { flex: 1; padding: 6px; font: inherit; }
  #login { max-width: 640px; margin: 60px auto; }
</style>
</head>
<body>
<header>
  <h1>Brain Gateway</h1>
  <span class="stat">requests <b id="total">–</b></span>
  <span class="stat">rate <b id="rate">–</b>/s</span>
  <span class="stat">avg latency <b id="latency">–</b> ms</span>
  <span class="stat">breaker activations <b id="activations">–</b></span>
  <span class="stat">cached <b id="cached">–</b></span>
  <span class="stat" id="updated"></span>
</header>
<section id="login" hidden>
  <h2>Platform-admin token</h2>
  <p class="muted">The dashboard reads the admin API; the token stays in this tab.</p>
  <form id="token-form"><input id="token-input" type="password" placeholder="Bearer token" autocomplete="off"><button>Open</button></form>
  <p id="login-error" class="muted"></p>
</section>
<main id="board" hidden>
  <section>
    <h2>Services</h2>
    <table>
      <thead><tr><th>Service</th><th>Status</th><th>Instance</th><th>Instance status</th><th>Breaker</th><th>Probe ms</th><th>Requests</th></tr></thead>
      <tbody id="services"></tbody>
    </table>
  </section>
  <section>
    <h2>Recent events</h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
"use strict";
const state = { token: null, lastTotal: null, lastAt: null, source: null };
const $ = (id) => document.getElementById(id);
function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) { const span = document.createElement("span"); span.className = "badge " + cls; span.textContent = text; td.append(span); }
  else td.textContent = text;
  return td;
}
async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (response.status === 401 || response.status === 403) throw new Error("token refused (" + response.status + ")");
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}
function showLogin(message) {
  $("board").hidden = true; $("login").hidden = false; $("login-error").textContent = message || "";
  if (state.source) { state.source.close(); state.source = null; }
}
async function refresh() {
  try {
    const [health, metrics] = await Promise.all([api("/api/brain/health"), api("/api/brain/metrics")]);
    $("login").hidden = true; $("board").hidden = false;
    const body = $("services"); body.replaceChildren();
    for (const service of health.services) {
      service.instances.forEach((instance, index) => {
        const row = document.createElement("tr");
        row.dataset.service = service.name;
        row.append(cell(index === 0 ? service.name : ""), cell(index === 0 ? service.status : "", index === 0 ? service.status : ""),
          cell(instance.url), cell(instance.status, instance.status), cell(instance.breaker.replace("_", "-"), instance.breaker),
          cell(instance.response_time_ms == null ? "–" : instance.response_time_ms.toFixed(1)),
          cell(index === 0 ? String((metrics.requests_per_service || {})[service.name] || 0) : ""));
        body.append(row);
      });
    }
    const now = Date.now();
    if (state.lastTotal !== null && now > state.lastAt) {
      $("rate").textContent = ((metrics.total_requests - state.lastTotal) * 1000 / (now - state.lastAt)).toFixed(1);
    }
    state.lastTotal = metrics.total_requests; state.lastAt = now;
    $("total").textContent = metrics.total_requests;
    $("latency").textContent = Number(metrics.average_response_time).toFixed(2);
    $("activations").textContent = metrics.circuit_breaker_activations;
    $("cached").textContent = metrics.cached_responses;
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (!state.source) followEvents();
  } catch (error) {
    showLogin(String(error.message || error));
  }
}
function addEvent(event) {
  const item = document.createElement("li");
  item.dataset.type = event.type;
  const data = Object.entries(event.data || {}).map(([k, v]) => k + "=" + v).join(" ");
  item.textContent = new Date(event.occurred_at).toLocaleTimeString() + "  " + event.type + "  " + data;
  $("events").prepend(item);
  while ($("events").children.length > 200) $("events").lastChild.remove();
}
async function followEvents() {
  const recent = await api("/api/brain/events?limit=50");
  $("events").replaceChildren();
  recent.events.forEach(addEvent);
  const since = recent.events.length ? recent.events[recent.events.length - 1].id : 0;
  state.source = new EventSource("/api/brain/events/stream?since=" + since + "&access_token=" + encodeURIComponent(state.token));
  const handle = (message) => addEvent(JSON.parse(message.data));
  for (const type of ["ServiceRegistered", "ServiceUpdated", "ServiceRemoved", "RouteRegistered", "ServiceHealthChanged", "CircuitOpened", "CircuitClosed"]) {
    state.source.addEventListener(type, handle);
  }
}
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
  sessionStorage.setItem("brain-token", state.token);
  refresh();
});
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) { sessionStorage.setItem("brain-token", fragment.get("token")); history.replaceState(null, "", location.pathname); }
state.token = sessionStorage.getItem("brain-token");
if (state.token) refresh(); else showLogin();
setInterval(() => { if (state.token && !$("board").hidden) refresh(); }, 2000);
</script>
</body>
</html>
"""#
}
