// The launcher's platform resolution for every supported platform, on any machine: the inputs
// (platform, arch, libc, what is installed) are passed in. Run with `node --test` (Node 18+);
// tests/suite/npm_package.rs runs it with the toolchain's Node.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { describe, it } = require("node:test");
const {
  BINARY_ENV,
  LauncherError,
  PLATFORMS,
  binaryName,
  candidates,
  detectLibc,
  findBinary,
  packageName,
} = require("../lib/platform.js");

const npmDir = path.join(__dirname, "..", "..");
const main = JSON.parse(fs.readFileSync(path.join(npmDir, "ba-index-advisor", "package.json")));

/** A node_modules where exactly `installed` (platform keys) are present, with their binaries. */
function installedOnly(installed, { binaries = true } = {}) {
  const root = path.join("/project", "node_modules");
  const manifests = new Map(
    installed.map((key) => [packageName(key), path.join(root, packageName(key), "package.json")]),
  );
  return {
    resolvePackage(name) {
      if (!manifests.has(name)) {
        const error = new Error(`Cannot find module '${name}/package.json'`);
        error.code = "MODULE_NOT_FOUND";
        throw error;
      }
      return manifests.get(name);
    },
    exists: (file) =>
      binaries &&
      [...manifests.values()].some((manifest) => file.startsWith(path.dirname(manifest))),
    env: {},
    manifest: { version: "0.1.0" },
  };
}

// Every pair Node reports, as `process.platform`/`process.arch`, with the libc it runs on.
const SUPPORTED = [
  ["linux", "x64", "glibc", "linux-x64"],
  ["linux", "x64", "musl", "linux-x64-musl"],
  ["linux", "arm64", "glibc", "linux-arm64"],
  ["darwin", "x64", null, "darwin-x64"],
  ["darwin", "arm64", null, "darwin-arm64"],
  ["win32", "x64", null, "win32-x64"],
];

describe("findBinary", () => {
  for (const [platform, arch, libc, key] of SUPPORTED) {
    it(`runs ${packageName(key)} on ${platform}-${arch}${libc ? ` (${libc})` : ""}`, () => {
      const binary = findBinary({ platform, arch, libc, ...installedOnly([key]) });
      assert.equal(
        binary,
        path.join("/project/node_modules", packageName(key), "bin", binaryName(platform)),
      );
    });
  }

  it("names the binary with .exe on Windows only", () => {
    assert.equal(binaryName("win32"), "ba-index-advisor.exe");
    assert.equal(binaryName("linux"), "ba-index-advisor");
    assert.equal(binaryName("darwin"), "ba-index-advisor");
  });

  it("prefers the libc it detected when both x64 Linux packages are installed", () => {
    const both = installedOnly(["linux-x64", "linux-x64-musl"]);
    const glibc = findBinary({ platform: "linux", arch: "x64", libc: "glibc", ...both });
    const musl = findBinary({ platform: "linux", arch: "x64", libc: "musl", ...both });
    assert.match(glibc, /cli-linux-x64\/bin\/ba-index-advisor$/);
    assert.match(musl, /cli-linux-x64-musl\/bin\/ba-index-advisor$/);
  });

  it("falls back to the other x64 Linux package when only that one is installed", () => {
    const binary = findBinary({
      platform: "linux",
      arch: "x64",
      libc: "glibc",
      ...installedOnly(["linux-x64-musl"]),
    });
    assert.match(binary, /cli-linux-x64-musl\/bin\/ba-index-advisor$/);
  });

  it("never runs another platform's package", () => {
    // What a lockfile from a Mac can leave in node_modules on Linux.
    assert.throws(
      () =>
        findBinary({
          platform: "linux",
          arch: "arm64",
          libc: "glibc",
          ...installedOnly(["darwin-arm64", "linux-x64"]),
        }),
      LauncherError,
    );
  });

  it("names the fix when the platform package is missing (--no-optional)", () => {
    assert.throws(
      () => findBinary({ platform: "linux", arch: "x64", libc: "glibc", ...installedOnly([]) }),
      (error) => {
        assert.ok(error instanceof LauncherError);
        assert.equal(
          error.message,
          [
            "ba-index-advisor: no binary for linux-x64 (glibc): the package @ba-index-advisor/cli-linux-x64 is not installed.",
            "npm installs it as an optional dependency of ba-index-advisor, so it is missing when optional",
            "dependencies were skipped (--no-optional, --omit=optional, omit=optional in .npmrc), or when",
            "package-lock.json was written on another platform.",
            "Fix: install with optional dependencies:",
            "  npm install --include=optional ba-index-advisor",
            "or add the platform package yourself:",
            "  npm install --save-optional @ba-index-advisor/cli-linux-x64@0.1.0",
            "If package-lock.json comes from another platform, delete it and node_modules, then run",
            "`npm install` again.",
          ].join("\n"),
        );
        return true;
      },
    );
  });

  it("names this platform's package in the missing-package error", () => {
    for (const [platform, arch, libc, key] of SUPPORTED) {
      assert.throws(
        () => findBinary({ platform, arch, libc, ...installedOnly([]) }),
        (error) => error.message.includes(`npm install --save-optional ${packageName(key)}@0.1.0`),
      );
    }
  });

  it("says so when the package is there but its binary is not", () => {
    assert.throws(
      () =>
        findBinary({
          platform: "darwin",
          arch: "arm64",
          ...installedOnly(["darwin-arm64"], { binaries: false }),
        }),
      /@ba-index-advisor\/cli-darwin-arm64 is installed but has no binary at .*cli-darwin-arm64\/bin\/ba-index-advisor\.\nReinstall it/,
    );
  });

  for (const [platform, arch, libc] of [
    ["linux", "arm64", "musl"],
    ["linux", "ia32", "glibc"],
    ["win32", "arm64", null],
    ["win32", "ia32", null],
    ["freebsd", "x64", null],
    ["linux", "riscv64", "glibc"],
    ["aix", "ppc64", null],
  ]) {
    it(`points ${platform}-${arch}${libc ? ` (${libc})` : ""} to cargo install`, () => {
      assert.deepEqual(candidates({ platform, arch, libc }), []);
      assert.throws(
        () =>
          findBinary({
            platform,
            arch,
            libc,
            ...installedOnly(Object.keys(PLATFORMS)),
            manifest: {
              version: "0.1.0",
              repository: {
                type: "git",
                url: "git+https://example.test/acme/ba-index-advisor.git",
              },
            },
          }),
        (error) => {
          assert.ok(error instanceof LauncherError);
          assert.match(error.message, /^ba-index-advisor: no prebuilt binary for /);
          assert.match(
            error.message,
            /published: linux-x64, linux-x64-musl, linux-arm64, darwin-x64, darwin-arm64, win32-x64/,
          );
          assert.match(
            error.message,
            /cargo install --locked --git https:\/\/example\.test\/acme\/ba-index-advisor ba-index-advisor/,
          );
          return true;
        },
      );
    });
  }

  it(`runs the binary ${BINARY_ENV} names instead of a platform package`, () => {
    const setup = installedOnly([]);
    const binary = findBinary({
      platform: "linux",
      arch: "x64",
      libc: "glibc",
      ...setup,
      env: { [BINARY_ENV]: "/opt/ba-index-advisor" },
      exists: (file) => file === "/opt/ba-index-advisor",
    });
    assert.equal(binary, "/opt/ba-index-advisor");
    assert.throws(
      () =>
        findBinary({ platform: "linux", arch: "x64", ...setup, env: { [BINARY_ENV]: "/nope" } }),
      /BA_INDEX_ADVISOR_BINARY is set to \/nope, which does not exist/,
    );
  });
});

