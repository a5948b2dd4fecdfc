// A fake Convex deployment on loopback for the real `convex logs` CLI: the first poll of
// /api/stream_function_logs answers with the scenario's executions, later polls with nothing.
// Usage: node fake-deployment.mjs [scenario|legacy|convex-1.51]; prints "listening <port>", then "poll <n>"
// as each poll arrives, on stdout.
import http from "node:http";
import { scenario, legacyScenario, convex151Scenario, T0 } from "./scenario.mjs";

const scenarios = { legacy: legacyScenario, "convex-1.51": convex151Scenario };
const entries = (scenarios[process.argv[2]] ?? scenario)();
// Whoever started us may stop reading once it has the port: a closed stdout is not an error.
process.stdout.on("error", () => {});
let polls = 0;
const server = http.createServer((req, res) => {
  if (!req.url.startsWith("/api/stream_function_logs")) {
    res.writeHead(404);
    res.end("not found");
    return;
  }
  polls++;
  process.stdout.write(`poll ${polls}\n`);
  const body = polls === 1 ? { entries, newCursor: T0 + 100_000 } : { entries: [], newCursor: T0 + 100_000 };
  const delay = polls === 1 ? 0 : 200;
  setTimeout(() => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }, delay);
});
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
