/**
 * The project compiles with `noUncheckedIndexedAccess`: an element read by index is typed as possibly
 * undefined, so code must check it (or say why it cannot be missing) before use. Checked here with the
 * compiler and the repository's own tsconfig.json on a snippet that reads an array element unchecked,
 * beside one that checks it, so a tsconfig without the option (or one that refuses both) fails.
 */
import path from 'node:path';
import ts from 'typescript';

const root = path.join(__dirname, '..', '..');

/** The compiler's diagnostics for `code` as one file under the repository's compiler options. */
function diagnostics(code: string): string[] {
  const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const file = path.join(root, 'functions', 'example-unchecked-index.ts');
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === file ? code : readFile(f));
  host.fileExists = (f) => f === file || ts.sys.fileExists(f);
  host.getSourceFile = (f, language) =>
    f === file ? ts.createSourceFile(f, code, language) : getSourceFile(f, language);
  const program = ts.createProgram([file], { ...options, types: [] }, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('an element read by index must be checked before it is used as a value', () => {
  expect(tsconfigOption()).toBe(true);
  const unchecked = diagnostics('export function first(xs: number[]): number {\n  return xs[0];\n}\n');
  expect(unchecked).toEqual([expect.stringMatching(/'number \| undefined' is not assignable to type 'number'/)]);
  const checked = diagnostics(
    'export function first(xs: number[]): number {\n  const x = xs[0];\n  if (x === undefined) throw new Error("empty");\n  return x;\n}\n',
  );
  expect(checked).toEqual([]);
});

function tsconfigOption(): unknown {
  const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  return (configFile.config as { compilerOptions?: Record<string, unknown> }).compilerOptions?.noUncheckedIndexedAccess;
}
