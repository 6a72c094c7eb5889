// Public surface of the framework layer: Vault's sdk/framework ideas
// (declarative paths, typed fields, secrets by type, WAL, TTL arithmetic,
// help and OpenAPI) on top of ../vault.

export { FrameworkBackend } from './backend';
export type { FrameworkBackendOptions } from './backend';

export { genericNameRegex, matchAllRegex, optionalTrailingSlash } from './path';
export type { ExistenceCheck, OperationHandler, Path, PathOperation, PathOperationName } from './path';

export { FieldData } from './field-data';
export type { FieldLookup } from './field-data';
export type { FieldDefault, FieldSchema, FieldSchemas, FieldType, FieldValue, FieldValueTypes } from './field-schema';
export { validateFields } from './field-validation';
export type { ValidateOptions } from './field-validation';
export { formatDuration, parseGoDurationSeconds } from './duration';
export { isPlainObject, ownValue } from './records';

export { SECRET_TYPE_KEY, secretResponse } from './secret';
export type { SecretLease, SecretType } from './secret';
export { calculateTtl } from './lease';
export type { TtlInputs, TtlResult } from './lease';

export { WAL_PREFIX, deleteWal, getWal, listWal, putWal } from './wal';
export type { WalEntry } from './wal';
export type { PeriodicFunc, WalRollbackFunc } from './rollback';
export { FORWARD_WRITES, REPLICATION_STATE, forwardIfRequired, storageReadOnly } from './replication';
export type { ForwardingRules } from './replication';

export { OPENAPI_VERSION, openApiDocument } from './openapi';
export type { OpenApiOptions } from './openapi';
export type {
  OasDisplayAttrs,
  OasOperation,
  OasParameter,
  OasPathItem,
  OasRequestBody,
  OasResponse,
  OasSchema,
  OpenApiDocument,
} from './openapi-types';
