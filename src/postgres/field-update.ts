// Updates keep what the request leaves out, as Vault's database engine does:
// a field present in the request replaces the stored value, an absent one
// keeps it; on create (nothing stored) the field's default applies.

import type { FieldData } from '../framework';

/** The request's value of `field` when it was sent, else `stored`, else the default via `read`. */
export function sentOrStored<T>(data: FieldData, field: string, stored: T | undefined, read: (field: string) => T): T {
  return data.getOk(field).ok || stored === undefined ? read(field) : stored;
}
