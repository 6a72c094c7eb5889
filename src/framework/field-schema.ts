// The declared shape of a request field (sdk/framework FieldSchema): its type
// decides how raw request input is parsed, its default what a handler sees
// when the caller left it out.

/**
 * What each field type parses to. The keys are the field types; Vault's Go
 * names are given beside them so path tables can be ported by eye.
 */
export interface FieldValueTypes {
  /** TypeString. Numbers and booleans are converted like Vault does. */
  string: string;
  /** TypeLowerCaseString: a string folded to lower case. */
  'lowercase-string': string;
  /** TypeNameString: a string matching Vault's generic name rule. */
  name: string;
  /** TypeInt: a safe integer. */
  int: number;
  /** TypeBool. */
  bool: boolean;
  /** TypeDurationSecond: whole seconds, never negative. */
  duration: number;
  /** TypeCommaStringSlice: `"a, b"` or an array; trimmed, empties dropped. */
  'comma-string-slice': string[];
  /** TypeStringSlice: an array, or one string as a single element; trimmed. */
  'string-slice': string[];
  /** TypeMap: a JSON object, or a string holding one. */
  map: Record<string, unknown>;
}

/** The type of a field: decides parsing, zero value, help and OpenAPI type. */
export type FieldType = keyof FieldValueTypes;

/** Any parsed field value. */
export type FieldValue = FieldValueTypes[FieldType];

/**
 * A declared default. Read-only forms are accepted so that `as const` path
 * tables type-check; durations may be written as text (`"1h"`).
 */
export type FieldDefault = string | number | boolean | readonly string[] | Readonly<Record<string, unknown>>;

/** One field of a path or of a secret type. */
export interface FieldSchema {
  /** How raw input is parsed. */
  type: FieldType;
  /** Shown in help and OpenAPI; one or two sentences. */
  description: string;
  /**
   * Value seen by handlers when the request leaves the field out (or sends
   * null). Parsed like request input, so a duration may say `"1h"`. Absent:
   * the type's zero value (`""`, `0`, `false`, `[]`, `{}`).
   */
  default?: FieldDefault;
  /**
   * The request must carry the field on create and update (patch may omit
   * it). Path captures always satisfy this. Absent: optional.
   */
  required?: boolean;
  /**
   * The value is a credential: validation errors never quote it and OpenAPI
   * marks it for masking. Absent: not sensitive.
   */
  sensitive?: boolean;
  /** Label for UIs (OpenAPI `x-vault-displayAttrs.name`). Absent: the key. */
  displayName?: string;
}

/** A path's or secret type's fields, by request key. */
export type FieldSchemas = Readonly<Record<string, FieldSchema>>;

/** Zero value of each type, what Vault returns for an unset field without a default. */
export function zeroValue(type: FieldType): FieldValue {
  switch (type) {
    case 'string':
    case 'lowercase-string':
    case 'name':
      return '';
    case 'int':
    case 'duration':
      return 0;
    case 'bool':
      return false;
    case 'comma-string-slice':
    case 'string-slice':
      return [];
    case 'map':
      return {};
  }
}
