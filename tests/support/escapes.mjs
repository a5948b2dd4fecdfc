// Renders the warning for awkward table and field names the way each pipeline escapes it:
// the CLI's text (object-inspect), --jsonl (JSON.stringify of that), a JSON string printed as
// text once more, and a pipeline that writes JSON with \u escapes for non-ASCII.
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
}
process.stdout.write(lines.join("\n") + "\n");
