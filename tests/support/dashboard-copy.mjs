// Renders the scenario as rows copied from the Convex dashboard's Logs page (Cmd/Ctrl+C on a
// row): "<MMM dd, HH:mm:ss.SSS> <T> <function>[ in <component>] <content>", where the content is
// "[LEVEL] " + the messages with string arguments unquoted — so the warning spans four lines.
import { scenario } from "./scenario.mjs";

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n, w = 2) => String(n).padStart(w, "0");
const stamp = (ms) => {
  const d = new Date(ms);
  return `${months[d.getUTCMonth()]} ${pad(d.getUTCDate())}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
};
// object-inspect quoted a string argument; the dashboard shows the raw string.
const unquote = (m) => (m.startsWith("'") && m.endsWith("'")
  ? m.slice(1, -1).replace(/\\n/g, "\n").replace(/\\'/g, "'").replace(/\\\\/g, "\\") : m);

const rows = [];
for (const e of scenario()) {
  const t = e.udfType[0];
  for (const l of e.logLines) {
    const sub = l.udfPath !== undefined;
    const name = sub ? `${l.udfPath.replace(".js", "")} in ${l.componentPath}`
      : e.componentPath ? `${e.identifier} in ${e.componentPath}` : e.identifier;
    rows.push(`${stamp(l.timestamp)} ${t} ${name} [${l.level}] ${l.messages.map(unquote).join(" ")}`);
  }
  if (e.error) rows.push(`${stamp(e.timestamp * 1000)} ${t} ${e.identifier} 12ms ${e.error.trimEnd()}`);
}
process.stdout.write(rows.join("\n") + "\n");
