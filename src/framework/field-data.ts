// What a handler reads instead of `req.data`: the request's values parsed
// against the path's schema, with defaults filled in (sdk/framework
// FieldData).

import { ErrorKind, VaultError, invalidRequest } from '../vault';
import { parseFieldValue } from './field-parse';
import type { FieldSchema, FieldSchemas, FieldValue } from './field-schema';
import { zeroValue } from './field-schema';
import { conversionProblem } from './field-validation';
import { isPlainObject, ownValue } from './records';

/** A field's value and whether the request set it. */
export interface FieldLookup {
  /** The parsed request value, or the default (or zero value) when unset. */
  value: FieldValue;
  /** True when the request carried a non-null value (path captures count). */
  ok: boolean;
}

/** Request data typed by a schema. Build it after validateFields passed. */
export class FieldData {
  /** The request values as received (captures merged in); not parsed. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The schema the values are read against. */
  readonly schema: FieldSchemas;

  constructor(raw: Readonly<Record<string, unknown>>, schema: FieldSchemas) {
    this.raw = { ...raw };
    this.schema = schema;
  }

  /** The parsed value, or the default (or zero value) when unset. */
  get(name: string): FieldValue {
    return this.getOk(name).value;
  }

  /** The value plus whether the request set it (Go's `GetOk`). */
  getOk(name: string): FieldLookup {
    const schema = this.fieldSchema(name);
    const raw = ownValue(this.raw, name);
    if (raw === undefined || raw === null) return { value: defaultValue(name, schema), ok: false };
    const parsed = parseFieldValue(schema.type, raw);
    if (!parsed.ok) {
      // Only reachable when the handler skipped validation; answer like the
      // validation would have.
      throw invalidRequest(`Field validation failed: ${conversionProblem(name, schema, raw, parsed.reason)}`);
    }
    return { value: parsed.value, ok: true };
  }

  /** A `string`, `lowercase-string` or `name` field. */
  getString(name: string): string {
    const value = this.get(name);
    if (typeof value !== 'string') throw this.wrongGetter(name, 'getString');
    return value;
  }

  /** An `int` field. */
  getInt(name: string): number {
    const value = this.get(name);
    if (typeof value !== 'number' || this.fieldSchema(name).type !== 'int') throw this.wrongGetter(name, 'getInt');
    return value;
  }

  /** A `bool` field. */
  getBool(name: string): boolean {
    const value = this.get(name);
    if (typeof value !== 'boolean') throw this.wrongGetter(name, 'getBool');
    return value;
  }

  /** A `duration` field, in whole seconds. */
  getDuration(name: string): number {
    const value = this.get(name);
    if (typeof value !== 'number' || this.fieldSchema(name).type !== 'duration') {
      throw this.wrongGetter(name, 'getDuration');
    }
    return value;
  }

  /** A `string-slice` or `comma-string-slice` field. */
  getStringSlice(name: string): string[] {
    const value = this.get(name);
    if (!Array.isArray(value)) throw this.wrongGetter(name, 'getStringSlice');
    return value;
  }

  /** A `map` field. */
  getMap(name: string): Record<string, unknown> {
    const value = this.get(name);
    if (!isPlainObject(value)) throw this.wrongGetter(name, 'getMap');
    return value;
  }

  private fieldSchema(name: string): FieldSchema {
    const schema = ownValue(this.schema, name);
    // Reading an undeclared field is a bug in the handler, not a user error.
    if (schema === undefined) throw new VaultError(ErrorKind.InternalError, `field "${name}" is not in the schema`);
    return schema;
  }

  private wrongGetter(name: string, getter: string): VaultError {
    const type = this.fieldSchema(name).type;
    return new VaultError(ErrorKind.InternalError, `field "${name}" has type ${type}; ${getter} cannot read it`);
  }
}

/**
 * The value an unset field takes. Defaults are checked when paths are
 * compiled (checkDefault), so parsing cannot fail here.
 */
function defaultValue(name: string, schema: FieldSchema): FieldValue {
  if (schema.default === undefined) return zeroValue(schema.type);
  const parsed = parseFieldValue(schema.type, schema.default);
  if (!parsed.ok) throw new VaultError(ErrorKind.InternalError, invalidDefaultMessage(name, parsed.reason));
  return parsed.value;
}

function invalidDefaultMessage(name: string, reason: string): string {
  return `the default of field "${name}" is invalid: ${reason}`;
}

/** Throws when a schema's default cannot be parsed as its own type. */
export function checkDefault(name: string, schema: FieldSchema): void {
  defaultValue(name, schema);
}
