/**
 * One schema, one list of migrations, two dialects. Each migration is a numbered file in this folder
 * that exports the SQL for SQLite and for PostgreSQL side by side, so the two can never drift apart
 * unnoticed. Migrations only move forward; a database newer than the code is refused.
 */
export interface Migration {
  /** Strictly increasing, never reused. */
  version: number;
  /** A few words, shown in logs and in the `kairos_migrations` table. */
  name: string;
  sqlite: string;
  /** May use `${schema}`-free names: it runs with `search_path` set to the store's schema. */
  postgres: string;
}
