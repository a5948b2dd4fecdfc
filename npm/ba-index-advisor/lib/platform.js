// Which platform package holds the binary for this machine, and where its binary is. The
// platform packages are optional dependencies of `ba-index-advisor`, each limited by its
// `os`/`cpu`/`libc` fields, so npm installs only the one that fits (as Biome, esbuild and oxlint
// ship their binaries). Everything here takes its inputs as arguments, so it is tested for every
// platform on any machine (test/platform.test.js).
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const MAIN_PACKAGE = "ba-index-advisor";
const SCOPE = "@ba-index-advisor";

/** Lets a user run a binary they built themselves (`cargo install`) through the npm launcher. */
const BINARY_ENV = "BA_INDEX_ADVISOR_BINARY";

/**
 * The supported platforms: `process.platform`-`process.arch`, plus `-musl` on musl Linux. Each
 * is published as `@ba-index-advisor/cli-<key>`, built on its own GitHub runner
 * (.github/workflows/release.yml).
 */
const PLATFORMS = Object.freeze({
  "linux-x64": { os: "linux", cpu: "x64", libc: "glibc", target: "x86_64-unknown-linux-gnu" },
  "linux-x64-musl": { os: "linux", cpu: "x64", libc: "musl", target: "x86_64-unknown-linux-musl" },
  "linux-arm64": { os: "linux", cpu: "arm64", libc: "glibc", target: "aarch64-unknown-linux-gnu" },
  "darwin-x64": { os: "darwin", cpu: "x64", libc: null, target: "x86_64-apple-darwin" },
  "darwin-arm64": { os: "darwin", cpu: "arm64", libc: null, target: "aarch64-apple-darwin" },
  "win32-x64": { os: "win32", cpu: "x64", libc: null, target: "x86_64-pc-windows-msvc" },
});

function packageName(key) {
  return `${SCOPE}/cli-${key}`;
}

function binaryName(platform) {
  return platform === "win32" ? "ba-index-advisor.exe" : "ba-index-advisor";
}

/** A failure the user can fix; the launcher prints its message alone and exits 2. */
class LauncherError extends Error {}

/**
 * "musl" or "glibc" on Linux, null elsewhere. `ldd` is a shell script on glibc and a link to the
 * musl loader on musl: reading it is fast. Node's diagnostic report is the fallback (it names the
 * glibc version it runs on, or lists the musl loader among its shared objects).
 */
function detectLibc({
  platform = process.platform,
  readLdd = () => fs.readFileSync("/usr/bin/ldd", "latin1"),
  report = defaultReport,
} = {}) {
  if (platform !== "linux") return null;
  try {
    const ldd = readLdd();
    if (/musl/i.test(ldd)) return "musl";
    if (/GNU C Library|glibc|GLIBC/.test(ldd)) return "glibc";
  } catch {
    // No /usr/bin/ldd (a distroless image): ask Node.
  }
  const { header = {}, sharedObjects: shared = [] } = report() || {};
  if (header.glibcVersionRuntime) return "glibc";
  if (shared.some((object) => /(?:libc\.musl-|ld-musl-)/.test(object))) return "musl";
  return "glibc";
}

let cachedReport;
function defaultReport() {
  if (cachedReport === undefined) {
    try {
      if (process.report) process.report.excludeNetwork = true;
      cachedReport = process.report ? process.report.getReport() : null;
    } catch {
      cachedReport = null;
    }
  }
  return cachedReport;
}

/**
 * The platform keys to try, best first; empty when no binary is published for this machine.
 * On x64 Linux the other libc's package is the fallback: a package manager that ignores the
 * `libc` field installs both, and one that detects libc differently installs only the other one.
 */
