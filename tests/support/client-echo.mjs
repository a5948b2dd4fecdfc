// Runs the published convex client's own logForFunction() — what ConvexClient and
// ConvexHttpClient print into the app's console for a dev deployment — over the scenario's
// lines (sent to clients as "[LEVEL] " + messages joined with " ").
import { scenario } from "./scenario.mjs";
import { pathToFileURL } from "node:url";

const loggingPath = `${process.env.TOOLCHAIN_DIR}/node_modules/convex/dist/esm/browser/logging.js`;
const { logForFunction, instantiateDefaultLogger } = await import(pathToFileURL(loggingPath).href);
const logger = instantiateDefaultLogger({ verbose: false });
const types = { Query: "query", Mutation: "mutation", Action: "action", HttpAction: "any" };
for (const e of scenario()) {
  for (const l of e.logLines) {
    logForFunction(logger, "info", types[e.udfType], e.identifier, `[${l.level}] ${l.messages.join(" ")}`);
  }
  if (e.error) logForFunction(logger, "error", types[e.udfType], e.identifier, e.error.trimEnd());
}
