// The OpenAPI document of a backend's paths (sdk/framework openapi.go), in
// the shape Vault decodes into its OASDocument with mapstructure. That
// decoder shapes what may appear: no `$ref` (schemas are inlined, so the
// document needs no component names), no `additionalProperties`, response
// keys are status-code strings, and there is no `patch` method. Keys whose
// value would be undefined are left out, so the document survives a JSON
// round trip unchanged.

import type { SpecialPaths } from '../vault';
import type { FieldSchema, FieldSchemas, FieldType } from './field-schema';
import { expandPattern } from './openapi-pattern';
import type { Path, PathOperation, PathOperationName } from './path';
import { ownValue } from './records';
import type {
  OasDisplayAttrs,
  OasOperation,
  OasParameter,
  OasPathItem,
  OasRequestBody,
  OasSchema,
  OpenApiDocument,
} from './openapi-types';

/** OpenAPI version Vault writes and expects. */
export const OPENAPI_VERSION = '3.0.2';

/** Title and description of Vault's own document (NewOASDocument). */
const INFO_TITLE = 'HashiCorp Vault API';
const INFO_DESCRIPTION = 'HTTP API that gives you full access to Vault. All API routes are prefixed with `/v1/`.';
const LICENSE = { name: 'Mozilla Public License 2.0', url: 'https://www.mozilla.org/en-US/MPL/2.0' };
/** Vault tags operations of secrets engines with this. */
const SECRETS_TAG = 'secrets';
/** Vault's standard responses (OASStdRespOK, OASStdRespNoContent). */
type Status = '200' | '204';
const RESPONSES: Readonly<Record<Status, string>> = { '200': 'OK', '204': 'empty body' };

/** What the document needs besides the paths. */
export interface OpenApiOptions {
  /** `info.version`. */
  version: string;
  /** Marks sudo and unauthenticated paths. Absent: none. */
  specialPaths?: SpecialPaths;
}

interface TypeMapping {
  type: string;
  format?: string;
  pattern?: string;
  items?: string;
}

/** OpenAPI types of field types (Vault's convertType; durations as newer Vault writes them). */
const TYPE_MAPPINGS: Readonly<Record<FieldType, TypeMapping>> = {
  string: { type: 'string' },
  'lowercase-string': { type: 'string', format: 'lowercase' },
  name: { type: 'string', pattern: '\\w([\\w.-]*\\w)?' },
  int: { type: 'integer' },
  bool: { type: 'boolean' },
  duration: { type: 'string', format: 'duration' },
  'comma-string-slice': { type: 'array', items: 'string' },
  'string-slice': { type: 'array', items: 'string' },
  map: { type: 'object', format: 'map' },
};

const PATH_PARAMETER = /\{(\w+)\}/g;

/** The OpenAPI document for `paths`; paths whose pattern has no OpenAPI form are left out. */
export function openApiDocument(paths: readonly Path[], options: OpenApiOptions): OpenApiDocument {
  const doc: OpenApiDocument = {
    openapi: OPENAPI_VERSION,
    info: { title: INFO_TITLE, description: INFO_DESCRIPTION, version: options.version, license: { ...LICENSE } },
    paths: {},
    components: { schemas: {} },
  };
  for (const path of paths) {
    for (const oasPath of expandPattern(path.pattern) ?? []) documentPath(doc, path, oasPath, options);
  }
  return doc;
}

function documentPath(doc: OpenApiDocument, path: Path, oasPath: string, options: OpenApiOptions): void {
  const fields = path.fields ?? {};
  const pathParams = new Set([...oasPath.matchAll(PATH_PARAMETER)].map((m) => m[1] ?? ''));
  const parameters = [...pathParams].sort().map((name) => pathParameter(name, ownValue(fields, name)));
  const bodyFields = Object.keys(fields).filter((name) => !pathParams.has(name));
  const ops = path.operations;
  const common = {
    ...optional('description', cleanText(path.helpSynopsis)),
    ...(parameters.length > 0 ? { parameters } : {}),
  };

  const item: OasPathItem = { ...common, ...specialFlags(oasPath, options.specialPaths) };
  if (ops.create !== undefined) item['x-vault-createSupported'] = true;
  // With both create and update, update documents the POST (as in Vault).
  const writeOp = ops.update !== undefined ? 'update' : ops.create !== undefined ? 'create' : undefined;
  if (writeOp !== undefined) {
    item.post = operation(path, writeOp, '200', requestBody(fields, bodyFields));
  }
  if (ops.read !== undefined) item.get = operation(path, 'read', '200');
  if (ops.delete !== undefined) item.delete = operation(path, 'delete', '204');
  if (item.get !== undefined || item.post !== undefined || item.delete !== undefined) doc.paths[`/${oasPath}`] = item;

  if (ops.list !== undefined) {
    // Vault routes a trailing slash only to list, so list gets its own path.
    const listPath = oasPath.endsWith('/') || oasPath === '' ? oasPath : `${oasPath}/`;
    const listOp = operation(path, 'list', '200');
    listOp.parameters = [
      {
        name: 'list',
        description: 'Must be set to `true`',
        in: 'query',
        required: true,
        schema: { type: 'string', enum: ['true'] },
      },
    ];
    doc.paths[`/${listPath}`] = { ...common, ...specialFlags(listPath, options.specialPaths), get: listOp };
  }
}

