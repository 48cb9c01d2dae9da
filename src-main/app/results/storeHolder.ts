/**
 * The app's one connection to the results database: opened on first use and kept open; a file that
 * cannot be opened (corrupt, foreign, newer, locked) is an error naming it with what to do in the
 * app, and the next call tries again. Moving a broken file aside never deletes it.
 */
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { MadError } from "../../../shared/errors.js";
import { moveAside } from "../../engine/store/paths.js";
import { ResultsStore } from "../../engine/store/resultsStore.js";

const MOVE_ASIDE_IN_APP =
  "use “Move aside and start fresh” on the Results screen (the file is renamed to <file>.broken-<time>, nothing is deleted), or start the app with another --data-dir";

/** True when the open failed because another process holds the database (waiting helps; moving aside does not). */
export function isLockError(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(cause.code);
}

export class StoreHolder {
  private store: ResultsStore | undefined;

  constructor(readonly file: string) {}

  /** The open store (opening it the first time). */
  get(): ResultsStore {
    if (this.store) return this.store;
    try {
      this.store = ResultsStore.open(this.file);
    } catch (error) {
      if (
        error instanceof MadError &&
        !isLockError(error) &&
        error.code === "INVALID_FILE" &&
        existsSync(this.file)
      ) {
        throw new MadError(error.code, error.message, {
          file: this.file,
          hint: MOVE_ASIDE_IN_APP,
          cause: error,
        });
      }
      throw error;
    }
    return this.store;
  }

  /** Runs work on the open store. */
  use<T>(work: (store: ResultsStore) => T): T {
    return work(this.get());
  }

  /** Closes the store, renames the file (and its -wal/-shm) aside and opens a fresh database. */
  async moveAside(): Promise<string> {
    this.close();
    if (!existsSync(this.file)) {
      throw new MadError("FILE_NOT_FOUND", `${this.file}: there is no results database to move aside`, {
        file: this.file,
        hint: "nothing to do: a new database is created on first use",
      });
    }
    let movedTo: string;
    try {
      movedTo = await moveAside(this.file);
    } catch (error) {
      throw new MadError("INVALID_FILE", `${this.file}: cannot move it aside: ${(error as Error).message}`, {
        file: this.file,
        hint: "check the permissions of the data directory",
        cause: error,
      });
    }
    this.get();
    return movedTo;
  }

  close(): void {
    this.store?.close();
    this.store = undefined;
  }
}
