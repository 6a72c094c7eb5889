// Checks request data against a path's schema before the handler runs:
// values that do not parse, required fields that are missing, and (on writes)
// parameters the path does not know, which would otherwise be silently
// dropped — a typo like `default_tll` must not go unnoticed.

import { parseFieldValue } from './field-parse';
import type { FieldSchema, FieldSchemas } from './field-schema';
import { ownValue } from './records';

/** Which checks apply; the backend derives them from the operation. */
export interface ValidateOptions {
  /** create/update/patch: parameters not in the schema are an error. */
  forWrite: boolean;
  /** create/update: fields marked `required` must be present. Absent: false. */
  requireFields?: boolean;
}

/** Longest quoted input in a message; request values can be large. */
const MAX_QUOTED_INPUT = 64;

/**
 * Every problem with `data`, one sentence each, sorted so messages are
 * stable: conversion errors, then missing required fields, then unknown
 * parameters. Empty when the data is acceptable.
 */
export function validateFields(
  schema: FieldSchemas,
  data: Readonly<Record<string, unknown>>,
  options: ValidateOptions,
): string[] {
  const problems: string[] = [];
  const unknown: string[] = [];
  for (const name of Object.keys(data).sort()) {
    const field = ownValue(schema, name);
    const raw = data[name];
    if (field === undefined) {
      unknown.push(name);
      continue;
    }
    if (raw === undefined || raw === null) continue;
    const parsed = parseFieldValue(field.type, raw);
    if (!parsed.ok) problems.push(conversionProblem(name, field, raw, parsed.reason));
  }
  if (options.requireFields === true) {
    for (const name of Object.keys(schema).sort()) {
      const value = ownValue(data, name);
      if (ownValue(schema, name)?.required === true && (value === undefined || value === null)) {
        problems.push(`field "${name}" is required`);
      }
    }
  }
  if (options.forWrite && unknown.length > 0) {
    const accepted = Object.keys(schema).sort();
    const acceptedText = accepted.length === 0 ? 'this path accepts no fields' : `accepted: ${accepted.join(', ')}`;
    problems.push(`unknown field(s): ${unknown.join(', ')} (${acceptedText})`);
  }
  return problems;
}

/** The message for a value that does not parse; sensitive values are not quoted. */
export function conversionProblem(name: string, field: FieldSchema, raw: unknown, reason: string): string {
  const input = field.sensitive === true ? '' : ` ${quoteInput(raw)}`;
  return `error converting input${input} for field "${name}": ${reason}`;
}

function quoteInput(raw: unknown): string {
  const text = typeof raw === 'bigint' ? raw.toString() : (JSON.stringify(raw) ?? String(raw));
  return text.length > MAX_QUOTED_INPUT ? `${text.slice(0, MAX_QUOTED_INPUT)}…` : text;
}
