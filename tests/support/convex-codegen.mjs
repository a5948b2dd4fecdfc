// Runs the real `convex` package's check of a schema's index names: the CLI's data-model code
// generation (`cli/codegen_templates/dataModel.ts`, `staticDataModelTS`), which stops with
// `Duplicate index name <i> in table <t>.` when one table declares an index name twice.
//
// Usage: node convex-codegen.mjs <bundled schema.mjs> <scratch dir>
// Prints JSON: { indexes: { table: [[name, fields]] }, codegen: "accepted" | "refused: <msg>" }.
//
// The npm package ships the CLI as one bundle (`dist/cli.bundle.cjs`); its ESM build imports the
// CLI's own dependencies (chalk, zod, commander…), which npm does not install with `convex`.
// This script bundles the ESM code generator with esbuild and stands in for those packages with
// an inert object: they print and parse command lines, and the check under test uses none of
// them. The code that decides is the package's own.
import path from "node:path";
import { createRequire } from "node:module";

const [schemaFile, scratch] = process.argv.slice(2);
const modules = path.join(process.env.TOOLCHAIN_DIR, "node_modules");
const convexDir = path.join(modules, "convex");
const require = createRequire(path.join(convexDir, "package.json"));
const esbuild = createRequire(path.join(modules, "package.json"))("esbuild");

const inert =
  "const p = new Proxy(function () {}, { get: (t, k) => (k === '__esModule' ? true : k === Symbol.toPrimitive ? () => '' : p), " +
  "apply: () => p, construct: () => p, getPrototypeOf: () => p }); module.exports = p;";
const out = path.join(scratch, "dataModel.cjs");
await esbuild.build({
  entryPoints: [path.join(convexDir, "dist/esm/cli/codegen_templates/dataModel.js")],
  bundle: true,
  format: "cjs",
  platform: "node",
  outfile: out,
  logLevel: "error",
  external: ["esbuild"],
  plugins: [
    {
      name: "not-installed",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("node:")) return undefined;
          try {
            require.resolve(args.path);
            return undefined;
          } catch {
            return { path: args.path, namespace: "not-installed" };
          }
        });
        build.onLoad({ filter: /.*/, namespace: "not-installed" }, () => ({ contents: inert, loader: "js" }));
      },
    },
  ],
});

const { staticDataModelTS } = require(out);
const schema = (await import(schemaFile)).default;
const indexes = {};
for (const [name, table] of Object.entries(schema.tables)) {
  indexes[name] = table[" indexes"]().map((i) => [i.indexDescriptor, i.fields]);
}
// What `convex dev` hands the generator: the schema as the deployment analysed it, which is
// the JSON `defineSchema(...).export()` sends.
const analysis = { "": { schema: JSON.parse(schema.export()) } };
const ctx = {
  crash: async (e) => {
    throw new Error(e.printedMessage);
  },
};
const root = { isRoot: true, path: "/project/convex", definitionPath: "convex.config.ts" };
let codegen;
try {
  await staticDataModelTS(ctx, { analysis }, root, root);
  codegen = "accepted";
} catch (e) {
  codegen = `refused: ${e.message}`;
}
console.log(JSON.stringify({ indexes, codegen }));
