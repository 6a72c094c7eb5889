// Turns a path pattern into OpenAPI paths, like sdk/framework openapi.go
// expandPattern: named captures become `{name}`, each optional part or
// alternative yields its own path, and an optional trailing `/` is dropped.
// Patterns using anything that has no OpenAPI spelling (classes, `.`, `*`,
// `+`, repetition outside a named capture) yield `undefined`.

import { stripAnchors } from './router';

/** One path being built; `slashAt` marks an optional `/` just appended. */
interface Variant {
  text: string;
  slashAt: number;
}

/** A parsed pattern element. */
type Atom =
  | { kind: 'text'; text: string }
  | { kind: 'group'; inner: string }
  | { kind: 'empty' };

/** Thrown inside the expander; never escapes this module. */
class Unsupported extends Error {}

const NAMED_GROUP_START = /^\(\?P?<([A-Za-z_]\w*)>/;
/** Escapes that stand for one literal character. */
const LITERAL_ESCAPE = /^[^A-Za-z0-9]$/;

/**
 * The OpenAPI paths (without leading `/`) a pattern stands for, in pattern
 * order and without duplicates; `undefined` when it cannot be expressed.
 */
export function expandPattern(pattern: string): string[] | undefined {
  let variants: Variant[];
  try {
    variants = expand(stripAnchors(pattern), [{ text: '', slashAt: -1 }]);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const paths = variants.filter((v) => v.slashAt !== v.text.length).map((v) => v.text);
  return [...new Set(paths)];
}

/** Expands `source` (an alternation) onto each of `input`. */
function expand(source: string, input: Variant[]): Variant[] {
  const branches = splitTopLevel(source);
  const out: Variant[] = [];
  for (const branch of branches) out.push(...expandSequence(branch, input.map(copy)));
  return out;
}

function expandSequence(source: string, input: Variant[]): Variant[] {
  let variants = input;
  let pos = 0;
  while (pos < source.length) {
    const [atom, next] = readAtom(source, pos);
    pos = next;
    const quantifier = source[pos];
    if (quantifier === '*' || quantifier === '+' || quantifier === '{') throw new Unsupported();
    if (quantifier === '?') {
      pos++;
      if (source[pos] === '?') throw new Unsupported();
      const taken = apply(atom, variants.map(copy));
      if (atom.kind === 'text' && atom.text === '/') {
        for (const v of taken) v.slashAt = v.text.length;
      }
      variants = [...variants, ...taken];
    } else {
      variants = apply(atom, variants);
    }
  }
  return variants;
}

function apply(atom: Atom, variants: Variant[]): Variant[] {
  switch (atom.kind) {
    case 'empty':
      return variants;
    case 'text':
      for (const v of variants) v.text += atom.text;
      return variants;
    case 'group':
      return expand(atom.inner, variants);
  }
}

/** Reads one element at `pos`; returns it and the position after it. */
function readAtom(source: string, pos: number): [Atom, number] {
  const ch = source[pos];
  switch (ch) {
    case '(': {
      const end = closingParen(source, pos);
      const group = source.slice(pos, end + 1);
      const named = NAMED_GROUP_START.exec(group);
      if (named !== null) return [{ kind: 'text', text: `{${named[1] ?? ''}}` }, end + 1];
      if (group.startsWith('(?:')) return [{ kind: 'group', inner: group.slice(3, -1) }, end + 1];
      // Lookarounds, flags and the like have no path meaning.
      if (group.startsWith('(?')) throw new Unsupported();
      return [{ kind: 'group', inner: group.slice(1, -1) }, end + 1];
    }
    case '\\': {
      const escaped = source[pos + 1] ?? '';
      if (escaped === 'b' || escaped === 'B') return [{ kind: 'empty' }, pos + 2];
      if (!LITERAL_ESCAPE.test(escaped)) throw new Unsupported();
      return [{ kind: 'text', text: escaped }, pos + 2];
    }
    case '^':
    case '$':
      return [{ kind: 'empty' }, pos + 1];
    case '[':
    case '.':
    case '*':
    case '+':
    case '?':
    case '{':
    case ')':
    case undefined:
      throw new Unsupported();
    default:
      return [{ kind: 'text', text: ch }, pos + 1];
  }
}

/** Index of the `)` closing the group opened at `open`, skipping escapes and classes. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = closingBracket(source, i);
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  throw new Unsupported();
}

function closingBracket(source: string, open: number): number {
  let i = open + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i;
  }
  throw new Unsupported();
}

/** Splits on `|` outside groups and classes. */
function splitTopLevel(source: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = closingBracket(source, i);
    else if (ch === '(') i = closingParen(source, i);
    else if (ch === '|') {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

function copy(v: Variant): Variant {
  return { ...v };
}