describe("detectLibc", () => {
  const GLIBC_LDD = "#! /bin/bash\n# This file is part of the GNU C Library.\nTEXTDOMAIN=libc\n";
  const MUSL_LDD = "\x7fELF\x02\x01\x01...musl libc (x86_64)\nVersion 1.2.5\n";
  const noLdd = () => {
    throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  };
  const noReport = () => {
    throw new Error("the report must not be needed");
  };

  it("is null off Linux", () => {
    for (const platform of ["darwin", "win32", "freebsd"]) {
      assert.equal(detectLibc({ platform, readLdd: noLdd, report: noReport }), null);
    }
  });

  it("reads glibc from ldd (a script of the GNU C Library)", () => {
    assert.equal(
      detectLibc({ platform: "linux", readLdd: () => GLIBC_LDD, report: noReport }),
      "glibc",
    );
  });

  it("reads musl from ldd (the musl loader itself)", () => {
    assert.equal(
      detectLibc({ platform: "linux", readLdd: () => MUSL_LDD, report: noReport }),
      "musl",
    );
  });

  it("asks Node's report without ldd: glibcVersionRuntime means glibc", () => {
    const report = () => ({ header: { glibcVersionRuntime: "2.36" }, sharedObjects: [] });
    assert.equal(detectLibc({ platform: "linux", readLdd: noLdd, report }), "glibc");
  });

  it("asks Node's report without ldd: the musl loader among shared objects means musl", () => {
    const report = () => ({
      header: {},
      sharedObjects: ["/lib/ld-musl-x86_64.so.1", "/usr/lib/libstdc++.so.6"],
    });
    assert.equal(detectLibc({ platform: "linux", readLdd: noLdd, report }), "musl");
  });

  it("assumes glibc when nothing tells (then falls back to the musl package if installed)", () => {
    assert.equal(detectLibc({ platform: "linux", readLdd: noLdd, report: () => null }), "glibc");
  });

  it("agrees with this machine's own report", () => {
    if (process.platform !== "linux") return;
    const { header } = process.report.getReport();
    assert.equal(detectLibc(), header.glibcVersionRuntime ? "glibc" : "musl");
  });
});

describe("the packages", () => {
  it("lists every platform package as an optional dependency at the main package's version", () => {
    const expected = Object.fromEntries(
      Object.keys(PLATFORMS)
        .map((key) => [packageName(key), main.version])
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    assert.deepEqual(main.optionalDependencies, expected);
  });

  for (const [key, platform] of Object.entries(PLATFORMS)) {
    it(`limits ${packageName(key)} to ${platform.os}/${platform.cpu}${platform.libc ? `/${platform.libc}` : ""}`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(npmDir, `cli-${key}`, "package.json")));
      assert.equal(manifest.name, packageName(key));
      assert.equal(manifest.version, main.version);
      assert.deepEqual(manifest.os, [platform.os]);
      assert.deepEqual(manifest.cpu, [platform.cpu]);
      assert.deepEqual(manifest.libc, platform.libc ? [platform.libc] : undefined);
      assert.deepEqual(manifest.files, ["bin/"]);
      assert.equal(manifest.bin, undefined, "only the main package has a command");
    });
  }

  it("has no other platform package folder", () => {
    const folders = fs.readdirSync(npmDir).filter((name) => name.startsWith("cli-"));
    assert.deepEqual(
      folders.sort(),
      Object.keys(PLATFORMS)
        .map((key) => `cli-${key}`)
        .sort(),
    );
  });
});
