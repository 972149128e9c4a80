// Schema 2 -> 3: `name` becomes `title`. NOT backward compatible: an app of schema 2 or older cannot
// read the result, so a release of a schema-3 build must use the recreate strategy.
export const id = "0003_rename_name_to_title";
export const from = 2;
export const to = 3;
export const backwardCompatible = false;
/** The oldest app schema that can read the data after this migration. */
export const minReaderSchema = 3;

/** Idempotent per item: an item that already has a title is left as it is. */
export function migrateItem(item) {
  if ("title" in item) return item;
  const { name, ...rest } = item;
  return { ...rest, title: name };
}
