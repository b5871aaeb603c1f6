/**
 * `npx tsx scripts/check-size.ts [folder]`: lists source files over 300 lines and functions over 80
 * lines (default folder: lambdas). Exits 1 when any is found. Parses with oxc (through rolldown,
 * which vite brings), so arrow functions and methods count as functions too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSync } from 'rolldown/experimental';

const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 80;
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

type Node = { type?: string; start?: number; end?: number; id?: { name?: string } | null; [key: string]: unknown };

function* functionsOf(node: unknown): Generator<Node> {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) yield* functionsOf(child);
    return;
  }
  const n = node as Node;
  if (n.type && FUNCTION_TYPES.has(n.type)) yield n;
  for (const [key, value] of Object.entries(n)) if (key !== 'parent') yield* functionsOf(value);
}

const root = process.argv[2] ?? 'lambdas';
const problems: string[] = [];
let files = 0;
let functions = 0;
let longestFile = { path: '', lines: 0 };
let longestFunction = { where: '', lines: 0 };
for (const path of sourceFiles(root)) {
  files++;
  const text = readFileSync(path, 'utf8');
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const lines = text.endsWith('\n') ? lineStarts.length - 1 : lineStarts.length;
  if (lines > longestFile.lines) longestFile = { path, lines };
  if (lines > MAX_FILE_LINES) problems.push(`${path}: ${lines} lines (max ${MAX_FILE_LINES})`);
  const parsed = parseSync(path, text, { lang: 'ts', sourceType: 'module' });
  if (parsed.errors.length > 0) problems.push(`${path}: cannot parse (${parsed.errors[0]!.message})`);
  for (const fn of functionsOf(parsed.program)) {
    functions++;
    const first = lineOf(fn.start!);
    const span = lineOf(fn.end!) - first + 1;
    const where = `${path}:${first}${fn.id?.name ? ` ${fn.id.name}` : ''}`;
    if (span > longestFunction.lines) longestFunction = { where, lines: span };
    if (span > MAX_FUNCTION_LINES) problems.push(`${where}: function of ${span} lines (max ${MAX_FUNCTION_LINES})`);
  }
}
console.log(`${files} files, ${functions} functions under ${root}/`);
console.log(`longest file: ${longestFile.path} (${longestFile.lines} lines); longest function: ${longestFunction.where} (${longestFunction.lines} lines)`);
for (const problem of problems) console.log(problem);
console.log(problems.length === 0 ? 'OK: no file over 300 lines, no function over 80 lines' : `${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
