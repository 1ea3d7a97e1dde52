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
  const routes = [...source.matchAll(/\{"(GET|POST|PUT|DELETE|PATCH)", "([^"]+)", h_/g)];
  if (routes.length < 10) throw new Error("could not read the route table");
  let missing = 0;
  for (const [, method, pattern] of routes) {
    const p = pattern.replace(/\*/g, "{id}");
    const op = doc.paths[p] && doc.paths[p][method.toLowerCase()];
    if (!op) {
      console.error(`undocumented route: ${method} ${p}`);
      missing++;
    }
  }
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      const pattern = p.replace(/\{id\}/g, "*");
      if (!routes.some(([, m, r]) => m === method.toUpperCase() && r === pattern)) {
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
