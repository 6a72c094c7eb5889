// Texts for `vault path-help` (the `help` operation): the root overview
// listing every path, and one path's synopsis, parameters and description.
// Layout follows the Go framework's templates so operators see familiar help.

import type { FieldSchema, FieldSchemas } from './field-schema';
import type { Path } from './path';
import { ownValue } from './records';

const NO_SYNOPSIS = '<no synopsis>';
const NO_DESCRIPTION = '<no description>';

/** The root help: the backend's text and a listing of all paths with their synopsis. */
export function rootHelpText(help: string, paths: readonly Path[]): string {
  const listing = [...paths]
    .sort((a, b) => compareText(a.pattern, b.pattern))
    .map((p) => `${indent(4, anchored(p.pattern))}\n${indent(8, p.helpSynopsis.trim() || NO_SYNOPSIS)}`)
    .join('\n\n');
  return [
    '## DESCRIPTION',
    '',
    help.trim(),
    '',
    '## PATHS',
    '',
    'The following paths are supported by this backend. To view help for',
    'any of the paths below, use the help command with any route matching',
    'the path pattern. Note that depending on the policy of your auth token,',
    'you may or may not be able to access certain paths.',
    '',
    listing,
    '',
  ].join('\n');
}

/** Help for one path, as requested at `requestPath`. */
export function pathHelpText(requestPath: string, path: Path): string {
  const lines = [
    `Request:        ${requestPath}`,
    `Matching Route: ${anchored(path.pattern)}`,
    '',
    path.helpSynopsis.trim() || NO_SYNOPSIS,
    '',
  ];
  const fields = path.fields ?? {};
  const names = Object.keys(fields).sort(compareText);
  if (names.length > 0) {
    lines.push('## PARAMETERS', '');
    for (const name of names) lines.push(...fieldHelp(name, fields), '');
  }
  lines.push('## DESCRIPTION', '', path.helpDescription.trim() || NO_DESCRIPTION, '');
  return lines.join('\n');
}

function fieldHelp(name: string, fields: FieldSchemas): string[] {
  const field = ownValue(fields, name);
  if (field === undefined) return [];
  const flags: string[] = [field.type];
  if (field.required === true) flags.push('required');
  if (field.sensitive === true) flags.push('sensitive');
  const lines = [indent(4, `${name} (${flags.join(', ')})`), indent(8, field.description.trim() || NO_DESCRIPTION)];
  const shown = defaultText(field);
  if (shown !== undefined) lines.push(indent(8, `Default: ${shown}`));
  return lines;
}

/** The declared default as JSON; never shown for sensitive fields. */
function defaultText(field: FieldSchema): string | undefined {
  if (field.default === undefined || field.sensitive === true) return undefined;
  return JSON.stringify(field.default);
}

/** The pattern as it is matched, so operators can see where it is anchored. */
function anchored(pattern: string): string {
  const head = pattern.startsWith('^') ? '' : '^';
  const tail = pattern.endsWith('$') ? '' : '$';
  return `${head}${pattern}${tail}`;
}

function indent(width: number, text: string): string {
  const pad = ' '.repeat(width);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
