// A Better Auth app's function executions, shaped like what a Convex deployment sends to the
// CLI on /api/stream_function_logs (structured log lines, FunctionExecutionJson). Console
// arguments are rendered with the real object-inspect and the options Convex's runtime uses,
// so every message is byte-for-byte what a deployment would store.
import { createRequire } from "node:module";

// object-inspect comes from the toolchain scripts/node-toolchain.sh installs (TOOLCHAIN_DIR).
const inspect = createRequire(`${process.env.TOOLCHAIN_DIR}/package.json`)("object-inspect");

export const ser = (...args) =>
  args.map((a) => inspect(a, { maxStringLength: 32768, indent: 2, customInspect: true }));

// The template in @convex-dev/better-auth src/client/adapter-utils.ts, rendered by stripIndent.
export const warning = (table, fields) =>
  `Querying without an index on table "${table}".\n` +
  "This can cause performance issues, and may hit the document read limit.\n" +
  "To fix, add an index that begins with the following fields in order:\n" +
  `[${fields.join(", ")}]`;

export const T0 = Date.UTC(2026, 0, 15, 14, 3, 7, 123);

// What an execution read: a full scan reads every document of the table (about 540 bytes each
// for these auth tables).
const usage = (documents) => ({
  databaseReadBytes: documents * 539, databaseWriteBytes: 0, databaseIoReadBytes: documents * 539,
  databaseIoWriteBytes: 0, databaseReadDocuments: documents, databaseWriteDocuments: 0,
  databaseWriteIndexRows: 0, storageReadBytes: 0, storageWriteBytes: 0, vectorIndexReadBytes: 0,
  vectorIndexWriteBytes: 0, textIndexQueryBytes: 0, textIndexWriteQueryBytes: 0,
  vectorIndexReadQueryBytes: 0, vectorIndexWriteQueryBytes: 0, networkEgressBytes: 0, memoryUsedMb: 0,
});

// Convex's system warning past 80% of the documents-read limit (crates/udf/src/warnings.rs):
// unquoted, with `systemMetadata.code`.
const readLimitWarning = (actual, timestamp) =>
  line("WARN", [`Many documents read in a single function execution (actual: ${actual}, limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.`],
    timestamp, { systemMetadata: { code: "warning:TooManyDocumentsRead" } });

export const line = (level, messages, timestamp, extra = {}) => ({
  messages, isTruncated: false, timestamp, level, systemMetadata: null, ...extra,
});

export const completion = (o) => ({
  kind: "Completion", udfType: "Query", componentPath: null, identifier: "messages:list", logLines: [],
  timestamp: T0 / 1000, cachedResult: false, caller: "SyncWorker", parentExecutionId: null,
  executionTime: 0.0123, userExecutionTime: 0.011, success: null, error: null,
  requestId: "d064ef901f7ec0b7", executionId: "2f1c5c4e-6b7b-4a51-9a8e-3f3c1a2b4c5d", usageStats: usage(200),
  returnBytes: 843, occInfo: null, willRetry: false, executionTimestamp: T0 / 1000 - 0.012,
  identityType: "user", environment: "isolate", ...o,
});

// A component adapter function run inline from an app function: its log line carries its own
// componentPath/udfPath, while the CLI's text shows only the parent.
const sub = (udf) => ({ componentPath: "betterAuth", udfPath: `adapter.js:${udf}` });

