// Validate docs/openapi.json against the OpenAPI 3 schema (and resolve every $ref), then check
// that it describes every route the server has: the route table in src/http/handlers.c.
"use strict";
const fs = require("fs");
const path = require("path");
const SwaggerParser = require("@apidevtools/swagger-parser");

const root = path.resolve(__dirname, "..", "..");
const docPath = path.join(root, "docs", "openapi.json");

(async () => {
  const doc = JSON.parse(fs.readFileSync(docPath, "utf8"));
  await SwaggerParser.validate(JSON.parse(JSON.stringify(doc)));
  if (!/^3\./.test(doc.openapi)) throw new Error("not an OpenAPI 3 document");
  const source = fs.readFileSync(path.join(root, "src", "http", "handlers.c"), "utf8");
  // The route table: {"POST", "/v1/payments/*/refunds", h_refund_create, false,
  // "POST /v1/payments/{id}/refunds"}, an entry possibly spread over two lines. The documented
  // path is the route's name after the method (two wildcards cannot both be {id}).
  const table = source.match(/static const route routes\[\] = \{([\s\S]*?)\n\};/);
  if (!table) throw new Error("could not find the route table");
  const entry = /\{"([A-Z]+)",\s*"([^"]+)",\s*h_\w+,\s*(?:true|false),\s*"([^"]+)"\}/g;
  const routes = [];
  for (const [, method, pattern, name] of table[1].matchAll(entry)) {
    const documented = name.startsWith(method + " ") ? name.slice(method.length + 1) : null;
    if (documented === null || documented.replace(/\{[^}/]+\}/g, "*") !== pattern) {
      throw new Error(`route ${method} ${pattern}: its name "${name}" does not match it`);
    }
    routes.push({ method, path: documented });
  }
  const entries = (table[1].match(/\{"[A-Z]+",/g) || []).length;
  if (routes.length < 10 || routes.length !== entries) {
    throw new Error(`could not read the route table (${routes.length} of ${entries} entries)`);
  }
  const httpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  let missing = 0;
  for (const { method, path: p } of routes) {
    const op = doc.paths[p] && doc.paths[p][method.toLowerCase()];
    if (!op) {
      console.error(`undocumented route: ${method} ${p}`);
      missing++;
    }
  }
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((k) => httpMethods.includes(k))) {
      if (!routes.some((r) => r.method === method.toUpperCase() && r.path === p)) {
        console.error(`documented route the server does not have: ${method.toUpperCase()} ${p}`);
        missing++;
      }
    }
  }
  if (missing) throw new Error(`${missing} route(s) differ`);
  console.log(`openapi: ${routes.length} routes documented and the document is valid`);
  console.log("1 passed, 0 failed");
})().catch((err) => {
  console.error(`openapi: ${err.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
