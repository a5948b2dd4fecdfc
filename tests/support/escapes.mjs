// Renders the warning for awkward table and field names the way each pipeline escapes it:
// the CLI's text (object-inspect), --jsonl (JSON.stringify of that), a JSON string printed as
// text once more, a pipeline that writes JSON with \u escapes for non-ASCII, and Node's util.inspect
// ("use node" actions), which splits a long string into '…' + pieces across lines.
import { inspect } from "node:util";
import { ser, warning } from "./scenario.mjs";

const names = [["o'brien", "it's"], ["back\\slash", "a\\b"], ["café", "naïve"], ["日本", "名前"], ["emoji😀", "x😀y"]];
const asciiJson = (s) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
const lines = [];
for (const [table, field] of names) {
  const message = ser(warning(table, ["organizationId", field]))[0];
  lines.push(`1/15/2026, 2:03:08 PM [CONVEX Q(t:text)] [WARN] ${message}`);
  lines.push(JSON.stringify({ kind: "Completion", udfType: "Query", componentPath: null, identifier: "t:jsonl",
    logLines: [{ messages: [message], isTruncated: false, timestamp: 1768485788000, level: "WARN", systemMetadata: null }],
    timestamp: 1768485788.1, cachedResult: false, requestId: "r1", error: null }));
  lines.push(`2026-01-15T14:03:08Z app[web.1]: convex warn message=${JSON.stringify(message)}`);
  lines.push(`{"topic":"console","log_level":"WARN","function":{"path":"t:ascii","request_id":"r2"},"message":${asciiJson(message)}}`);
  // A "use node" action: Node's util.inspect (Convex's node executor options) splits the string
  // into '…\n' + pieces over several physical lines.
  const nodeMessage = inspect(warning(table, ["organizationId", field]), { maxStringLength: 32768, customInspect: true });
  lines.push(`1/15/2026, 2:03:09 PM [CONVEX A(t:node)] [WARN] ${nodeMessage}`);
  lines.push(JSON.stringify({ kind: "Progress", udfType: "Action", componentPath: null, identifier: "t:node",
    timestamp: 1768485789.1, logLines: [{ messages: [nodeMessage], isTruncated: false, timestamp: 1768485789000,
      level: "WARN", systemMetadata: null }], requestId: "r3", executionId: "e3" }));
}
process.stdout.write(lines.join("\n") + "\n");