function candidates({ platform, arch, libc }) {
  if (platform === "linux" && arch === "x64") {
    return libc === "musl" ? ["linux-x64-musl", "linux-x64"] : ["linux-x64", "linux-x64-musl"];
  }
  if (platform === "linux" && arch === "arm64") {
    // Only a glibc build is published for arm64 Linux.
    return libc === "musl" ? [] : ["linux-arm64"];
  }
  const key = `${platform}-${arch}`;
  return Object.hasOwn(PLATFORMS, key) && PLATFORMS[key].libc === null ? [key] : [];
}

function describe({ platform, arch, libc }) {
  return libc ? `${platform}-${arch} (${libc})` : `${platform}-${arch}`;
}

/**
 * The binary to run. `resolvePackage(name)` returns the path of `<name>/package.json`, or throws
 * when the package is not installed (`require.resolve` by default, which walks node_modules up
 * from this package as Node does).
 */
function findBinary({
  platform = process.platform,
  arch = process.arch,
  libc = detectLibc({ platform }),
  env = process.env,
  manifest: own = ownManifest(),
  resolvePackage = (name) => require.resolve(`${name}/package.json`),
  exists = fs.existsSync,
} = {}) {
  const override = env[BINARY_ENV];
  if (override) {
    if (!exists(override)) {
      throw new LauncherError(
        `ba-index-advisor: ${BINARY_ENV} is set to ${override}, which does not exist.`,
      );
    }
    return override;
  }
  const machine = { platform, arch, libc };
  const keys = candidates(machine);
  if (keys.length === 0) throw new LauncherError(unsupportedMessage(machine, own.repository));
  for (const key of keys) {
    let found;
    try {
      found = resolvePackage(packageName(key));
    } catch {
      continue;
    }
    const binary = path.join(path.dirname(found), "bin", binaryName(platform));
    if (!exists(binary)) {
      throw new LauncherError(
        `ba-index-advisor: ${packageName(key)} is installed but has no binary at ${binary}.\n` +
          `Reinstall it: delete node_modules, then run \`npm install\` again.`,
      );
    }
    return binary;
  }
  throw new LauncherError(missingMessage(machine, keys[0], own.version));
}

function missingMessage(machine, key, version) {
  const pkg = packageName(key);
  const pinned = version ? `${pkg}@${version}` : pkg;
  return [
    `ba-index-advisor: no binary for ${describe(machine)}: the package ${pkg} is not installed.`,
    `npm installs it as an optional dependency of ${MAIN_PACKAGE}, so it is missing when optional`,
    `dependencies were skipped (--no-optional, --omit=optional, omit=optional in .npmrc), or when`,
    `package-lock.json was written on another platform.`,
    `Fix: install with optional dependencies:`,
    `  npm install --include=optional ${MAIN_PACKAGE}`,
    `or add the platform package yourself:`,
    `  npm install --save-optional ${pinned}`,
    `If package-lock.json comes from another platform, delete it and node_modules, then run`,
    `\`npm install\` again.`,
  ].join("\n");
}

function unsupportedMessage(machine, repository) {
  const supported = Object.keys(PLATFORMS).join(", ");
  // The release stamps the repository into package.json (scripts/npm-pack.sh --repository).
  const url = repositoryUrl(repository) || "<the ba-index-advisor repository>";
  return [
    `ba-index-advisor: no prebuilt binary for ${describe(machine)} (published: ${supported}).`,
    `Build it from source with Rust 1.95 or newer:`,
    `  cargo install --locked --git ${url} ba-index-advisor`,
    `then run it directly, or through this launcher with ${BINARY_ENV}=<path to the binary>.`,
  ].join("\n");
}

function repositoryUrl(repository) {
  const url = typeof repository === "string" ? repository : repository && repository.url;
  return url ? url.replace(/^git\+/, "").replace(/\.git$/, "") : null;
}

function ownManifest() {
  try {
    return require("../package.json");
  } catch {
    return {};
  }
}

module.exports = {
  BINARY_ENV,
  LauncherError,
  MAIN_PACKAGE,
  PLATFORMS,
  binaryName,
  candidates,
  detectLibc,
  findBinary,
  packageName,
};
