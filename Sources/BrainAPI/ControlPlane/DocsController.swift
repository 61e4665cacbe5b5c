import Hummingbird
import NIOCore

/// `/openapi.json` and `/docs` (both public): the gateway's own API description, and a page
/// that renders it — plain HTML and JavaScript shipped in the binary, no build step.
struct DocsController<Context: RequestContext>: Sendable {
    func addRoutes(to router: Router<Context>) {
        router.get("/openapi.json") { _, _ in
            var response = JSONResponse.raw(OpenAPIDocument.json)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        }
    }
}

/// The `/docs` page: fetches `/openapi.json` and lists every operation with its parameters,
/// body and responses.
enum DocsPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brain Gateway API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { background: #1d2330; color: #fff; padding: 18px 28px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #c5cad6; }
  main { max-width: 980px; margin: 0 auto; padding: 20px 28px 60px; }
  .op { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; margin: 12px 0; }
  .op summary { cursor: pointer; padding: 10px 14px; display: flex; gap: 12px; align-items: baseline; }
  .method { font: 600 12px ui-monospace, monospace; padding: 2px 8px; border-radius: 4px; color: #fff; min-width: 54px; text-align: center; }
  .GET { background: #2f6fde; } .POST { background: #1f9d55; } .PUT { background: #c27c0e; } .DELETE { background: #d0342c; }
  .path { font: 14px ui-monospace, monospace; }
  .summary { color: #555e6e; }
  .body { padding: 0 14px 12px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  td, th { text-align: left; border-top: 1px solid #eef0f4; padding: 4px 6px; vertical-align: top; }
  code, pre { font: 12px ui-monospace, monospace; }
  pre { background: #f3f5f8; padding: 8px; border-radius: 6px; overflow-x: auto; }
  .lock { color: #8a6d00; font-size: 12px; }
</style>
</head>
<body>
<header><h1 id="title">Brain Gateway API</h1><p id="description">Loading /openapi.json…</p></header>
<main id="operations"></main>
<script>
"use strict";
const text = (value) => document.createTextNode(String(value));
function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  for (const child of children) node.append(typeof child === "string" ? text(child) : child);
  return node;
}
function resolve(doc, item) {
  if (!item || !item.$ref) return item;
  return item.$ref.slice(2).split("/").reduce((node, key) => node[key], doc);
}
function schemaName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  return schema.type ? String(schema.type) : "object";
}
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("description").textContent = doc.info.description;
  const root = document.getElementById("operations");
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "delete"]) {
      const op = item[method];
      if (!op) continue;
      const secured = !(op.security && op.security.length === 0);
      const summary = element("summary", {}, element("span", {class: "method " + method.toUpperCase()}, method.toUpperCase()),
        element("span", {class: "path"}, path), element("span", {class: "summary"}, op.summary || ""));
      if (secured) summary.append(element("span", {class: "lock"}, "bearer"));
      const body = element("div", {class: "body"});
      const parameters = (item.parameters || []).concat(op.parameters || []).map((p) => resolve(doc, p));
      if (parameters.length) {
        const rows = parameters.map((p) => element("tr", {}, element("td", {}, element("code", {}, p.name)), element("td", {}, p.in),
          element("td", {}, schemaName(p.schema)), element("td", {}, p.description || "")));
        body.append(element("h4", {}, "Parameters"), element("table", {}, ...rows));
      }
      if (op.requestBody) {
        const content = op.requestBody.content["application/json"];
        body.append(element("h4", {}, "Body"), element("code", {}, schemaName(content && content.schema)));
      }
      const responses = Object.entries(op.responses).map(([code, response]) => {
        const r = resolve(doc, response);
        const content = r.content && Object.values(r.content)[0];
        return element("tr", {}, element("td", {}, code), element("td", {}, r.description || ""), element("td", {}, element("code", {}, schemaName(content && content.schema))));
      });
      body.append(element("h4", {}, "Responses"), element("table", {}, ...responses));
      root.append(element("details", {class: "op", "data-path": path, "data-method": method.toUpperCase()}, summary, body));
    }
  }
  const schemas = element("details", {class: "op"}, element("summary", {}, element("span", {class: "path"}, "Schemas")),
    element("div", {class: "body"}, element("pre", {}, JSON.stringify(doc.components.schemas, null, 2))));
  root.append(schemas);
}).catch((error) => {
  document.getElementById("description").textContent = "Could not load /openapi.json: " + error;
});
</script>
</body>
</html>
"""#
}
