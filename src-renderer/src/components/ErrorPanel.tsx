import type { ReactNode } from "react";
import type { ContractError } from "../../../shared/contract.js";
import { toContractError } from "../contract/errors.js";

/** A ContractError as the user needs it: what went wrong, in which file and where, and what to do. */
export function ErrorPanel({
  error,
  title,
  children,
  compact = false,
}: {
  error: ContractError | unknown;
  title: string;
  /** Actions (retry, go back...). */
  children?: ReactNode;
  compact?: boolean;
}) {
  const info = isContractError(error) ? error : toContractError(error);
  return (
    <section className={compact ? "error-panel compact" : "error-panel"} role="alert" aria-label={title}>
      <h3 className="error-title">{title}</h3>
      <p className="error-message">{info.message}</p>
      {info.file !== undefined || info.path !== undefined ? (
        <dl className="error-where">
          {info.file !== undefined ? (
            <>
              <dt>File</dt>
              <dd>
                <code className="error-file">{info.file}</code>
              </dd>
            </>
          ) : null}
          {info.path !== undefined ? (
            <>
              <dt>Where</dt>
              <dd>
                <code className="error-path">{info.path}</code>
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {info.hint !== undefined ? (
        <p className="error-hint">
          <strong>What to do:</strong> {info.hint}
        </p>
      ) : null}
      <p className="error-code">
        <code>{info.code}</code>
      </p>
      {children ? <div className="error-actions">{children}</div> : null}
    </section>
  );
}

function isContractError(value: unknown): value is ContractError {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as ContractError).code === "string" &&
    typeof (value as ContractError).message === "string"
  );
}

/** An empty state that says what to do next. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}
