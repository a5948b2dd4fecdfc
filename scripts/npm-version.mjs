#!/usr/bin/env node
// Keeps the npm packages (npm/*/package.json) at the version in Cargo.toml: each package's
// `version`, and the main package's optionalDependencies on the platform packages, which must
// list every npm/cli-*/ package at exactly that version.
//
//   node scripts/npm-version.mjs           rewrite the package.json files that are out of step
//   node scripts/npm-version.mjs --check   change nothing; list what is out of step and exit 1
//
// To release a new version: set it in Cargo.toml, run this, commit both.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const check = process.argv.includes("--check");

const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
// The first `version` of the [package] table.
const packageTable = cargo.split(/^\[/m).find((table) => table.startsWith("package]"));
const version = packageTable && /^version\s*=\s*"([^"]+)"/m.exec(packageTable)?.[1];
if (!version) {
  console.error("npm-version: no version in the [package] table of Cargo.toml");
  process.exit(2);
}

const npmDir = join(root, "npm");
const mainFile = join(npmDir, "ba-index-advisor", "package.json");
const platformFiles = readdirSync(npmDir)
  .filter((name) => name.startsWith("cli-"))
  .sort()
  .map((name) => join(npmDir, name, "package.json"));

const problems = [];
const rewrite = (file, update) => {
  const before = readFileSync(file, "utf8");
  const manifest = JSON.parse(before);
  update(manifest, file);
  const after = `${JSON.stringify(manifest, null, 2)}\n`;
  if (after !== before) {
    problems.push(file.slice(root.length + 1));
    if (!check) writeFileSync(file, after);
  }
  return manifest;
};

const platformNames = platformFiles.map(
  (file) =>
    rewrite(file, (manifest) => {
      manifest.version = version;
    }).name,
);
rewrite(mainFile, (manifest) => {
  manifest.version = version;
  manifest.optionalDependencies = Object.fromEntries(
    [...platformNames].sort().map((name) => [name, version]),
  );
});

if (check) {
  if (problems.length > 0) {
    console.error(`npm-version: not at Cargo.toml's version ${version}: ${problems.join(", ")}`);
    console.error("Run `node scripts/npm-version.mjs` to bring them in step.");
    process.exit(1);
  }
  console.log(`npm packages at ${version}, in step with Cargo.toml`);
} else {
  console.log(
    problems.length > 0
      ? `npm-version: set ${version} in ${problems.join(", ")}`
      : `npm packages already at ${version}`,
  );
}