function operation(
  path: Path,
  name: PathOperationName,
  status: Status,
  body?: OasRequestBody,
): OasOperation {
  const entry = path.operations[name];
  const docs: Partial<PathOperation> = typeof entry === 'object' ? entry : {};
  return {
    ...optional('summary', cleanText(docs.summary ?? '')),
    ...optional('description', (docs.description ?? '').trim()),
    tags: [SECRETS_TAG],
    ...(body !== undefined ? { requestBody: body } : {}),
    responses: { [status]: { description: RESPONSES[status] } },
  };
}

function requestBody(fields: FieldSchemas, names: string[]): OasRequestBody | undefined {
  if (names.length === 0) return undefined;
  const properties: Record<string, OasSchema> = {};
  const required: string[] = [];
  for (const name of names.sort()) {
    const field = ownValue(fields, name);
    if (field === undefined) continue;
    properties[name] = fieldSchema(field);
    if (field.required === true) required.push(name);
  }
  const schema: OasSchema = { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
  return { required: true, content: { 'application/json': { schema } } };
}

function pathParameter(name: string, field: FieldSchema | undefined): OasParameter {
  const mapping = TYPE_MAPPINGS[field?.type ?? 'string'];
  return {
    name,
    ...optional('description', cleanText(field?.description ?? '')),
    in: 'path',
    required: true,
    schema: { type: mapping.type, ...optional('pattern', mapping.pattern ?? '') },
  };
}

/** The body schema of one field. Sensitive fields get no default and are marked for masking. */
function fieldSchema(field: FieldSchema): OasSchema {
  const mapping = TYPE_MAPPINGS[field.type];
  const sensitive = field.sensitive === true;
  const format = mapping.format ?? (sensitive && mapping.type === 'string' ? 'password' : '');
  const displayAttrs: OasDisplayAttrs = {
    ...optional('name', field.displayName ?? ''),
    ...(sensitive ? { sensitive: true } : {}),
  };
  return {
    type: mapping.type,
    ...optional('description', cleanText(field.description)),
    ...optional('format', format),
    ...optional('pattern', mapping.pattern ?? ''),
    ...(mapping.items !== undefined ? { items: { type: mapping.items } } : {}),
    ...(field.default !== undefined && !sensitive ? { default: field.default } : {}),
    ...(sensitive ? { 'x-vault-displaySensitive': true } : {}),
    ...(Object.keys(displayAttrs).length > 0 ? { 'x-vault-displayAttrs': displayAttrs } : {}),
  };
}

function specialFlags(oasPath: string, special: SpecialPaths | undefined): Partial<OasPathItem> {
  return {
    ...(matchesSpecial(oasPath, special?.root) ? { 'x-vault-sudo': true } : {}),
    ...(matchesSpecial(oasPath, special?.unauthenticated) ? { 'x-vault-unauthenticated': true } : {}),
  };
}

/** Vault's special-path rule: exact, or a prefix when the entry ends with `*`. */
function matchesSpecial(oasPath: string, patterns: readonly string[] | undefined): boolean {
  return (patterns ?? []).some((p) => (p.endsWith('*') ? oasPath.startsWith(p.slice(0, -1)) : p === oasPath));
}

/** `{key: value}` when value is non-empty, `{}` otherwise (no undefined members). */
function optional<K extends string>(key: K, value: string): { [P in K]?: string } {
  if (value === '') return {};
  const out: { [P in K]?: string } = {};
  out[key] = value;
  return out;
}

/** Trimmed, whitespace runs folded to one space (Vault's cleanString). */
function cleanText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}
