// A fake Big Brain (the Convex management API) on loopback for the real `convex insights` CLI.
// The CLI (convex 1.49 src/cli/lib/insights.ts) asks for the deployment's team, then for the
// insights dataset's rows; it finds us through CONVEX_PROVISION_HOST and authenticates with
// CONVEX_OVERRIDE_ACCESS_TOKEN. The rows describe the same app as scenario.mjs: the member
// lookups of listInvitations near the read limit, the invitation scans of `invite` over it.
// Usage: node fake-big-brain.mjs; prints "listening <port>", then "request <METHOD> <path>" as
// each request arrives, on stdout. Env: FAIL=1 answers every request 401, as for a logged-out
// user.
import http from "node:http";
import { scenario, T0 } from "./scenario.mjs";

const TEAM = { team: "acme", project: "auth-app", teamId: 4242, projectId: 77 };
// The dataset the CLI asks for (INSIGHTS_QUERY_ID, shared with the dashboard).
const INSIGHTS_QUERY_ID = "9ab3b74e-a725-480b-88a6-43e6bd70bd82";
// `componentPath` of a root-component function in a row (ROOT_COMPONENT_PATH).
const ROOT = "-root-component-";
// The production deployment `--prod` selects.
const PROD = "brave-lynx-456";

const iso = (ms) => new Date(ms).toISOString();
const executions = scenario().filter((e) => e.kind === "Completion");
const requestOf = (identifier) => executions.filter((e) => e.identifier === identifier).map((e) => e.requestId);
// The last listInvitations run, on a big organization, read 26,000 documents: the member scan.
const bigLookup = requestOf("organizations/invitations/queries:listInvitations").at(-1);
const listAll = requestOf("messages:listAll")[0];

const call = (table, documents) => ({ table_name: table, bytes_read: documents * 539, documents_read: documents });
const resourceEvent = (n, requestId, ms, calls, success = true) => ({
  timestamp: iso(ms), id: `evt-${n}`, request_id: requestId, calls, success,
});

// Rows of [kind, functionId, componentPath, details as JSON], as the usage query returns them.
const rows = [
  ["documentsReadThreshold", "organizations/invitations/queries:listInvitations", ROOT, {
    count: 1,
    recentEvents: [resourceEvent(1, bigLookup, T0 + 6_000, [call("organization", 1), call("member", 26000)])],
  }],
  // Two runs of `invite` past the limit: they read every invitation and failed. Their request
  // ids are not in the logs; the module carries `.js`, the form of a udf path in Convex's own
  // records, which the join strips as the log framer does.
  ["documentsReadLimit", "organizations/invitations/mutations.js:invite", ROOT, {
    count: 2,
    recentEvents: [
      resourceEvent(2, "3000000000000001", T0 + 3_600_000, [call("member", 1), call("invitation", 32001)], false),
      resourceEvent(3, "3000000000000002", T0 + 3_700_000, [call("member", 1), call("invitation", 32001)], false),
    ],
  }],
  // The rate-limit cleanup, a function of the betterAuth component.
  ["bytesReadThreshold", "adapter.js:deleteMany", "betterAuth", {
    count: 3,
    recentEvents: [resourceEvent(4, "3000000000000003", T0 + 3_800_000, [call("rateLimit", 14000)])],
  }],
  // Not about a missing Better Auth index: the app's own message list.
  ["documentsReadThreshold", "messages:listAll", ROOT, {
    count: 1,
    recentEvents: [resourceEvent(5, listAll, T0 + 22_000, [call("messages", 27000)])],
  }],
  // Sign-up scans `user` for the e-mail, so it conflicts with every sign-up writing a user.
  ["occRetried", "auth:signUp", ROOT, {
    occCalls: 4, occTableName: "user",
    recentEvents: [{
      timestamp: iso(T0 + 19_500), id: "evt-6", request_id: "3000000000000004",
      occ_document_id: "k17a2b3c4d5e6f7g8h9j0k1m2n3p4q5r", occ_write_source: "auth:signUp", occ_retry_count: 2,
    }],
  }],
  ["occFailedPermanently", "messages:send", ROOT, {
    occCalls: 1, occTableName: "messages",
    recentEvents: [{
      timestamp: iso(T0 + 20_500), id: "evt-7", request_id: "3000000000000005", occ_retry_count: 4,
    }],
  }],
].map(([kind, fn, component, details]) => [kind, fn, component, JSON.stringify(details)]);

// Whoever started us may stop reading once it has the port: a closed stdout is not an error.
process.stdout.on("error", () => {});
const json = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const body = (req, then) => {
  let text = "";
  req.on("data", (chunk) => (text += chunk));
  req.on("end", () => then(text ? JSON.parse(text) : {}));
};
const credentials = (deploymentName, deploymentType) => ({
  deploymentName, adminKey: `${deploymentName}|fake-admin-key`, url: `http://127.0.0.1:${server.address().port}`,
  deploymentType, reference: deploymentType === "prod" ? "production" : "dev/ada", isDefault: true,
});
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  process.stdout.write(`request ${req.method} ${url.pathname}\n`);
  if (process.env.FAIL) {
    return json(res, 401, { code: "Unauthenticated", message: "Not logged in" });
  }
  if (req.headers.authorization !== "Bearer fake-user-token") {
    return json(res, 401, { code: "Unauthenticated", message: "Invalid access token" });
  }
  if (req.method === "GET" && /^\/api\/deployment\/[^/]+\/team_and_project$/.test(url.pathname)) {
    return json(res, 200, TEAM);
  }
  // The deployment's credentials (src/cli/lib/api.ts `handleDeploymentName`, `handleProd`):
  // the CLI only needs its name here; the URL is never called.
  if (req.method === "POST" && url.pathname === "/api/deployment/authorize_within_current_project") {
    return body(req, (data) => json(res, 200, credentials(data.selectedDeploymentName, "dev")));
  }
  if (req.method === "POST" && url.pathname === "/api/deployment/authorize_prod") {
    return body(req, () => json(res, 200, credentials(PROD, "prod")));
  }
  if (req.method === "GET" && url.pathname === `/api/dashboard/teams/${TEAM.teamId}/usage/query`) {
    if (url.searchParams.get("queryId") !== INSIGHTS_QUERY_ID) {
      return json(res, 400, { code: "UnknownQuery", message: "unknown queryId" });
    }
    return json(res, 200, rows);
  }
  json(res, 404, { code: "NotFound", message: `${req.method} ${url.pathname}` });
});
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
