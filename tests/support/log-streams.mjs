// Renders the scenario as Convex log-stream payloads, following the serializers described in
// convex-backend crates/common/src/log_streaming.rs and log_streaming/src/sinks/*.rs:
// webhook v2 (JSONL and JSON-array bodies), Axiom (event under `data`), Datadog (flattened,
// with dd* keys) and the legacy v1 format. Usage: node log-streams.mjs <kind> > file
import { scenario, legacyScenario } from "./scenario.mjs";

const convex = { deployment_name: "happy-otter-123", deployment_type: "prod", deployment_ref: null,
  project_name: "my-app", project_slug: "my-app", deployment_region: null };
const fnType = { Query: "query", Mutation: "mutation", Action: "action", HttpAction: "http_action" };

function v2Events(entries) {
  const events = [];
  for (const e of entries) {
    for (const l of e.logLines) {
      const sub = l.udfPath !== undefined;
      const fn = { path: sub ? l.udfPath : e.identifier, type: fnType[e.udfType],
        cached: e.udfType === "Query" ? e.cachedResult : null, request_id: e.requestId,
        mutation_queue_length: null, mutation_retry_count: null };
      if (sub) fn.component_path = l.componentPath;
      else if (e.componentPath) fn.component_path = e.componentPath;
      events.push({ timestamp: l.timestamp, topic: "console", function: fn, log_level: l.level,
        message: l.messages.join(" "), is_truncated: l.isTruncated,
        system_code: l.systemMetadata?.code ?? null });
    }
    if (e.kind === "Completion") {
      const fn = { path: e.identifier, type: fnType[e.udfType], cached: e.udfType === "Query" ? e.cachedResult : null,
        request_id: e.requestId, mutation_queue_length: null, mutation_retry_count: null };
      if (e.componentPath) fn.component_path = e.componentPath;
      const ev = { timestamp: Math.round(e.timestamp * 1000), topic: "function_execution", function: fn,
        execution_time_ms: Math.round(e.executionTime * 1000), user_execution_time_ms: 11,
        status: e.error ? "failure" : "success" };
      if (e.error) ev.error_message = e.error;
      ev.run_reason = "initialSubscription";
      ev.usage = { database_io_read_bytes: e.usageStats.databaseIoReadBytes, database_io_write_bytes: 0,
        database_read_documents: e.usageStats.databaseReadDocuments, database_write_documents: 0 };
      events.push(ev);
    }
  }
  return events;
}

function v1Events(entries) {
  const types = { Query: "query", Mutation: "mutation", Action: "action", HttpAction: "httpAction" };
  const events = [];
  for (const e of entries) {
    for (const l of e.logLines) {
      events.push({ _topic: "_console", _timestamp: l.timestamp, _functionType: types[e.udfType],
        _functionPath: e.identifier, _functionCached: e.cachedResult ?? false,
        message: `[${l.level}] ${l.messages.join(" ")}${l.isTruncated ? " (truncated due to length)" : ""}` });
    }
    if (e.kind === "Completion") {
      const ev = { _topic: "_execution_record", _timestamp: Math.round(e.timestamp * 1000),
        _functionType: types[e.udfType], _functionPath: e.identifier, _functionCached: e.cachedResult ?? false,
        status: e.error ? "failure" : "success", executionTimeMs: Math.round(e.executionTime * 1000),
        databaseReadBytes: 1077, databaseWriteBytes: 0, storageReadBytes: 0, storageWriteBytes: 0 };
      if (e.error) ev.reason = e.error;
      events.push(ev);
    }
  }
  return events;
}

const kind = process.argv[2];
const all = [...scenario(), ...legacyScenario()];
const out = (s) => process.stdout.write(s);
switch (kind) {
  case "webhook-jsonl": // the webhook's JSONL body: events joined by "\n", no trailing newline
    out(v2Events(all).map((ev) => JSON.stringify({ ...ev, convex })).join("\n"));
    break;
  case "webhook-json": // the webhook's JSON body: one array
    out(JSON.stringify(v2Events(all).map((ev) => ({ ...ev, convex }))));
    break;
  case "axiom": // Axiom ingest payloads, saved pretty-printed
    out(JSON.stringify(v2Events(all).map((ev) => ({ _time: ev.timestamp, data: ev,
      attributes: { env: "prod" }, convex })), null, 2) + "\n");
    break;
  case "datadog":
    out(v2Events(all).map((ev) => JSON.stringify({ ddsource: "convex", ddtags: "env:prod,service:my-app",
      hostname: "happy-otter-123", service: "my-app", ...ev, convex })).join("\n") + "\n");
    break;
  case "v1":
    out(v1Events(all).map((ev) => JSON.stringify(ev)).join("\n") + "\n");
    break;
  default:
    process.stderr.write(`unknown kind ${kind}\n`);
    process.exit(2);
}
