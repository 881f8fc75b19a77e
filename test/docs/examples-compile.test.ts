import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..');

interface Example {
  /** Where it is: `src/file.ts:line`. */
  where: string;
  /** The file it is in (an example of an internal helper imports it by a relative path). */
  source: string;
  code: string;
}

/** Every ```ts block after an `@example` tag in the doc comments of `src/`. */
function examplesIn(dir: string): Example[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return examplesIn(path);
    if (!entry.name.endsWith('.ts')) return [];
    const lines = readFileSync(path, 'utf8').split('\n');
    const found: Example[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*@example\b/.test(lines[i])) continue;
      let start = i + 1;
      while (start < lines.length && !/^\s*\*\s*```ts\s*$/.test(lines[start])) start++;
      const code: string[] = [];
      let end = start + 1;
      for (; end < lines.length && !/^\s*\*\s*```\s*$/.test(lines[end]); end++) code.push(lines[end].replace(/^\s*\*( |$)/, ''));
      found.push({ where: `${relative(root, path)}:${start + 1}`, source: path, code: code.join('\n') });
      i = end;
    }
    return found;
  });
}

/**
 * DESIGN.md's promise, kept: every example in a doc comment of `src/`
 * compiles against the package as a user would import it (`tsreactor`,
 * `tsreactor/fast-check`), strict, as a module of its own (top-level await
 * allowed), as `deno test --doc` checks Deno's. An internal helper, which
 * the package does not export, is imported by its relative path.
 */
describe('every @example in src/ type-checks against the package', () => {
  const examples = examplesIn(join(root, 'src'));

  test('there are examples to check', () => {
    expect(examples.length).toBeGreaterThan(30);
  });

  test('each compiles', () => {
    const files = new Map<string, Example>();
    examples.forEach((example, i) => {
      // Beside its source file, so that an internal helper's example can import it as './helper'.
      const name = join(dirname(example.source), `__example-${i}.ts`);
      files.set(name, { ...example, code: `${example.code}\nexport {};\n` });
    });
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      skipLibCheck: true,
      esModuleInterop: true,
      baseUrl: root,
      paths: { tsreactor: ['src/index.ts'], 'tsreactor/fast-check': ['src/fast-check.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (name) => files.get(name)?.code ?? readFile(name);
    host.fileExists = (name) => files.has(name) || fileExists(name);
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.has(d.file.fileName))
      .map((d) => {
        const file = d.file as ts.SourceFile;
        const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
        const example = files.get(file.fileName) as Example;
        const [path, first] = example.where.split(':');
        return `${path}:${Number(first) + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);
});
