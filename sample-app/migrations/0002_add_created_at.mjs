// Schema 1 -> 2: every item gets `createdAt`. Backward compatible: an app of schema 1 ignores the
// new field and keeps the fields it does not know when it writes.
export const id = "0002_add_created_at";
export const from = 1;
export const to = 2;
export const backwardCompatible = true;
/** The oldest app schema that can read the data after this migration. */
export const minReaderSchema = 1;

/** Idempotent per item: an item that already has createdAt is left as it is. */
export function migrateItem(item, now) {
  return "createdAt" in item ? item : { ...item, createdAt: now };
}