/** The executions of the scenario; `n` numbers them so request ids differ. */
export function scenario() {
  const entries = [];
  let n = 0;
  const at = (s) => T0 + s * 1000;
  const rid = () => (0x1000000000000000n + BigInt(++n)).toString(16);
  const push = (o) => entries.push(completion({ requestId: rid(), ...o }));

  push({ logLines: [line("LOG", ser("Listing messages"), at(0))] });
  // Organization plugin: member lookup by (organizationId, userId) — a single-row findOne that
  // scans the member table; the last run, on a big organization, nears the read limit.
  for (let i = 0; i < 6; i++) {
    const t = at(1 + i);
    const reads = i === 5 ? 26000 : 200;
    const lines = [line("WARN", ser(warning("member", ["organizationId", "userId"])), t + 3, sub("findOne"))];
    if (reads > 25600) lines.push(readLimitWarning(reads, t + 4));
    push({
      identifier: "organizations/invitations/queries:listInvitations", timestamp: t / 1000,
      usageStats: usage(reads), logLines: lines,
    });
  }
  // Invitations listed per organization and status (findMany pages), and by email.
  for (let i = 0; i < 3; i++) {
    const t = at(10 + i);
    push({
      udfType: "Mutation", identifier: "organizations/invitations/mutations:invite", timestamp: t / 1000,
      usageStats: usage(1600),
      logLines: [
        line("INFO", ser("inviting", { organizationId: "org_1", email: "a@example.com" }), t + 1),
        line("WARN", ser(warning("invitation", ["organizationId", "status"])), t + 2, sub("findMany")),
        line("WARN", ser(warning("invitation", ["email", "organizationId", "status"])), t + 3, sub("findMany")),
      ],
    });
  }
  push({
    identifier: "organizations/invitations/queries:byEmail", timestamp: at(14) / 1000, usageStats: usage(900),
    logLines: [line("WARN", ser(warning("invitation", ["email", "organizationId"])), at(14) + 2, sub("findMany"))],
  });
  // Rate-limit cleanup run as its own execution of the component function (PR #436's line).
  push({
    udfType: "Mutation", componentPath: "betterAuth", identifier: "adapter:deleteMany", caller: "Action",
    timestamp: at(15) / 1000, usageStats: usage(3500),
    logLines: [line("WARN", ser(warning("rateLimit", ["lastRequest"])), at(15) + 2)],
  });
  // Session lookups bounded by expiresAt.
  for (let i = 0; i < 2; i++) {
    const t = at(16 + i);
    push({
      identifier: "sessions:listActive", timestamp: t / 1000, usageStats: usage([12000, 9000][i]),
      logLines: [line("WARN", ser(warning("session", ["userId", "expiresAt"])), t + 2, sub("findMany"))],
    });
  }
  // A cached query result replays the earlier line with its original timestamp.
  push({
    identifier: "sessions:listActive", timestamp: at(18) / 1000, cachedResult: true, executionTime: 0.0004,
    logLines: [line("WARN", ser(warning("session", ["userId", "expiresAt"])), at(16) + 2, sub("findMany"))],
  });
  // A unique-field lookup with no index throws (0.12+).
  push({
    udfType: "Mutation", identifier: "auth:signUp", timestamp: at(19) / 1000,
    error: "Uncaught Error: No index found for user.email\n    at paginate (../../node_modules/@convex-dev/better-auth/src/client/adapter-utils.ts:497:15)\n",
    returnBytes: null,
  });
  // Noise that only looks similar.
  push({
    udfType: "Mutation", identifier: "messages:send", timestamp: at(20) / 1000,
    logLines: [line("WARN", ser('Slow query on table "messages": consider adding an index'), at(20) + 1)],
  });
  push({
    componentPath: "betterAuth", identifier: "adapter:findMany", timestamp: at(21) / 1000,
    logLines: [line("WARN", ser("Querying without index", "session", { where: [{ field: "userId", operator: "eq", value: "abc" }] }), at(21) + 1)],
  });
  push({
    identifier: "messages:listAll", timestamp: at(22) / 1000, executionTime: 0.8, usageStats: usage(27000),
    logLines: [readLimitWarning(27000, at(22) + 1)],
  });
  // Someone quoting the first sentence only: not a signal, but worth a look.
  push({
    identifier: "admin:audit", timestamp: at(23) / 1000,
    logLines: [line("LOG", ser('seen "Querying without an index on table "member"." in staging'), at(23) + 1)],
  });
  // An HTTP action: its lines arrive in a Progress entry; the Completion has none.
  entries.push({
    kind: "Progress", udfType: "HttpAction", componentPath: null, identifier: "POST /api/auth/organization/accept-invitation",
    timestamp: at(24) / 1000, requestId: "abcabcabcabcabca", executionId: "e2",
    logLines: [line("WARN", ser(warning("member", ["organizationId", "userId"])), at(24) + 5, sub("findOne"))],
  });
  push({
    udfType: "HttpAction", identifier: "POST /api/auth/organization/accept-invitation", timestamp: at(24) / 1000,
    requestId: "abcabcabcabcabca", executionId: "e2", success: { status: "200" }, returnBytes: null,
    usageStats: usage(400),
  });
  return entries;
}

/**
 * What convex 1.51 added to the function log: an `Init` function (the CLI prints `I(...)`,
 * `udfType.charAt(0)`), and Convex's read-limit warning as the log endpoint really sends it,
 * with `systemMetadata: null` (the backend keeps the code for log streams).
 */
export function convex151Scenario() {
  const at = (s) => T0 + 7200_000 + s * 1000;
  const limit = (actual, timestamp) =>
    line("WARN", [`Many documents read in a single function execution (actual: ${actual}, limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.`],
      timestamp);
  return [
    // An app's init function seeding data: the component's member lookup by user scans.
    completion({
      udfType: "Init", identifier: "init", requestId: "1a1a1a1a1a1a1a01", timestamp: at(0) / 1000,
      usageStats: usage(27500),
      logLines: [
        line("WARN", ser(warning("member", ["userId"])), at(0) + 2, sub("findMany")),
        limit(27500, at(0) + 3),
      ],
    }),
    // The same list from an ordinary query, with the read-limit warning again.
    completion({
      identifier: "members:mine", requestId: "1a1a1a1a1a1a1a02", timestamp: at(1) / 1000,
      usageStats: usage(26000),
      logLines: [
        line("WARN", ser(warning("member", ["userId"])), at(1) + 2, sub("findMany")),
        limit(26000, at(1) + 3),
      ],
    }),
  ];
}

/** The same executions from an app still on @convex-dev/better-auth 0.9 (old `_` quirk, `[_id]`). */
export function legacyScenario() {
  const at = (s) => T0 + 3600_000 + s * 1000;
  return [
    completion({
      identifier: "sessions:listActive", requestId: "0a0a0a0a0a0a0a01", timestamp: at(0) / 1000,
      logLines: [line("WARN", ser(warning("session", ["userId", "_expiresAt"])), at(0) + 2, sub("findMany"))],
    }),
    completion({
      identifier: "users:get", requestId: "0a0a0a0a0a0a0a02", timestamp: at(1) / 1000,
      logLines: [line("WARN", ser(warning("user", ["_id"])), at(1) + 2, sub("findOne"))],
    }),
    completion({
      udfType: "Mutation", identifier: "twoFactor:enable", requestId: "0a0a0a0a0a0a0a03", timestamp: at(2) / 1000,
      error: "Uncaught Error: No index found for twoFactoruserId\n    at checkUniqueFields (../../node_modules/@convex-dev/better-auth/src/client/adapter-utils.ts:61:13)\n",
      returnBytes: null,
    }),
  ];
}
