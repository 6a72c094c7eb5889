// Compiles path patterns once and finds the path for a request (first match
// in declaration order, like the Go framework). Mistakes in path tables are
// reported here, at construction, in a sentence naming the pattern.

import { ErrorKind, VaultError, errorMessage } from '../vault';
import { checkDefault } from './field-data';
import type { FieldSchemas } from './field-schema';
import type { Path } from './path';
import { ownValue } from './records';

/** A request path resolved to its route. */
export interface RouteMatch {
  /** The matching path. */
  path: Path;
  /** The path's fields (`{}` when it declares none). */
  fields: FieldSchemas;
  /** Named captures that took part in the match. */
  captures: Record<string, string>;
}

interface CompiledRoute {
  path: Path;
  fields: FieldSchemas;
  regex: RegExp;
}

/** Named groups in JavaScript or Go (`(?P<name>`) spelling. */
const NAMED_GROUP = /\(\?P?<([A-Za-z_]\w*)>/g;
const EMPTY_FIELDS: FieldSchemas = Object.freeze({});

/** The compiled routing table of a backend. */
export class Router {
  /** The paths in declaration order. */
  readonly paths: readonly Path[];
  private readonly routes: readonly CompiledRoute[];

  constructor(paths: readonly Path[]) {
    this.paths = paths;
    this.routes = paths.map(compileRoute);
  }

  /** The first path whose pattern matches the whole request path. */
  match(requestPath: string): RouteMatch | undefined {
    for (const route of this.routes) {
      const found = route.regex.exec(requestPath);
      if (found === null) continue;
      const captures: Record<string, string> = {};
      for (const [name, value] of Object.entries(found.groups ?? {})) {
        if (value !== undefined) captures[name] = value;
      }
      return { path: route.path, fields: route.fields, captures };
    }
    return undefined;
  }
}

/** The pattern without the anchors Vault lets authors write or omit. */
export function stripAnchors(pattern: string): string {
  let body = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  if (body.endsWith('$') && !body.endsWith('\\$')) body = body.slice(0, -1);
  return body;
}

/** Names of the pattern's named captures. */
export function captureNames(pattern: string): string[] {
  return [...pattern.matchAll(NAMED_GROUP)].map((m) => m[1] ?? '');
}

function compileRoute(path: Path): CompiledRoute {
  const fields = path.fields ?? EMPTY_FIELDS;
  const invalid = (problem: string): VaultError =>
    new VaultError(ErrorKind.InternalError, `path "${path.pattern}": ${problem}`);
  if (path.pattern === '') throw invalid('the pattern must not be empty');
  const body = stripAnchors(path.pattern).replaceAll('(?P<', '(?<');
  let regex: RegExp;
  try {
    // The group keeps a top-level alternation inside the anchors.
    regex = new RegExp(`^(?:${body})$`);
  } catch (err) {
    throw new VaultError(ErrorKind.InternalError, `path "${path.pattern}": not a valid regular expression`, {
      cause: err,
    });
  }
  for (const name of captureNames(body)) {
    if (ownValue(fields, name) === undefined) throw invalid(`the capture "${name}" is not declared in fields`);
  }
  for (const [name, schema] of Object.entries(fields)) {
    try {
      checkDefault(name, schema);
    } catch (err) {
      throw new VaultError(ErrorKind.InternalError, `path "${path.pattern}": ${errorMessage(err)}`, { cause: err });
    }
  }
  if (path.existenceCheck !== undefined && path.operations.create === undefined) {
    // Vault sends `create` whenever the check says "missing"; without a
    // handler every first write would fail with 405.
    throw invalid('a path with an existence check must handle create');
  }
  return { path, fields, regex };
}
