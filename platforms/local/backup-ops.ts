// Backups of a service's data directory, as plain functions: the backup dynamic provider only calls
// these, and unit tests call them directly. No Pulumi imports, so the provider can load this module
// with `await import()` inside its methods. The work lives in backup/ by concern: the on-disk format
// (format.ts), taking a backup (create.ts), verifying and restoring one (restore.ts), and listing and
// pruning them (retention.ts); this module is the one name the rest of the platform imports.
export {
  BACKUP_DATA_FOLDER,
  BACKUP_FORMAT_VERSION,
  BACKUP_ID_PATTERN,
  BACKUP_MANIFEST_FILE,
  BackupConsistencyError,
  type BackupFileEntry,
  type BackupManifest,
  type BackupResult,
  type BackupSummary,
  type RestoreResult,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyResult,
  backupManifestSchema,
  digestDirectory,
} from "./backup/format";
export { type CreateBackupArgs, createBackup } from "./backup/create";
export { type RestoreBackupArgs, restoreBackup, verifyBackup } from "./backup/restore";
export { type RetentionArgs, applyRetention, listBackups } from "./backup/retention";
