// Lets Jest run this repository's TypeScript: each file is compiled on its
// own to CommonJS, which Jest runs without --experimental-vm-modules, and the
// two things CommonJS lacks are filled in. Relative imports name the compiled
// file ("./users.js", as Node's ESM resolution wants); they are pointed at the
// source next to it. `import.meta.url` and `.dirname` become the CommonJS
// equivalents. A project using Jest has its own transform (ts-jest,
// babel-jest, …) and does not need this one.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import ts from "typescript";

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
  inlineSources: true,
};

const version = createHash("sha256")
  .update(readFileSync(new URL(import.meta.url)))
  .update(ts.version)
  .digest("hex");

export default {
  process(source, filename) {
    const output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions,
      transformers: { after: [commonJsFixes(filename)] },
    });
    return { code: output.outputText };
  },

  getCacheKey(source, filename) {
    return createHash("sha256").update(version).update(filename).update(source).digest("hex");
  },
};

/** Runs after the CommonJS conversion: imports are `require` calls by then. */
function commonJsFixes(filename) {
  return (context) => {
    const { factory } = context;
    const visit = (node) => {
      const specifier = requiredSpecifier(node);
      const source = specifier === undefined ? undefined : sourceFile(filename, specifier);
      if (source) {
        const argument = factory.createStringLiteral(source);
        return factory.updateCallExpression(node, node.expression, undefined, [argument]);
      }
      const meta = importMetaProperty(node);
      if (meta === "url") return fileUrl(factory);
      if (meta === "dirname") return factory.createIdentifier("__dirname");
      if (meta === "filename") return factory.createIdentifier("__filename");
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => ts.visitNode(file, visit);
  };
}

function requiredSpecifier(node) {
  if (!ts.isCallExpression(node) || node.arguments.length !== 1) return undefined;
  const [argument] = node.arguments;
  const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
  return isRequire && ts.isStringLiteral(argument) ? argument.text : undefined;
}

/** `./users.js` → `./users.ts` when that is the source file beside the importer. */
function sourceFile(filename, specifier) {
  const match = /^(\.{1,2}\/.*)\.(c|m)?js$/.exec(specifier);
  if (!match) return undefined;
  const source = `${match[1]}.${match[2] ?? ""}ts`;
  return existsSync(resolve(dirname(filename), source)) ? source : undefined;
}

function importMetaProperty(node) {
  if (!ts.isPropertyAccessExpression(node) || !ts.isMetaProperty(node.expression)) {
    return undefined;
  }
  return node.expression.keywordToken === ts.SyntaxKind.ImportKeyword ? node.name.text : undefined;
}

/** `require("node:url").pathToFileURL(__filename).href` */
function fileUrl(factory) {
  const url = factory.createCallExpression(factory.createIdentifier("require"), undefined, [
    factory.createStringLiteral("node:url"),
  ]);
  const toUrl = factory.createPropertyAccessExpression(url, "pathToFileURL");
  const call = factory.createCallExpression(toUrl, undefined, [
    factory.createIdentifier("__filename"),
  ]);
  return factory.createPropertyAccessExpression(call, "href");
}
