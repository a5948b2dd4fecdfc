#!/usr/bin/env node
// The `ba-index-advisor` command of the npm package: runs the binary from the platform package
// with the same arguments and stdio, forwards signals (so `watch` stops cleanly on Ctrl-C or
// SIGTERM), and ends the way the binary ended: its exit code, or its signal.
"use strict";

const { spawn } = require("node:child_process");
const os = require("node:os");
const { LauncherError, findBinary } = require("../lib/platform.js");

let binary;
try {
  binary = findBinary();
} catch (error) {
  if (!(error instanceof LauncherError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}

const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// A Ctrl-C in a terminal reaches the binary directly (same process group); a signal sent to this
// process alone (`kill`, npm forwarding its own) is passed on. Either way the launcher waits for
// the binary to finish instead of dying first, and then exits as it did: a binary that stops
// gracefully on Ctrl-C exits 0, and so does the launcher. Windows delivers Ctrl-C to every console process
// itself, and child.kill() there would terminate the binary without its clean-up.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];
const forward = (signal) => {
  if (process.platform !== "win32" && child.exitCode === null && child.signalCode === null) {
    child.kill(signal);
  }
};
for (const signal of FORWARDED) process.on(signal, forward);

// A supervisor that stops `npx ba-index-advisor serve` signals the top process only, and the
// layers npm puts between it and this launcher (its `sh -c`) do not pass the signal on: the
// launcher is orphaned instead, and its parent process id changes. It then stops the binary as
// SIGTERM would (Windows: the binary is ended), so no server outlives the command that ran it.
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(process.platform === "win32" ? undefined : "SIGTERM");
  }
}, 250);
orphaned.unref();

child.on("error", (error) => {
  process.stderr.write(`ba-index-advisor: could not run ${binary}: ${error.message}\n`);
  process.exit(2);
});

child.on("exit", (code, signal) => {
  clearInterval(orphaned);
  for (const forwarded of FORWARDED) process.removeListener(forwarded, forward);
  if (signal === null) {
    process.exit(code ?? 0);
  }
  // Die of the same signal, so a shell sees what it would have seen without the launcher.
  // Signals Node keeps ignored (SIGPIPE) fall through to the conventional 128 + number.
  const number = os.constants.signals[signal] ?? 0;
  if (process.platform !== "win32") {
    try {
      process.kill(process.pid, signal);
    } catch {
      // fall through
    }
  }
  setTimeout(() => process.exit(128 + number), 200);
});
