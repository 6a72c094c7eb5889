// The OpenAPI document types, shaped like the Go structs Vault decodes a
// plugin's document into (sdk/framework openapi.go OASDocument and friends).

/** UI hints (Vault's DisplayAttributes), the subset fields use. */
export interface OasDisplayAttrs {
  /** Label. */
  name?: string;
  /** Mask the value. */
  sensitive?: boolean;
}

/** A JSON schema as Vault's OASSchema reads it. */
export interface OasSchema {
  /** JSON type. */
  type: string;
  /** Help text. */
  description?: string;
  /** Object members. */
  properties?: Record<string, OasSchema>;
  /** Required object members, sorted. */
  required?: string[];
  /** Array element schema. */
  items?: OasSchema;
  /** Refinement of `type`: duration, password, lowercase, map. */
  format?: string;
  /** Regex the value must match (name fields). */
  pattern?: string;
  /** Allowed values. */
  enum?: string[];
  /** The field's default as declared. */
  default?: unknown;
  /** Vault UI: mask the value. */
  'x-vault-displaySensitive'?: boolean;
  /** Vault UI hints. */
  'x-vault-displayAttrs'?: OasDisplayAttrs;
}

/** A path or query parameter. */
export interface OasParameter {
  /** Parameter name. */
  name: string;
  /** Help text. */
  description?: string;
  /** `path` or `query`. */
  in: 'path' | 'query';
  /** Value schema. */
  schema: OasSchema;
  /** Path parameters are always required. */
  required?: boolean;
}

/** A response description. */
export interface OasResponse {
  /** Short description. */
  description: string;
}

/** The JSON body of a POST. */
export interface OasRequestBody {
  /** Always true for Vault writes. */
  required: boolean;
  /** By media type; only JSON is documented. */
  content: Record<string, { schema: OasSchema }>;
}

/** One HTTP method on a path. */
export interface OasOperation {
  /** One line. */
  summary?: string;
  /** Longer text. */
  description?: string;
  /** Grouping for documentation. */
  tags: string[];
  /** Operation-specific parameters (the `list` query parameter). */
  parameters?: OasParameter[];
  /** POST body. */
  requestBody?: OasRequestBody;
  /** By status code as a string ("200"), never "default". */
  responses: Record<string, OasResponse>;
}

/** One OpenAPI path. */
export interface OasPathItem {
  /** The path's help synopsis. */
  description?: string;
  /** Path parameters, sorted by name. */
  parameters?: OasParameter[];
  /** Needs a root (sudo) token: listed in specialPaths.root. */
  'x-vault-sudo'?: boolean;
  /** Needs no token: listed in specialPaths.unauthenticated. */
  'x-vault-unauthenticated'?: boolean;
  /** The path distinguishes create from update. */
  'x-vault-createSupported'?: boolean;
  /** read, or list on the trailing-slash path. */
  get?: OasOperation;
  /** create/update. */
  post?: OasOperation;
  /** delete. */
  delete?: OasOperation;
}

/** The document returned in help responses under `openapi`. */
export interface OpenApiDocument {
  /** Always OPENAPI_VERSION. */
  openapi: string;
  /** Vault's document info, with the version given. */
  info: { title: string; description: string; version: string; license: { name: string; url: string } };
  /** Keyed by path relative to the mount, with a leading `/`. */
  paths: Record<string, OasPathItem>;
  /** Always empty: schemas are inlined. */
  components: { schemas: Record<string, OasSchema> };
}
