// A fake Convex deployment for `watch`: every poll of /api/stream_function_logs answers with one
// fresh execution logging the Better Auth member warning (rendered by the real object-inspect),
// until the file named by STOP_FILE exists; then polls answer with nothing, as a deployment does
// once the index is deployed. Prints "listening <port>", then "poll <n> <warned|quiet>".
import http from "node:http";
import fs from "node:fs";
import { completion, line, ser, warning } from "./scenario.mjs";

const stopFile = process.env.STOP_FILE;
let polls = 0;
let cursor = Date.now();
const server = http.createServer((req, res) => {
  if (!req.url.startsWith("/api/stream_function_logs")) {
    res.writeHead(404);
    res.end("not found");
    return;
  }
  polls++;
  const quiet = stopFile && fs.existsSync(stopFile);
  const now = Date.now();
  cursor = Math.max(cursor + 1, now);
  const entries = quiet || polls === 1 ? [] : [
    completion({
      identifier: "organizations/invitations/queries:listInvitations",
      requestId: (0x2000000000000000n + BigInt(polls)).toString(16),
      timestamp: now / 1000,
      logLines: [line("WARN", ser(warning("member", ["organizationId", "userId"])), now,
        { componentPath: "betterAuth", udfPath: "adapter.js:findOne" })],
    }),
  ];
  process.stdout.write(`poll ${polls} ${entries.length ? "warned" : "quiet"}\n`);
  // Like the real endpoint, an empty answer waits a little before returning.
  setTimeout(() => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ entries, newCursor: cursor }));
  }, entries.length ? 100 : 200);
});
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
