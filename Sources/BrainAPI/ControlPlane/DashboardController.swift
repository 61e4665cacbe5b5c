import Hummingbird
import NIOCore

/// `/dashboard` (public HTML): services and instances with health and breaker state, request
/// rate and latency, recent workflow runs with each step on a timeline, and recent domain
/// events, updating live. Health, breakers, totals and
/// events come from the admin API; each service's rate, mean latency and p95 over the last
/// refresh come from the differences between two scrapes of `/metrics` (its request counters
/// and duration histograms), so the page shows what is happening now rather than averages since
/// start. The admin API needs a platform-admin token; it is kept in the tab's sessionStorage
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
  [hidden] { display: none !important; }
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
  .wide { grid-column: 1 / -1; }
  .succeeded, .compensated, .fallback, .applied { background: #dcf3e4; color: #186a3b; }
  .running, .pending, .skipped, .started, .recorded { background: #e6ecf8; color: #2b4a8b; }
  .failed, .timed_out, .cancelled { background: #fbdcdc; color: #9b1c1c; }
  .timeline { position: relative; height: 22px; min-width: 240px; background: #f7f8fa; border-radius: 4px; }
  .timeline .step { position: absolute; top: 2px; height: 18px; border-radius: 3px; font-size: 11px; line-height: 18px;
    padding: 0 4px; overflow: hidden; white-space: nowrap; box-sizing: border-box; min-width: 3px; }
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
  <span class="stat">autonomous decisions <b id="decisions-count">–</b></span>
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
      <thead><tr><th>Service</th><th>Status</th><th>Instance</th><th>Instance status</th><th>Breaker</th><th>Probe ms</th><th>Requests</th><th>Rate /s</th><th>Latency ms</th><th>p95 ms</th></tr></thead>
      <tbody id="services"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Recent workflow runs</h2>
    <table>
      <thead><tr><th>Workflow</th><th>Status</th><th>Started</th><th>ms</th><th>Steps (timeline)</th></tr></thead>
      <tbody id="runs"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Autonomous optimiser</h2>
    <p class="muted"><span id="optimizer-state"></span> <button id="optimizer-toggle" type="button">Pause</button></p>
    <table>
      <thead><tr><th>Time</th><th>Service</th><th>Rule</th><th>Action</th><th>Instance</th><th>Weight</th><th>p95 ms</th><th>Error rate</th><th>Requests</th><th>Mode</th><th>Outcome</th></tr></thead>
      <tbody id="decisions"></tbody>
    </table>
  </section>
  <section>
    <h2>Integrations (this token's tenant)</h2>
    <p class="muted" id="integrations-summary"></p>
    <table>
      <thead><tr><th>Integration</th><th>Category</th><th>Tier</th><th>Status</th></tr></thead>
      <tbody id="integrations"></tbody>
    </table>
  </section>
  <section>
    <h2>Recent events</h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
"use strict";
const state = { token: null, source: null, traffic: null };
const $ = (id) => document.getElementById(id);
function cell(text, cls) {
  const td = document.createElement("td");
  if (cls) { const span = document.createElement("span"); span.className = "badge " + cls; span.textContent = text; td.append(span); }
  else td.textContent = text;
  return td;
}
async function api(path, method) {
  const response = await fetch(path, { method: method || "GET", headers: { Authorization: "Bearer " + state.token } });
  if (response.status === 401 || response.status === 403) throw new Error("token refused (" + response.status + ")");
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}
// Per service from the Prometheus text: request count, duration sum and count, and the
// cumulative duration buckets (upper bound in seconds → count).
function trafficByService(text) {
  const byService = {};
  const entry = (name) => byService[name] || (byService[name] = { requests: 0, sum: 0, count: 0, buckets: {} });
  for (const line of text.split("\n")) {
    const match = /^(brain_gateway_request(?:s_total|_duration_seconds_(?:sum|count|bucket)))\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const label of match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]] = label[2];
    if (!labels.service) continue;
    const value = Number(match[3]), service = entry(labels.service);
    switch (match[1]) {
      case "brain_gateway_requests_total": service.requests += value; break;
      case "brain_gateway_request_duration_seconds_sum": service.sum += value; break;
      case "brain_gateway_request_duration_seconds_count": service.count += value; break;
      default: service.buckets[labels.le] = (service.buckets[labels.le] || 0) + value;
    }
  }
  return byService;
}
// Rate, mean and p95 (the upper bound of the first bucket holding 95 % of the interval's
// requests) between two scrapes; null where the interval saw no request.
function recentTraffic(after, before, seconds) {
  const current = after || { requests: 0, sum: 0, count: 0, buckets: {} };
  const previous = before || { requests: 0, sum: 0, count: 0, buckets: {} };
  const count = current.count - previous.count;
  const rate = (current.requests - previous.requests) / seconds;
  if (count <= 0) return { rate, mean: null, p95: null };
  let p95 = null;
  const bounds = Object.keys(current.buckets).filter((le) => le !== "+Inf").sort((a, b) => Number(a) - Number(b));
  for (const le of bounds) {
    if (current.buckets[le] - (previous.buckets[le] || 0) >= 0.95 * count) { p95 = "≤ " + Number(le) * 1000; break; }
  }
  return { rate, mean: (current.sum - previous.sum) * 1000 / count, p95: p95 || "> " + Number(bounds[bounds.length - 1]) * 1000 };
}
function showLogin(message) {
  $("board").hidden = true; $("login").hidden = false; $("login-error").textContent = message || "";
  if (state.source) { state.source.close(); state.source = null; }
}
async function refresh() {
  try {
    const [health, metrics, prometheus] = await Promise.all([
      api("/api/brain/health"), api("/api/brain/metrics"),
      fetch("/metrics").then((response) => response.ok ? response.text() : "")]);
    const now = Date.now();
    const traffic = { at: now, services: trafficByService(prometheus) };
    const previous = state.traffic;
    state.traffic = traffic;
    $("login").hidden = true; $("board").hidden = false;
    const body = $("services"); body.replaceChildren();
    for (const service of health.services) {
      service.instances.forEach((instance, index) => {
        const row = document.createElement("tr");
        row.dataset.service = service.name;
        row.append(cell(index === 0 ? service.name : ""), cell(index === 0 ? service.status : "", index === 0 ? service.status : ""),
          cell(instance.url), cell(instance.status, instance.status), cell(instance.breaker.replace("_", "-"), instance.breaker),
          cell(instance.response_time_ms == null ? "–" : instance.response_time_ms.toFixed(1)));
        const recent = index === 0 && previous && now > previous.at
          ? recentTraffic(traffic.services[service.name], previous.services[service.name], (now - previous.at) / 1000) : null;
        for (const [metric, text] of [
          ["requests", index === 0 ? String((metrics.requests_per_service || {})[service.name] || 0) : ""],
          ["rate", recent ? recent.rate.toFixed(1) : ""],
          ["latency", recent ? (recent.mean == null ? "–" : recent.mean.toFixed(2)) : ""],
          ["p95", recent ? (recent.p95 || "–") : ""]]) {
          const td = cell(text); td.dataset.metric = metric; row.append(td);
        }
        body.append(row);
      });
    }
    // The overall rate from the same scrapes as the per-service ones, so they add up.
    if (previous && now > previous.at) {
      const requests = (services) => Object.values(services).reduce((sum, service) => sum + service.requests, 0);
      $("rate").textContent = ((requests(traffic.services) - requests(previous.services)) * 1000 / (now - previous.at)).toFixed(1);
    }
    $("total").textContent = metrics.total_requests;
    $("latency").textContent = Number(metrics.average_response_time).toFixed(2);
    $("activations").textContent = metrics.circuit_breaker_activations;
    $("cached").textContent = metrics.cached_responses;
    $("decisions-count").textContent = metrics.autonomous_decisions;
    await showRuns();
    await showOptimizer();
    await showIntegrations();
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (!state.source) followEvents();
  } catch (error) {
    showLogin(String(error.message || error));
  }
}
// Each run with its steps placed on a bar by when they started and finished (relative to the run).
async function showRuns() {
  const list = await api("/api/brain/runs?limit=15");
  const body = $("runs"); body.replaceChildren();
  for (const run of list.runs) {
    const row = document.createElement("tr");
    row.dataset.run = run.id;
    const start = Date.parse(run.started_at);
    const end = run.finished_at ? Date.parse(run.finished_at) : Date.now();
    const span = Math.max(1, end - start);
    const timeline = document.createElement("div");
    timeline.className = "timeline";
    for (const step of run.steps) {
      const bar = document.createElement("span");
      bar.className = "step " + step.state;
      bar.dataset.step = step.id;
      bar.dataset.state = step.state;
      bar.title = step.id + ": " + step.state + (step.duration_ms == null ? "" : " in " + step.duration_ms + " ms") +
        (step.attempts > 1 ? ", " + step.attempts + " attempts" : "") + (step.error ? " — " + step.error : "");
      const from = step.started_at ? Date.parse(step.started_at) - start : 0;
      const to = step.finished_at ? Date.parse(step.finished_at) - start : (step.started_at ? end - start : from);
      bar.style.left = (100 * from / span).toFixed(2) + "%";
      bar.style.width = Math.max(0.5, 100 * (to - from) / span).toFixed(2) + "%";
      bar.textContent = step.id;
      timeline.append(bar);
    }
    const steps = document.createElement("td");
    steps.append(timeline);
    row.append(cell(run.workflow), cell(run.status, run.status), cell(new Date(start).toLocaleTimeString()),
      cell(run.duration_ms == null ? "–" : String(run.duration_ms)), steps);
    body.append(row);
  }
}
// The optimiser's mode and its recent decisions with the evidence each was taken on.
async function showOptimizer() {
  const optimizer = await api("/api/brain/optimizer");
  state.paused = optimizer.paused;
  $("optimizer-state").textContent = "mode " + optimizer.mode + (optimizer.paused ? ", paused" : "") +
    ", every " + optimizer.interval_seconds + " s over " + optimizer.window_seconds + " s";
  $("optimizer-toggle").textContent = optimizer.paused ? "Resume" : "Pause";
  $("optimizer-toggle").hidden = optimizer.mode === "off";
  const body = $("decisions"); body.replaceChildren();
  for (const decision of optimizer.decisions.slice(0, 30)) {
    const row = document.createElement("tr");
    row.dataset.decision = decision.id;
    row.dataset.action = decision.action;
    const weight = decision.from_weight == null ? "" : decision.from_weight + " → " + decision.to_weight;
    row.append(cell(new Date(decision.at * 1000).toLocaleTimeString()), cell(decision.service), cell(decision.rule),
      cell(decision.action), cell(decision.instance || ""), cell(weight), cell(decision.evidence.p95_ms.toFixed(1)),
      cell((100 * decision.evidence.error_rate).toFixed(1) + " %"), cell(String(decision.evidence.requests)), cell(decision.mode),
      cell(decision.outcome + (decision.run_id ? " (run " + decision.run_id.slice(0, 8) + ")" : ""), decision.outcome));
    body.append(row);
  }
}
$("optimizer-toggle").addEventListener("click", async () => {
  await api(state.paused ? "/api/brain/optimizer/resume" : "/api/brain/optimizer/pause", "POST");
  await showOptimizer();
});
// The tenant's connections: status only (credential values never leave the gateway).
async function showIntegrations() {
  const list = await api("/api/brain/integrations");
  const connected = list.integrations.filter((entry) => entry.status !== "inactive");
  $("integrations-summary").textContent = connected.length + " of " + list.integrations.length + " integrations connected";
  const body = $("integrations"); body.replaceChildren();
  for (const entry of connected) {
    const row = document.createElement("tr");
    row.dataset.integration = entry.name;
    row.append(cell(entry.name), cell(entry.category), cell(entry.tier || "–"), cell(entry.status, entry.status));
    body.append(row);
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
  for (const type of ["ServiceRegistered", "ServiceUpdated", "ServiceRemoved", "RouteRegistered", "ServiceHealthChanged", "CircuitOpened", "CircuitClosed",
      "WorkflowRegistered", "WorkflowUpdated", "WorkflowRemoved", "WorkflowRunStarted", "WorkflowRunSucceeded", "WorkflowRunFailed",
      "IntegrationActivated", "IntegrationDeactivated", "IntegrationNeedsReauth", "SharedStateDegraded", "SharedStateRestored", "AutonomousDecision"]) {
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
